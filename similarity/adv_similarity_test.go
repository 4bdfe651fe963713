package similarity_test

// Adversarial tests of the counts, measures, indexes and their
// incremental paths, against naive models written from the package
// documentation.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// measures

// advFormula is the documented formula of m on (N, A, B, AB), with the
// documented values for zero denominators.
func advFormula(m similarity.Measure, c similarity.PairCount) float64 {
	n, a, b, ab := float64(c.N), float64(c.A), float64(c.B), float64(c.AB)
	switch m {
	case similarity.Jaccard:
		if a+b-ab == 0 {
			return 0
		}
		return ab / (a + b - ab)
	case similarity.Cosine:
		if a == 0 || b == 0 {
			return 0
		}
		return ab / math.Sqrt(a*b)
	case similarity.Lift:
		if a == 0 || b == 0 || n == 0 {
			return 0
		}
		return (ab / n) / ((a / n) * (b / n))
	case similarity.Confidence:
		if a == 0 {
			return 0
		}
		return ab / a
	case similarity.NPMI:
		if ab == 0 {
			return -1
		}
		if ab == n {
			return 1
		}
		return math.Log2((ab/n)/((a/n)*(b/n))) / -math.Log2(ab/n)
	case similarity.PMI:
		if ab == 0 {
			return math.Inf(-1)
		}
		return math.Log2((ab / n) / ((a / n) * (b / n)))
	case similarity.Leverage:
		if n == 0 {
			return 0
		}
		return ab/n - (a/n)*(b/n)
	case similarity.Conviction:
		if a == 0 || n == 0 {
			return 0
		}
		if ab == a {
			return math.Inf(1)
		}
		return (1 - b/n) / (1 - ab/a)
	case similarity.Support:
		if n == 0 {
			return 0
		}
		return ab / n
	case similarity.Dice:
		if a+b == 0 {
			return 0
		}
		return 2 * ab / (a + b)
	case similarity.Overlap:
		if min(a, b) == 0 {
			return 0
		}
		return ab / min(a, b)
	}
	return math.NaN()
}

var advCountMeasures = []similarity.Measure{
	similarity.Jaccard, similarity.Cosine, similarity.Lift, similarity.Confidence, similarity.NPMI,
	similarity.PMI, similarity.Leverage, similarity.Conviction, similarity.Support, similarity.Dice, similarity.Overlap,
}

// advRange is the documented range of m (for undirected counts).
func advRange(m similarity.Measure) (lo, hi float64) {
	switch m {
	case similarity.Lift:
		return 0, math.Inf(1)
	case similarity.NPMI:
		return -1, 1
	case similarity.PMI:
		return math.Inf(-1), math.Inf(1)
	case similarity.Leverage:
		return -0.25, 0.25
	case similarity.Conviction:
		return 0, math.Inf(1)
	}
	return 0, 1
}

// advAssertScore asserts that m scores c as advFormula does. The
// assertion runs only where a plain comparison fails (or cannot tell):
// its bookkeeping cost more than the formulas on thousands of random
// counts.
func advAssertScore(t *testing.T, m similarity.Measure, c similarity.PairCount, msg string) {
	got, want := m.Score(c), advFormula(m, c)
	switch {
	case math.IsInf(want, 0):
		if got != want {
			t.Helper()
			assert.Equal(t, want, got, "%v %+v %s", m, c, msg)
		}
	case math.IsNaN(want):
		if !math.IsNaN(got) {
			t.Helper()
			assert.True(t, math.IsNaN(got), "%v %+v %s: %v", m, c, msg, got)
		}
	default:
		if delta := 1e-9 * max(1, math.Abs(want)); !(math.Abs(want-got) <= delta) {
			t.Helper()
			assert.InDelta(t, want, got, delta, "%v %+v %s", m, c, msg)
		}
	}
}

func TestAdvMeasureEdgeCounts(t *testing.T) {
	cases := []similarity.PairCount{
		{}, // nothing at all
		{N: 1},
		{N: 1, A: 1},
		{N: 1, B: 1},
		{N: 1, A: 1, B: 1, AB: 1}, // the only transaction has both
		{N: 2, A: 1, B: 1},        // never together
		{N: 2, A: 1, B: 1, AB: 1},
		{N: 2, A: 2, B: 1, AB: 1},
		{N: 2, A: 2, B: 2, AB: 2},
		{N: 3, A: 2, B: 2, AB: 1},
		{N: 5, A: 0, B: 3},
		{N: 5, A: 3, B: 0},
		{N: 5, A: 3, B: 5, AB: 3}, // b everywhere, a always with b
		{N: 5, A: 5, B: 3, AB: 3},
		{N: 10, A: 4, B: 4, AB: 4}, // always together
		{N: 10, A: 4, B: 7, AB: 1},
		{N: 1 << 40, A: 1 << 39, B: 1 << 39, AB: 1 << 38}, // huge, independent
		{N: math.MaxInt32, A: 1, B: 1, AB: 1},
	}
	for _, c := range cases {
		require.True(t, c.Consistent(), "%+v", c)
		for _, m := range advCountMeasures {
			advAssertScore(t, m, c, "")
			v := m.Score(c)
			lo, hi := advRange(m)
			assert.False(t, math.IsNaN(v), "%v %+v", m, c)
			assert.True(t, v >= lo-1e-12 && v <= hi+1e-12, "%v %+v = %v not in [%v, %v]", m, c, v, lo, hi)
		}
		// documented values
		if c.A > 0 && c.AB == c.A {
			assert.Equal(t, math.Inf(1), similarity.Conviction.Score(c), "%+v: every a has b", c)
		}
		if c.N > 0 && c.AB == c.N {
			assert.Equal(t, 1.0, similarity.NPMI.Score(c), "%+v: P(a,b) = 1", c)
		}
		if c.AB == 0 {
			assert.Equal(t, math.Inf(-1), similarity.PMI.Score(c), "%+v", c)
			assert.Equal(t, -1.0, similarity.NPMI.Score(c), "%+v", c)
		}
		if c.A > 0 && c.B > 0 && c.AB > 0 && c.AB*c.N == c.A*c.B {
			assert.InDelta(t, 1, similarity.Lift.Score(c), 1e-12, "%+v independent", c)
			assert.InDelta(t, 0, similarity.PMI.Score(c), 1e-12, "%+v independent", c)
			assert.InDelta(t, 0, similarity.Leverage.Score(c), 1e-12, "%+v independent", c)
			if c.AB < c.N { // NPMI is 1 when P(a,b) = 1
				assert.InDelta(t, 0, similarity.NPMI.Score(c), 1e-12, "%+v independent", c)
			}
		}
	}
	bad := []similarity.PairCount{
		{N: 1, A: 2, B: 1, AB: 1}, {N: 3, A: 1, B: 1, AB: 2}, {N: 3, A: -1, B: 1}, {N: -1}, {N: 3, A: 1, B: 1, AB: -1}, {N: 2, A: 1, B: 3},
	}
	for _, c := range bad {
		assert.False(t, c.Consistent(), "%+v", c)
		for _, m := range advCountMeasures {
			assert.True(t, math.IsNaN(m.Score(c)), "%v of inconsistent %+v", m, c)
		}
	}
	for _, m := range []similarity.Measure{similarity.BM25, similarity.EASE, similarity.SVD} {
		assert.True(t, math.IsNaN(m.Score(similarity.PairCount{N: 4, A: 2, B: 2, AB: 1})), "%v", m)
	}
	// symmetric measures are symmetric; the directed ones say so
	for _, m := range advCountMeasures {
		c := similarity.PairCount{N: 9, A: 3, B: 5, AB: 2}
		r := similarity.PairCount{N: 9, A: 5, B: 3, AB: 2}
		if m.Directed() {
			assert.NotEqual(t, m.Score(c), m.Score(r), "%v", m)
		} else {
			assert.Equal(t, m.Score(c), m.Score(r), "%v", m)
		}
	}
}

func TestAdvMeasureRandomCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range testdata.Scale(50000, 5000) {
		n := rng.IntN(12)
		if rng.IntN(4) == 0 {
			n = rng.IntN(1 << 30)
		}
		a, b := 0, 0
		if n > 0 {
			a, b = rng.IntN(n+1), rng.IntN(n+1)
		}
		lo := max(0, a+b-n) // undirected: A + B − AB ≤ N
		ab := lo
		if hi := min(a, b); hi > lo {
			ab = lo + rng.IntN(hi-lo+1)
		}
		c := similarity.PairCount{N: n, A: a, B: b, AB: ab}
		for _, m := range advCountMeasures {
			advAssertScore(t, m, c, "")
			v := m.Score(c)
			lo, hi := advRange(m)
			if !(v >= lo-1e-9 && v <= hi+1e-9) { // require only on failure: it costs more than the check
				require.True(t, v >= lo-1e-9 && v <= hi+1e-9, "%v %+v = %v", m, c, v)
			}
			sh := similarity.Shrink(v, ab, 3)
			if !math.IsInf(v, 0) && ab >= 0 {
				want, delta := v*float64(ab)/(float64(ab)+3), 1e-12*max(1, math.Abs(v))
				if !(math.Abs(want-sh) <= delta) {
					require.InDelta(t, want, sh, delta)
				}
			}
		}
	}
}

// ---------------------------------------------------------------------
// a naive shop

type advLine struct {
	cust, order, prod string
	at                time.Time
	qty               int32
}

type advEvent struct {
	cust, prod string
	at         time.Time
	kind       affinity.EventKind
}

type advShop struct {
	products []string
	lines    []advLine
	events   []advEvent
}

var advT0 = time.Date(2024, 2, 27, 22, 0, 0, 0, time.UTC)

type advGen struct {
	customers, products, orders, maxLines, events int
	span                                          time.Duration // orders in [advT0, advT0+span)
}

func advRandomShop(rng *rand.Rand, g advGen) advShop {
	var s advShop
	for p := range g.products {
		s.products = append(s.products, fmt.Sprintf("p%03d", p))
	}
	prod := func() string {
		x := rng.Float64()
		return s.products[int(x*x*float64(g.products))]
	}
	at := func() time.Time {
		t := advT0.Add(time.Duration(rng.Int64N(int64(g.span/time.Second))) * time.Second)
		if rng.IntN(10) == 0 {
			t = t.Add(time.Duration(rng.IntN(1e9))) // sub-second parts are dropped
		}
		return t
	}
	for i := range g.orders {
		cust := fmt.Sprintf("c%02d", rng.IntN(g.customers))
		if rng.IntN(7) == 0 {
			cust = ""
		}
		key := fmt.Sprintf("o%d", i)
		switch rng.IntN(8) {
		case 0:
			key = "" // one order per customer and second
		case 1:
			key = fmt.Sprintf("o%d", rng.IntN(max(1, i))) // joins an earlier order of the customer, if any
		}
		when := at()
		for range 1 + rng.IntN(g.maxLines) {
			q := int32(1 + rng.IntN(2))
			if rng.IntN(9) == 0 {
				q = -q
			}
			lt := when
			if key != "" && rng.IntN(3) == 0 {
				lt = lt.Add(time.Duration(rng.IntN(5)-2) * time.Second) // the order's time is the earliest line's
			}
			s.lines = append(s.lines, advLine{cust: cust, order: key, prod: prod(), at: lt, qty: q})
		}
	}
	kinds := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Rating, affinity.Wishlist}
	for range g.events {
		s.events = append(s.events, advEvent{cust: fmt.Sprintf("c%02d", rng.IntN(g.customers)), prod: prod(), at: at(), kind: kinds[rng.IntN(len(kinds))]})
	}
	return s
}

func (s advShop) history(t testing.TB, keep func(cust string, line int) bool) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range s.products {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
	}
	for i, l := range s.lines {
		if keep == nil || keep(l.cust, i) {
			require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: l.at, Quantity: l.qty, Price: 100}))
		}
	}
	for i, e := range s.events {
		if keep == nil || keep(e.cust, -1-i) {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: e.at, Kind: e.kind, Weight: 1}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

type advCounts struct {
	n       int
	support map[string]int
	pair    map[[2]string]int
}

// advNaiveCount counts s as the documentation describes, without caps.
func advNaiveCount(s advShop, asOf time.Time, o similarity.CountOptions) advCounts {
	lb := o.Lookback.Or(affinity.AllTime)
	start := lb.Start(asOf)
	in := func(sec int64) bool {
		t := time.Unix(sec, 0)
		return !t.After(asOf) && (lb.All || t.After(start))
	}
	ex := map[string]bool{}
	for i, k := range s.products {
		ex[k] = o.Exclude != nil && o.Exclude.Contains(uint32(i))
	}
	excluded := func(p string) bool { return ex[p] }
	type okey struct {
		cust, key string
		sec       int64
	}
	idOf := func(l advLine) okey {
		if l.order == "" {
			return okey{l.cust, "", l.at.Unix()}
		}
		return okey{cust: l.cust, key: l.order}
	}
	otime := map[okey]int64{}
	for _, l := range s.lines {
		k := idOf(l)
		if t, ok := otime[k]; !ok || l.at.Unix() < t {
			otime[k] = l.at.Unix()
		}
	}
	type entry struct {
		sec int64
		p   string
	}
	sets := map[okey]map[string]bool{}
	timeline := map[string][]entry{}
	add := func(k okey, p string) {
		if sets[k] == nil {
			sets[k] = map[string]bool{}
		}
		sets[k][p] = true
	}
	for _, l := range s.lines {
		k := idOf(l)
		ot := otime[k]
		if l.qty <= 0 || !in(ot) || excluded(l.prod) {
			continue
		}
		switch o.Scope {
		case similarity.Basket:
			add(k, l.prod)
		case similarity.Customer:
			if l.cust != "" {
				add(okey{cust: l.cust}, l.prod)
			}
		case similarity.Sequential:
			if l.cust != "" {
				timeline[l.cust] = append(timeline[l.cust], entry{ot, l.prod})
			}
		}
	}
	if o.Events {
		for _, e := range s.events {
			if !in(e.at.Unix()) || excluded(e.prod) {
				continue
			}
			if o.Scope == similarity.Sequential {
				timeline[e.cust] = append(timeline[e.cust], entry{e.at.Unix(), e.prod})
			} else {
				add(okey{cust: e.cust}, e.prod)
			}
		}
	}
	r := advCounts{support: map[string]int{}, pair: map[[2]string]int{}}
	if o.Scope == similarity.Sequential {
		w := cmp.Or(o.Window, similarity.DefaultWindow)
		for _, tl := range timeline {
			r.n++
			seen := map[string]bool{}
			pairs := map[[2]string]bool{}
			for _, x := range tl {
				seen[x.p] = true
				for _, y := range tl {
					if x.p != y.p && y.sec > x.sec && time.Duration(y.sec-x.sec)*time.Second <= w {
						pairs[[2]string{x.p, y.p}] = true
					}
				}
			}
			for p := range seen {
				r.support[p]++
			}
			for pr := range pairs {
				r.pair[pr]++
			}
		}
		return r
	}
	for _, set := range sets {
		r.n++
		for a := range set {
			r.support[a]++
			for b := range set {
				if a != b {
					r.pair[[2]string{a, b}]++
				}
			}
		}
	}
	return r
}

func advRequireCounts(t *testing.T, want advCounts, c *similarity.Counts, cat *affinity.Catalog, msg string) {
	t.Helper()
	require.Equal(t, want.n, c.Total(), "N %s", msg)
	np := cat.NumProducts()
	require.Equal(t, np, c.NumProducts(), msg)
	pairs := 0
	for a := range affinity.ProductID(np) {
		ka := cat.ProductKey(a)
		if want.support[ka] != c.Support(a) {
			require.Equal(t, want.support[ka], c.Support(a), "support of %s %s", ka, msg)
		}
		cols, vals := c.Row(a)
		require.Equal(t, len(cols), len(vals))
		require.True(t, slices.IsSorted(cols), msg)
		if len(cols) > 0 && cols[len(cols)-1] >= affinity.ProductID(np) {
			require.Fail(t, "column out of range", msg)
		}
		pairs += len(cols)
		for i, b := range cols {
			kb := cat.ProductKey(b)
			if a == b || want.pair[[2]string{ka, kb}] != int(vals[i]) {
				require.Equal(t, want.pair[[2]string{ka, kb}], int(vals[i]), "row %s: %s %s", ka, kb, msg)
				require.NotEqual(t, a, b, msg)
			}
		}
	}
	// every stored entry is a distinct pair the model has with the same
	// count: equal numbers mean that none is missing
	require.Equal(t, len(want.pair), pairs, "stored pairs %s", msg)
	require.Equal(t, pairs, c.NumPairs(), msg)
	for pr, w := range want.pair {
		a, _ := cat.LookupProduct(pr[0])
		b, _ := cat.LookupProduct(pr[1])
		pc := c.PairCount(a, b)
		if pc != (similarity.PairCount{N: want.n, A: want.support[pr[0]], B: want.support[pr[1]], AB: w}) || !pc.Consistent() {
			require.Equal(t, similarity.PairCount{N: want.n, A: want.support[pr[0]], B: want.support[pr[1]], AB: w}, pc, msg)
			require.True(t, pc.Consistent(), msg)
		}
	}
	for a := range affinity.ProductID(min(np, 3)) {
		require.Zero(t, c.Pair(a, a), "no self pair")
		require.Equal(t, similarity.PairCount{N: want.n, A: c.Support(a), B: c.Support(a)}, c.PairCount(a, a))
	}
	// unknown products
	require.Zero(t, c.Support(affinity.ProductID(np)))
	require.Zero(t, c.Support(math.MaxUint32))
	cols, vals := c.Row(affinity.ProductID(np))
	require.Nil(t, cols)
	require.Nil(t, vals)
	cols, vals = c.Row(math.MaxUint32)
	require.Nil(t, cols)
	require.Nil(t, vals)
	require.Zero(t, c.Pair(0, affinity.ProductID(np)))
	require.Zero(t, c.Pair(affinity.ProductID(np), 0))
	require.Equal(t, similarity.PairCount{N: want.n}, c.PairCount(affinity.ProductID(np), math.MaxUint32))
}

// ---------------------------------------------------------------------
// Count

func TestAdvCountMatchesNaive(t *testing.T) {
	ctx := context.Background()
	// quick: seeds 0–4, catalogs of 1, 63, 64 and 130 products and one
	// large catalog (seed 2)
	for seed := range uint64(testdata.Scale(40, 5)) {
		rng := rand.New(rand.NewPCG(seed, 1001))
		np := []int{1, 2, 63, 64, 65, 130}[rng.IntN(6)]
		g := advGen{customers: 1 + rng.IntN(20), products: np, orders: rng.IntN(90), maxLines: 1 + rng.IntN(7), events: rng.IntN(60), span: time.Duration(1+rng.IntN(5)) * 24 * time.Hour}
		if seed%3 == 2 {
			// a large catalog: long rows that are still sparse
			np = 1500 + rng.IntN(1500)
			g = advGen{customers: 60, products: np, orders: 500, maxLines: 8, events: 100, span: 4 * 24 * time.Hour}
		}
		s := advRandomShop(rng, g)
		h := s.history(t, nil)
		latest := h.Latest()
		if latest.IsZero() {
			latest = advT0
		}
		asOfs := []time.Time{
			latest,
			advT0.Add(-time.Second),   // before the first order
			latest.AddDate(50, 0, 0),  // far future
			advT0.Add(36 * time.Hour), // midway
			advT0.Add(36*time.Hour + 999*time.Millisecond), // sub-second as-of
			latest.In(time.FixedZone("X", -11*3600)),       // another zone, same instant
		}
		if len(s.lines) > 0 {
			asOfs = append(asOfs, s.lines[rng.IntN(len(s.lines))].at) // exactly at a line
		}
		lookbacks := []affinity.Lookback{{}, affinity.AllTime, affinity.Days(1), affinity.Months(1), {Duration: 90 * time.Minute}, {Months: 1, Duration: time.Hour}}
		windows := []time.Duration{0, time.Second, 1500 * time.Millisecond, 999 * time.Millisecond, time.Hour, 36 * time.Hour, math.MaxInt64}
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			for range 3 {
				o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Workers: []int{0, 1, 2, 3, 5000, -1}[rng.IntN(6)],
					Lookback: lookbacks[rng.IntN(len(lookbacks))]}
				if rng.IntN(3) == 0 {
					o.MaxBasket = 1000 // above every transaction: no sampling
				}
				if scope == similarity.Sequential {
					o.Window = windows[rng.IntN(len(windows))]
				}
				if scope != similarity.Basket {
					o.Events = rng.IntN(2) == 0
				}
				if rng.IntN(3) == 0 {
					o.Exclude = roaring.New()
					for range 1 + rng.IntN(3) {
						o.Exclude.Add(uint32(rng.IntN(np + 2))) // ids past the catalog are ignored
					}
				}
				asOf := asOfs[rng.IntN(len(asOfs))]
				msg := fmt.Sprintf("seed %d %v asOf %v lookback %v window %v events %v exclude %v workers %d", seed, scope, asOf, o.Lookback, o.Window, o.Events, o.Exclude, o.Workers)
				c, err := similarity.Count(ctx, h, asOf, o)
				require.NoError(t, err, msg)
				assert.Equal(t, scope, c.Scope())
				assert.Equal(t, scope == similarity.Sequential, c.Directed())
				advRequireCounts(t, advNaiveCount(s, asOf, o), c, h.Catalog(), msg)
				if scope != similarity.Sequential {
					for a := range affinity.ProductID(c.NumProducts()) {
						cols, vals := c.Row(a)
						for i, b := range cols {
							require.Equal(t, int(vals[i]), c.Pair(b, a), "symmetric %s", msg)
						}
					}
				}
			}
		}
	}
}

// TestAdvCountOrderIdentity pins what an order is: lines with the same
// customer and order id, or without an id at the same second; its time is
// its earliest line's, returns included.
func TestAdvCountOrderIdentity(t *testing.T) {
	ctx := context.Background()
	s := advShop{products: []string{"a", "b", "c", "d"}}
	l := func(cust, order, prod string, sec int, qty int32) {
		s.lines = append(s.lines, advLine{cust: cust, order: order, prod: prod, at: advT0.Add(time.Duration(sec) * time.Second), qty: qty})
	}
	l("", "", "a", 0, 1) // anonymous, no id, same second: one basket
	l("", "", "b", 0, 1)
	l("", "", "c", 1, 1) // another second: another basket
	l("", "", "d", 1, 1)
	l("x", "k", "a", 10, 1) // the same id for two customers: two orders
	l("y", "k", "b", 10, 1)
	l("x", "r", "c", 20, -1) // returns only: no basket
	l("y", "m", "a", 30, 1)  // bought and returned: still bought
	l("y", "m", "a", 30, -1)
	l("y", "m", "d", 30, 1)
	l("z", "e", "b", 100, -1) // a return at 100 makes the order's time 100 …
	l("z", "e", "c", 200, 1)  // … so this line counts as of 150
	l("z", "e", "d", 200, 1)
	h := s.history(t, nil)
	cat := h.Catalog()
	id := func(k string) affinity.ProductID { p, ok := cat.LookupProduct(k); require.True(t, ok); return p }
	for _, asOf := range []time.Time{advT0.Add(150 * time.Second), advT0.Add(time.Hour), advT0, advT0.Add(-time.Nanosecond)} {
		o := similarity.CountOptions{}
		c, err := similarity.Count(ctx, h, asOf, o)
		require.NoError(t, err)
		advRequireCounts(t, advNaiveCount(s, asOf, o), c, cat, asOf.String())
	}
	c, err := similarity.Count(ctx, h, advT0.Add(150*time.Second), similarity.CountOptions{})
	require.NoError(t, err)
	assert.Equal(t, 6, c.Total(), "baskets {a,b} {c,d} {a} {b} {a,d} and {c,d}, whose time is its return's, 100 s")
	assert.Equal(t, 2, c.Pair(id("c"), id("d")))
	cu, err := similarity.Count(ctx, h, advT0.Add(time.Hour), similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	assert.Equal(t, 3, cu.Total(), "x, y, z; anonymous orders are not customers")
}

func TestAdvCountSequentialDetails(t *testing.T) {
	ctx := context.Background()
	s := advShop{products: []string{"a", "b", "c"}}
	l := func(cust, order, prod string, sec int) {
		s.lines = append(s.lines, advLine{cust: cust, order: order, prod: prod, at: advT0.Add(time.Duration(sec) * time.Second), qty: 1})
	}
	e := func(cust, prod string, sec int) {
		s.events = append(s.events, advEvent{cust: cust, prod: prod, at: advT0.Add(time.Duration(sec) * time.Second), kind: affinity.View})
	}
	// repeats of a: the pair counts once per customer
	l("u", "1", "a", 0)
	l("u", "2", "b", 5)
	l("u", "3", "a", 6)
	l("u", "4", "b", 7)
	// b's only purchase precedes a's
	l("v", "1", "b", 0)
	l("v", "2", "a", 1)
	// a then a then b, the b within the window of the second a only
	l("w", "1", "a", 0)
	l("w", "2", "a", 50)
	l("w", "3", "b", 55)
	// events only, unsorted calls; with an order at the same second
	e("x", "c", 40)
	e("x", "a", 10)
	e("x", "b", 10)
	l("x", "1", "b", 40)
	e("y", "b", 3)
	e("y", "a", 2)
	e("y", "c", 2)
	h := s.history(t, nil)
	for _, w := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Hour} {
		for _, ev := range []bool{false, true} {
			o := similarity.CountOptions{Scope: similarity.Sequential, Window: w, Events: ev}
			c, err := similarity.Count(ctx, h, advT0.Add(time.Hour), o)
			require.NoError(t, err)
			advRequireCounts(t, advNaiveCount(s, advT0.Add(time.Hour), o), c, h.Catalog(), fmt.Sprintf("window %v events %v", w, ev))
		}
	}
}

func TestAdvCountOptionErrors(t *testing.T) {
	ctx := context.Background()
	s := advRandomShop(rand.New(rand.NewPCG(1, 2)), advGen{customers: 3, products: 4, orders: 10, maxLines: 3, span: time.Hour})
	h := s.history(t, nil)
	asOf := h.Latest()
	for name, o := range map[string]similarity.CountOptions{
		"basket events":   {Scope: similarity.Basket, Events: true},
		"negative window": {Scope: similarity.Sequential, Window: -time.Second},
		"unknown scope":   {Scope: 3},
		"negative scope":  {Scope: -1},
		"bad lookback":    {Lookback: affinity.Lookback{Months: -1}},
	} {
		_, err := similarity.Count(ctx, h, asOf, o)
		assert.Error(t, err, name)
		_, err = similarity.Recount(ctx, nil, nil, h, asOf, o)
		assert.Error(t, err, name)
	}
	_, err := similarity.Count(ctx, h, time.Time{}, similarity.CountOptions{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = similarity.Recount(ctx, nil, nil, h, time.Time{}, similarity.CountOptions{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = similarity.Count(ctx, nil, asOf, similarity.CountOptions{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	//lint:ignore SA1012 a nil context is an error, documented
	_, err = similarity.Count(nil, h, asOf, similarity.CountOptions{}) //nolint:staticcheck
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	_, err = similarity.Recount(ctx, nil, nil, nil, asOf, similarity.CountOptions{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	_, err = similarity.NewIndex(ctx, nil, similarity.IndexOptions{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	_, err = similarity.Sum(ctx, nil)
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	_, err = similarity.Sum(ctx)
	require.Error(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	_, err = similarity.Count(cancelled, h, asOf, similarity.CountOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = similarity.Recount(cancelled, c, h, h, asOf, similarity.CountOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = similarity.NewIndex(cancelled, c, similarity.IndexOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = similarity.Sum(cancelled, c, c)
	require.ErrorIs(t, err, context.Canceled)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	_, err = similarity.Reindex(cancelled, x, c, c, similarity.IndexOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestAdvMaxBasket checks the cap's documented properties: at most
// MaxBasket products a transaction, the same sample for the same shop ids
// (Customer and Sequential sample the customer alike), exclusions not
// toward the cap.
func TestAdvMaxBasket(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(20, 4)) {
		rng := rand.New(rand.NewPCG(seed, 77))
		s := advRandomShop(rng, advGen{customers: 8, products: 30, orders: 60, maxLines: 12, events: 40, span: 10 * 24 * time.Hour})
		h := s.history(t, nil)
		asOf := h.Latest()
		for _, m := range []int{1, 2, 5} {
			ev := rng.IntN(2) == 0
			cu, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Customer, MaxBasket: m, Events: ev})
			require.NoError(t, err)
			sq, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Sequential, MaxBasket: m, Window: math.MaxInt64, Events: ev})
			require.NoError(t, err)
			full, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Customer, MaxBasket: -1, Events: ev})
			require.NoError(t, err)
			require.Equal(t, full.Total(), cu.Total())
			require.Equal(t, cu.Total(), sq.Total())
			sum := 0
			for a := range affinity.ProductID(cu.NumProducts()) {
				require.Equal(t, cu.Support(a), sq.Support(a), "seed %d cap %d: a customer's sample is the same in both scopes", seed, m)
				require.LessOrEqual(t, cu.Support(a), full.Support(a))
				sum += cu.Support(a)
				cols, vals := cu.Row(a)
				for i, b := range cols {
					require.LessOrEqual(t, int(vals[i]), full.Pair(a, b))
					// a pair in the sample is in both scopes' samples: a
					// sequential pair needs both in the sample
					require.LessOrEqual(t, sq.Pair(a, b), int(vals[i]))
				}
				if m == 1 {
					require.Empty(t, cols, "a cap of 1 leaves no pairs")
				}
			}
			require.LessOrEqual(t, sum, m*cu.Total())
			if m == 1 {
				require.Equal(t, cu.Total(), sum)
			}
		}
	}
	// excluded products do not count toward the cap
	s := advShop{products: []string{"fee", "a", "b", "c"}}
	for _, p := range []string{"fee", "a", "b", "c"} {
		s.lines = append(s.lines, advLine{cust: "u", order: "1", prod: p, at: advT0, qty: 1})
	}
	h := s.history(t, nil)
	c, err := similarity.Count(ctx, h, advT0, similarity.CountOptions{MaxBasket: 3, Exclude: roaring.BitmapOf(0)})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 1, 1}, []int{c.Support(0), c.Support(1), c.Support(2), c.Support(3)})
	assert.Equal(t, 6, c.NumPairs())
}

// ---------------------------------------------------------------------
// Sum

func TestAdvSumOfShardsIsCount(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(30, 5)) {
		rng := rand.New(rand.NewPCG(seed, 555))
		s := advRandomShop(rng, advGen{customers: 1 + rng.IntN(15), products: 1 + rng.IntN(70), orders: rng.IntN(80), maxLines: 1 + rng.IntN(8), events: rng.IntN(30), span: 3 * 24 * time.Hour})
		whole := s.history(t, nil)
		shards := 1 + rng.IntN(4)
		shardOf := map[string]int{}
		anon := map[string]int{}
		var hs []*affinity.History
		for i := range shards {
			hs = append(hs, s.history(t, func(cust string, line int) bool {
				if cust == "" {
					// anonymous orders go to any shard, whole
					l := s.lines[line]
					k := l.order + "|" + fmt.Sprint(l.at.Unix())
					if l.order != "" {
						k = l.order
					}
					if _, ok := anon[k]; !ok {
						anon[k] = rng.IntN(shards)
					}
					return anon[k] == i
				}
				if _, ok := shardOf[cust]; !ok {
					shardOf[cust] = rng.IntN(shards)
				}
				return shardOf[cust] == i
			}))
		}
		asOf := whole.Latest()
		if asOf.IsZero() {
			asOf = advT0
		}
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			o := similarity.CountOptions{Scope: scope, MaxBasket: 1 + rng.IntN(6), Window: time.Duration(1+rng.IntN(48)) * time.Hour, Events: scope != similarity.Basket && rng.IntN(2) == 0}
			if rng.IntN(3) == 0 {
				o.MaxBasket = -1
			}
			want, err := similarity.Count(ctx, whole, asOf, o)
			require.NoError(t, err)
			var parts []*similarity.Counts
			for _, hh := range hs {
				p, err := similarity.Count(ctx, hh, asOf, o)
				require.NoError(t, err)
				parts = append(parts, p)
			}
			got, err := similarity.Sum(ctx, parts...)
			require.NoError(t, err)
			msg := fmt.Sprintf("seed %d %v shards %d", seed, scope, shards)
			advRequireSameCounts(t, want, got, msg)
			if scope != similarity.Sequential {
				io := similarity.IndexOptions{Measure: similarity.BM25, K: 4, MinSupport: 1}
				wi, err := similarity.NewIndex(ctx, want, io)
				require.NoError(t, err)
				gi, err := similarity.NewIndex(ctx, got, io)
				require.NoError(t, err)
				advRequireSameIndex(t, wi, gi, "BM25 of the sum "+msg)
			}
			// the parts are not modified
			for i, hh := range hs {
				p, err := similarity.Count(ctx, hh, asOf, o)
				require.NoError(t, err)
				advRequireSameCounts(t, p, parts[i], msg)
			}
		}
	}
}

// advCountsCopy is a plain copy of a Counts' numbers, taken without
// asking it for its transactions.
type advCountsCopy struct {
	n, np, pairs int
	support      []int
	cols         [][]affinity.ProductID
	vals         [][]uint32
}

func advCopyCounts(c *similarity.Counts) advCountsCopy {
	cp := advCountsCopy{n: c.Total(), np: c.NumProducts(), pairs: c.NumPairs()}
	for a := range affinity.ProductID(c.NumProducts()) {
		cp.support = append(cp.support, c.Support(a))
		cols, vals := c.Row(a)
		cp.cols = append(cp.cols, slices.Clone(cols))
		cp.vals = append(cp.vals, slices.Clone(vals))
	}
	return cp
}

func advRequireSameCounts(t *testing.T, want, got *similarity.Counts, msg string) {
	t.Helper()
	require.Equal(t, want.Total(), got.Total(), "N %s", msg)
	require.Equal(t, want.NumProducts(), got.NumProducts(), msg)
	require.Equal(t, want.NumPairs(), got.NumPairs(), msg)
	require.Equal(t, want.Scope(), got.Scope(), msg)
	for a := range affinity.ProductID(want.NumProducts()) {
		wc, wv := want.Row(a)
		gc, gv := got.Row(a)
		if want.Support(a) == got.Support(a) && sameSlice(wc, gc) && sameSlice(wv, gv) {
			continue // what require.Equal would pass, without its cost
		}
		require.Equal(t, want.Support(a), got.Support(a), "support %d %s", a, msg)
		require.Equal(t, wc, gc, "row %d %s", a, msg)
		require.Equal(t, wv, gv, "row %d %s", a, msg)
	}
}

func advRequireSameIndex(t *testing.T, want, got *similarity.Index, msg string) {
	t.Helper()
	require.Equal(t, want.NumProducts(), got.NumProducts(), msg)
	require.Equal(t, want.Total(), got.Total(), msg)
	require.Equal(t, want.Measure(), got.Measure(), msg)
	require.Equal(t, want.Scope(), got.Scope(), msg)
	require.Equal(t, want.Directed(), got.Directed(), msg)
	require.Equal(t, want.K(), got.K(), msg)
	require.Equal(t, want.MinSupport(), got.MinSupport(), msg)
	require.Equal(t, want.Shrinkage(), got.Shrinkage(), msg)
	require.Equal(t, want.NumNeighbors(), got.NumNeighbors(), msg)
	for a := range affinity.ProductID(want.NumProducts()) {
		w, g := want.Neighbors(a), got.Neighbors(a)
		if want.Support(a) == got.Support(a) && (len(w) == 0 && len(g) == 0 || sameSlice(w, g)) {
			continue // what the checks below would pass, without their cost
		}
		require.Equal(t, want.Support(a), got.Support(a), "support %d %s", a, msg)
		if len(w) == 0 {
			require.Empty(t, g, "neighbours of %d %s", a, msg)
			continue
		}
		require.Equal(t, w, g, "neighbours of %d %s", a, msg)
	}
}

// ---------------------------------------------------------------------
// NewIndex

// advNaiveIndex scores every pair of c with Measure.Score and Shrink and
// keeps the K best (score as stored, float32, descending; ties by id).
func advNaiveIndex(c *similarity.Counts, o similarity.IndexOptions) [][]similarity.Neighbor {
	k := cmp.Or(o.K, similarity.DefaultK)
	minSup := cmp.Or(o.MinSupport, similarity.DefaultMinSupport)
	np := c.NumProducts()
	rows := make([][]similarity.Neighbor, np)
	for a := range affinity.ProductID(np) {
		var row []similarity.Neighbor
		for b := range affinity.ProductID(np) {
			pc := c.PairCount(a, b)
			if a == b || pc.AB < minSup || pc.AB == 0 {
				continue
			}
			v := similarity.Shrink(o.Measure.Score(pc), pc.AB, o.Shrinkage)
			v = max(-math.MaxFloat32, min(math.MaxFloat32, v))
			row = append(row, similarity.Neighbor{Product: b, Score: float32(v), Count: uint32(pc.AB)})
		}
		slices.SortFunc(row, func(x, y similarity.Neighbor) int {
			return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
		})
		rows[a] = row[:min(k, len(row))]
	}
	return rows
}

func TestAdvNewIndexMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(30, 5)) {
		rng := rand.New(rand.NewPCG(seed, 4242))
		np := []int{2, 3, 40, 64, 65, 100}[rng.IntN(6)]
		s := advRandomShop(rng, advGen{customers: 2 + rng.IntN(25), products: np, orders: 20 + rng.IntN(150), maxLines: 2 + rng.IntN(10), events: rng.IntN(80), span: 4 * 24 * time.Hour})
		h := s.history(t, nil)
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope, Events: scope != similarity.Basket, Window: 12 * time.Hour})
			require.NoError(t, err)
			for _, m := range advCountMeasures {
				o := similarity.IndexOptions{Measure: m, K: []int{0, 1, 2, 3, 7, 1000}[rng.IntN(6)], MinSupport: rng.IntN(4), Workers: 1 + rng.IntN(3)}
				if rng.IntN(2) == 0 {
					o.Shrinkage = []float64{0.5, 1, 10}[rng.IntN(3)]
				}
				msg := fmt.Sprintf("seed %d %v %v %+v", seed, scope, m, o)
				x, err := similarity.NewIndex(ctx, c, o)
				require.NoError(t, err, msg)
				require.Equal(t, m, x.Measure())
				require.Equal(t, cmp.Or(o.K, similarity.DefaultK), x.K(), msg)
				require.Equal(t, cmp.Or(o.MinSupport, similarity.DefaultMinSupport), x.MinSupport(), msg)
				require.Equal(t, o.Shrinkage, x.Shrinkage(), msg)
				require.Equal(t, c.Total(), x.Total(), msg)
				require.Equal(t, scope == similarity.Sequential, x.Directed(), msg)
				want := advNaiveIndex(c, o)
				total := 0
				for a := range affinity.ProductID(np) {
					got := x.Neighbors(a)
					total += len(got)
					if c.Support(a) != x.Support(a) || !(len(want[a]) == 0 && len(got) == 0 || sameSlice(want[a], got)) {
						require.Equal(t, c.Support(a), x.Support(a), msg)
						if len(want[a]) == 0 {
							require.Empty(t, got, "%s row %d", msg, a)
						} else {
							require.Equal(t, want[a], got, "%s row %d", msg, a)
						}
					}
					for _, nb := range got {
						if bad := math.IsInf(float64(nb.Score), 0) || math.IsNaN(float64(nb.Score)); bad || a == nb.Product {
							require.False(t, bad, msg)
							require.NotEqual(t, a, nb.Product)
						}
					}
				}
				require.Equal(t, total, x.NumNeighbors(), msg)
				require.Empty(t, x.Neighbors(affinity.ProductID(np)))
				require.Zero(t, x.Support(affinity.ProductID(np)))
				// symmetric measures on symmetric counts score a pair alike
				// from both ends
				if !m.Directed() && scope != similarity.Sequential {
					for a := range affinity.ProductID(np) {
						for _, nb := range x.Neighbors(a) {
							for _, back := range x.Neighbors(nb.Product) {
								if back.Product == a && (nb.Score != back.Score || nb.Count != back.Count) {
									require.Equal(t, nb.Score, back.Score, "%s: %d-%d", msg, a, nb.Product)
									require.Equal(t, nb.Count, back.Count, msg)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestAdvNewIndexTies builds counts where every pair scores alike, so that
// the K kept are decided by product id alone, at sizes around the
// selection's buffers.
func TestAdvNewIndexTies(t *testing.T) {
	ctx := context.Background()
	for _, np := range []int{2, 9, 17, 64, 65, 129} {
		s := advShop{}
		for p := range np {
			s.products = append(s.products, fmt.Sprintf("p%03d", p))
		}
		// every product in two baskets with every other: a complete
		// graph of equal co-counts and supports
		for r := range 2 {
			for _, p := range s.products {
				s.lines = append(s.lines, advLine{cust: fmt.Sprintf("c%d", r), order: fmt.Sprintf("o%d", r), prod: p, at: advT0, qty: 1})
			}
		}
		h := s.history(t, nil)
		c, err := similarity.Count(ctx, h, advT0, similarity.CountOptions{MaxBasket: -1})
		require.NoError(t, err)
		for _, m := range advCountMeasures {
			for _, k := range []int{1, 2, 5, 8, 50} {
				x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m, K: k, MinSupport: 1, Workers: 2})
				require.NoError(t, err)
				for a := range affinity.ProductID(np) {
					var want []affinity.ProductID
					for b := range affinity.ProductID(np) {
						if b != a && len(want) < k {
							want = append(want, b)
						}
					}
					var got []affinity.ProductID
					for _, nb := range x.Neighbors(a) {
						got = append(got, nb.Product)
					}
					require.Equal(t, want, got, "%v np %d K %d row %d", m, np, k, a)
				}
			}
		}
	}
}

func TestAdvNewIndexOptionErrors(t *testing.T) {
	ctx := context.Background()
	s := advRandomShop(rand.New(rand.NewPCG(3, 3)), advGen{customers: 3, products: 5, orders: 10, maxLines: 3, span: time.Hour})
	h := s.history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	for name, o := range map[string]similarity.IndexOptions{
		"negative shrinkage": {Shrinkage: -1},
		"NaN shrinkage":      {Shrinkage: math.NaN()},
		"inf shrinkage":      {Shrinkage: math.Inf(1)},
		"unknown measure":    {Measure: 99},
		"negative measure":   {Measure: -1},
		"EASE":               {Measure: similarity.EASE},
		"SVD":                {Measure: similarity.SVD},
	} {
		_, err := similarity.NewIndex(ctx, c, o)
		assert.Error(t, err, name)
		_, err = similarity.Reindex(ctx, nil, nil, c, o)
		assert.Error(t, err, name)
	}
}

// ---------------------------------------------------------------------
// Recount and Reindex

type advFeed struct {
	r        *rand.Rand
	nCust    int
	nProd    int
	nKey     int
	newProds int
	span     time.Duration
	version  int64
}

func (g *advFeed) cust() string {
	if g.r.IntN(7) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", g.r.IntN(g.nCust))
}

func (g *advFeed) key() string {
	if g.r.IntN(6) == 0 {
		return ""
	}
	return fmt.Sprintf("o%d", g.r.IntN(g.nKey))
}

func (g *advFeed) prod() string {
	if g.r.IntN(12) == 0 {
		g.newProds++
		return fmt.Sprintf("n%d", g.newProds) // a product the History has not seen
	}
	x := g.r.Float64()
	return fmt.Sprintf("p%d", int(x*x*float64(g.nProd)))
}

func (g *advFeed) line(cust, order string) affinity.Purchase {
	q := int32(1 + g.r.IntN(3))
	if g.r.IntN(8) == 0 {
		q = -q
	}
	return affinity.Purchase{Customer: cust, Product: g.prod(), Order: order,
		Time: advT0.Add(time.Duration(g.r.Int64N(int64(g.span/time.Second))) * time.Second), Quantity: q, Price: 100}
}

func (g *advFeed) change(t *testing.T, b *affinity.Builder) {
	g.version++
	switch k := g.r.IntN(14); {
	case k == 0:
		b.EraseCustomer(g.cust())
	case k <= 2:
		require.NoError(t, b.DeleteOrder(fmt.Sprintf("o%d", g.r.IntN(g.nKey)), g.version))
	case k <= 5:
		c := g.cust()
		lines := make([]affinity.Purchase, 1+g.r.IntN(5))
		for i := range lines {
			lines[i] = g.line(c, "")
		}
		require.NoError(t, b.PutOrder(fmt.Sprintf("o%d", g.r.IntN(g.nKey)), g.version, lines))
	case k == 6:
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("x%d", g.version)}))
	case k == 7:
		require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprintf("c%d", g.r.IntN(g.nCust)), Product: g.prod(), Time: advT0.Add(time.Duration(g.r.IntN(1000)) * time.Minute), Kind: affinity.View, Weight: 1}))
	case k == 8:
		g.nCust++ // a new customer
		require.NoError(t, b.Add(g.line(fmt.Sprintf("c%d", g.nCust-1), g.key())))
	default:
		c, o := g.cust(), g.key()
		for range 1 + g.r.IntN(3) {
			require.NoError(t, b.Add(g.line(c, o)))
		}
	}
}

// TestAdvRecountReindexMatchScratch refreshes random Histories through
// random feeds — new, changed, deleted and replaced orders, erasures, new
// customers and products, events, a moved as-of time and other options,
// two Histories built on one base, refreshes that skip a generation — and
// checks Recount against Count and Reindex against NewIndex at every step.
func TestAdvRecountReindexMatchScratch(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(400, 60)) {
		r := rand.New(rand.NewPCG(seed, 2718))
		g := &advFeed{r: r, nCust: 1 + r.IntN(15), nProd: 1 + r.IntN(80), nKey: 1 + r.IntN(40), span: time.Duration(1+r.IntN(72)) * time.Hour}
		var b affinity.Builder
		for range r.IntN(120) {
			require.NoError(t, b.Add(g.line(g.cust(), g.key())))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		scope := similarity.Basket
		if r.IntN(5) == 0 {
			scope = similarity.Scope(1 + r.IntN(2))
		}
		opts := func() similarity.CountOptions {
			o := similarity.CountOptions{Scope: scope, Workers: 1 + r.IntN(3)}
			switch r.IntN(6) {
			case 0:
				o.MaxBasket = 1 + r.IntN(4)
			case 1:
				o.MaxBasket = -1
			}
			if r.IntN(4) == 0 {
				o.Exclude = roaring.BitmapOf(uint32(r.IntN(g.nProd + 3)))
			}
			if r.IntN(5) == 0 {
				o.Lookback = affinity.Lookback{Duration: time.Duration(1+r.IntN(48)) * time.Hour}
			}
			return o
		}
		o := opts()
		asOf := advT0.Add(g.span + time.Duration(r.IntN(3))*time.Hour)
		io := similarity.IndexOptions{Measure: advCountMeasures[r.IntN(len(advCountMeasures))], K: 1 + r.IntN(6), MinSupport: 1 + r.IntN(2)}
		if r.IntN(3) == 0 {
			io.Shrinkage = 2
		}
		counts, err := similarity.Count(ctx, h, asOf, o)
		require.NoError(t, err)
		idx, err := similarity.NewIndex(ctx, counts, io)
		require.NoError(t, err)
		var olderH *affinity.History
		var olderC *similarity.Counts
		for step := range 5 {
			nb := affinity.NewBuilder(h)
			for range r.IntN(10) {
				g.change(t, nb)
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			if r.IntN(5) == 0 {
				// another History built on the same base: every order is
				// written anew; half the time it is the one refreshed to
				other := affinity.NewBuilder(h)
				for range 1 + r.IntN(4) {
					g.change(t, other)
				}
				h3, err := other.Build(ctx)
				require.NoError(t, err)
				if r.IntN(2) == 0 {
					h2 = h3
				}
			}
			switch r.IntN(6) {
			case 0:
				asOf = asOf.Add(-time.Duration(r.IntN(40)) * time.Hour)
			case 1:
				asOf = asOf.Add(time.Duration(r.IntN(40)) * time.Hour)
			}
			if r.IntN(5) == 0 {
				if r.IntN(4) == 0 {
					scope = similarity.Scope(r.IntN(3))
				}
				o = opts()
			}
			msg := fmt.Sprintf("seed %d step %d scope %v opts %+v asOf %v", seed, step, scope, o, asOf)
			prevCopy := advCopyCounts(counts)
			fromC, fromH := counts, h
			if olderC != nil && r.IntN(4) == 0 {
				fromC, fromH = olderC, olderH // skip a generation
			}
			got, err := similarity.Recount(ctx, fromC, fromH, h2, asOf, o)
			require.NoError(t, err, msg)
			want, err := similarity.Count(ctx, h2, asOf, o)
			require.NoError(t, err, msg)
			advRequireSameCounts(t, want, got, msg)
			// prev is not modified and stays valid
			require.Equal(t, prevCopy, advCopyCounts(counts), "prev after Recount "+msg)
			if r.IntN(2) == 0 && scope != similarity.Sequential {
				// BM25 asks for the transactions: the next refresh carries them
				bo := similarity.IndexOptions{Measure: similarity.BM25, K: 3, MinSupport: 1}
				wi, err := similarity.NewIndex(ctx, want, bo)
				require.NoError(t, err, msg)
				gi, err := similarity.NewIndex(ctx, got, bo)
				require.NoError(t, err, msg)
				advRequireSameIndex(t, wi, gi, "BM25 "+msg)
			}
			wantIdx, err := similarity.NewIndex(ctx, want, io)
			require.NoError(t, err, msg)
			prevIdx := idx
			if fromC != counts {
				prevIdx, err = similarity.NewIndex(ctx, fromC, io)
				require.NoError(t, err)
			}
			gotIdx, err := similarity.Reindex(ctx, prevIdx, fromC, got, io)
			require.NoError(t, err, msg)
			advRequireSameIndex(t, wantIdx, gotIdx, fmt.Sprintf("Reindex %+v %s", io, msg))
			olderH, olderC = h, counts
			h, counts, idx = h2, got, gotIdx
		}
	}
}

// TestAdvReindexHeavyChurn uses few products and large K against many
// small changes in supports, so that Reindex merges rows whose previous
// lists are full and whose partners moved in both directions.
func TestAdvReindexHeavyChurn(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(200, 30)) {
		r := rand.New(rand.NewPCG(seed, 99))
		g := &advFeed{r: r, nCust: 30, nProd: 6 + r.IntN(150), nKey: 400, span: 24 * time.Hour}
		var b affinity.Builder
		for range 100 + r.IntN(300) {
			require.NoError(t, b.Add(g.line(g.cust(), g.key())))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		asOf := advT0.Add(48 * time.Hour)
		o := similarity.CountOptions{MaxBasket: -1}
		if r.IntN(2) == 0 {
			o.Scope = similarity.Customer
		}
		counts, err := similarity.Count(ctx, h, asOf, o)
		require.NoError(t, err)
		io := similarity.IndexOptions{Measure: []similarity.Measure{similarity.Jaccard, similarity.Cosine, similarity.Dice, similarity.Overlap, similarity.Confidence}[r.IntN(5)], K: 1 + r.IntN(4), MinSupport: 1}
		idx, err := similarity.NewIndex(ctx, counts, io)
		require.NoError(t, err)
		for step := range 4 {
			nb := affinity.NewBuilder(h)
			for range 1 + r.IntN(3) {
				c := fmt.Sprintf("c%d", r.IntN(g.nCust))
				require.NoError(t, nb.Add(affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%d", r.IntN(g.nProd)), Order: fmt.Sprintf("z%d-%d", step, r.IntN(3)), Time: advT0.Add(time.Duration(r.IntN(3600)) * time.Second), Quantity: 1}))
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			got, err := similarity.Recount(ctx, counts, h, h2, asOf, o)
			require.NoError(t, err)
			want, err := similarity.Count(ctx, h2, asOf, o)
			require.NoError(t, err)
			msg := fmt.Sprintf("seed %d step %d %+v", seed, step, io)
			advRequireSameCounts(t, want, got, msg)
			wi, err := similarity.NewIndex(ctx, want, io)
			require.NoError(t, err)
			gi, err := similarity.Reindex(ctx, idx, counts, got, io)
			require.NoError(t, err)
			advRequireSameIndex(t, wi, gi, msg)
			h, counts, idx = h2, got, gi
		}
	}
}

// TestAdvReindexForeignPrev gives Reindex a previous index it cannot
// renew — another measure, K, an index read back from bytes, counts of
// another History — and expects NewIndex's result all the same.
func TestAdvReindexForeignPrev(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 8))
	s := advRandomShop(rng, advGen{customers: 10, products: 20, orders: 80, maxLines: 5, span: 24 * time.Hour})
	h := s.history(t, nil)
	asOf := h.Latest()
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	require.NoError(t, nb.Add(affinity.Purchase{Customer: "c00", Order: "new", Product: "p001", Time: asOf, Quantity: 1}))
	require.NoError(t, nb.Add(affinity.Purchase{Customer: "c00", Order: "new", Product: "p002", Time: asOf, Quantity: 1}))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	c2, err := similarity.Recount(ctx, c, h, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	io := similarity.IndexOptions{Measure: similarity.Lift, K: 3, MinSupport: 1}
	want, err := similarity.NewIndex(ctx, c2, io)
	require.NoError(t, err)
	other, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine, K: 3, MinSupport: 1})
	require.NoError(t, err)
	same, err := similarity.NewIndex(ctx, c, io)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = same.WriteTo(&buf)
	require.NoError(t, err)
	read, err := similarity.ReadIndex(&buf)
	require.NoError(t, err)
	for name, prev := range map[string]*similarity.Index{"nil": nil, "other measure": other, "read back": read, "same": same, "of the new counts": want} {
		for _, pc := range []*similarity.Counts{nil, c, c2} {
			got, err := similarity.Reindex(ctx, prev, pc, c2, io)
			require.NoError(t, err, name)
			advRequireSameIndex(t, want, got, name)
		}
	}
}

// TestAdvRecountAfterExcludeReused: Counts keep a copy of the caller's
// Exclude bitmap, which CountOptions says is read during the call only;
// they once kept the caller's own, so that after the caller changed it
// Recount took the fast path as if the exclusions were unchanged.
func TestAdvRecountAfterExcludeReused(t *testing.T) {
	ctx := context.Background()
	h, add := advTinyHistory(t)
	ex := roaring.BitmapOf(0) // exclude x
	asOf := advT0.Add(24 * time.Hour)
	prev, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Exclude: ex})
	require.NoError(t, err)
	ex.Clear() // the caller reuses its bitmap: now nothing is excluded
	nb := affinity.NewBuilder(h)
	add(nb, "c2", "o2", "y", advT0.Add(time.Hour))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	opts := similarity.CountOptions{Exclude: ex}
	want, err := similarity.Count(ctx, h2, asOf, opts)
	require.NoError(t, err)
	got, err := similarity.Recount(ctx, prev, h, h2, asOf, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, want.Support(0))
	advRequireSameCounts(t, want, got, "Recount after the Exclude bitmap was reused")
}

// TestAdvBM25AfterExcludeReused: NewIndex(BM25) on a Recount result after
// the caller changed the Exclude bitmap it passed (it once panicked, "a
// recount's transactions do not add up").
func TestAdvBM25AfterExcludeReused(t *testing.T) {
	ctx := context.Background()
	h, add := advTinyHistory(t)
	asOf := advT0.Add(24 * time.Hour)
	prev, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	add(nb, "c2", "o2", "y", advT0.Add(time.Hour))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	ex := roaring.New()
	opts := similarity.CountOptions{Exclude: ex}
	got, err := similarity.Recount(ctx, prev, h, h2, asOf, opts)
	require.NoError(t, err)
	want, err := similarity.Count(ctx, h2, asOf, opts)
	require.NoError(t, err)
	ex.Add(1) // the caller reuses its bitmap after the call
	io := similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1}
	wi, err := similarity.NewIndex(ctx, want, io)
	require.NoError(t, err)
	var gi *similarity.Index
	require.NotPanics(t, func() { gi, err = similarity.NewIndex(ctx, got, io) })
	require.NoError(t, err)
	advRequireSameIndex(t, wi, gi, "BM25 of a recount after the Exclude bitmap was reused")
}

func advTinyHistory(t *testing.T) (*affinity.History, func(b *affinity.Builder, c, o, p string, at time.Time)) {
	var b affinity.Builder
	for _, p := range []string{"x", "y", "z"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
	}
	add := func(b *affinity.Builder, c, o, p string, at time.Time) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: o, Product: p, Time: at, Quantity: 1}))
	}
	add(&b, "c1", "o1", "x", advT0)
	add(&b, "c1", "o1", "y", advT0)
	add(&b, "c1", "o1", "z", advT0)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h, add
}

// ---------------------------------------------------------------------
// persistence

type advOnlyReader struct{ r io.Reader }

func (o advOnlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestAdvIndexRoundTrip(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(20, 4)) {
		rng := rand.New(rand.NewPCG(seed, 31337))
		s := advRandomShop(rng, advGen{customers: 1 + rng.IntN(12), products: rng.IntN(70), orders: rng.IntN(90), maxLines: 1 + rng.IntN(6), events: rng.IntN(30), span: 2 * 24 * time.Hour})
		h := s.history(t, nil)
		scope := similarity.Scope(rng.IntN(3))
		c, err := similarity.Count(ctx, h, advT0.Add(72*time.Hour), similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		var xs []*similarity.Index
		for _, m := range append(advCountMeasures, similarity.BM25) {
			if m == similarity.BM25 && scope == similarity.Sequential {
				continue
			}
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m, K: 1 + rng.IntN(8), MinSupport: 1 + rng.IntN(2), Shrinkage: float64(rng.IntN(3)) / 2})
			require.NoError(t, err)
			xs = append(xs, x)
		}
		// all of them in one stream, each read leaving the rest
		var buf bytes.Buffer
		var sizes []int64
		for _, x := range xs {
			before := buf.Len()
			n, err := x.WriteTo(&buf)
			require.NoError(t, err)
			require.Equal(t, int64(buf.Len()-before), n)
			sizes = append(sizes, n)
		}
		data := buf.Bytes()
		for _, wrap := range []func([]byte) io.Reader{
			func(b []byte) io.Reader { return bytes.NewReader(b) },
			func(b []byte) io.Reader { return advOnlyReader{bytes.NewReader(b)} },
		} {
			r := wrap(slices.Clone(data))
			for i, x := range xs {
				got, err := similarity.ReadIndex(r)
				require.NoError(t, err, "seed %d index %d (%v, %d bytes)", seed, i, x.Measure(), sizes[i])
				advRequireSameIndex(t, x, got, fmt.Sprintf("seed %d round trip of %v", seed, x.Measure()))
				var again bytes.Buffer
				_, err = got.WriteTo(&again)
				require.NoError(t, err)
				var one bytes.Buffer
				_, err = x.WriteTo(&one)
				require.NoError(t, err)
				require.Equal(t, one.Bytes(), again.Bytes(), "re-encoding is identical")
			}
			_, err := similarity.ReadIndex(r)
			require.Error(t, err, "nothing left")
		}
		// files
		path := t.TempDir() + "/x.idx"
		for _, x := range xs[:2] {
			require.NoError(t, x.Save(path))
			got, err := similarity.LoadIndex(path)
			require.NoError(t, err)
			advRequireSameIndex(t, x, got, "Save/LoadIndex")
		}
	}
}

// TestAdvIndexRoundTripExtremes stores the documented extreme scores:
// conviction's +∞ as MaxFloat32, negative leverage, PMI's negatives.
func TestAdvIndexRoundTripExtremes(t *testing.T) {
	ctx := context.Background()
	s := advShop{products: []string{"a", "b", "c", "d"}}
	l := func(order, prod string) {
		s.lines = append(s.lines, advLine{cust: "u" + order, order: order, prod: prod, at: advT0, qty: 1})
	}
	// a always with b; c and d mostly apart
	for i := range 3 {
		l(fmt.Sprint(i), "a")
		l(fmt.Sprint(i), "b")
	}
	l("3", "b")
	l("4", "c")
	l("4", "d")
	for i := 5; i < 12; i++ {
		l(fmt.Sprint(i), "c")
		l(fmt.Sprint(i+10), "d")
	}
	h := s.history(t, nil)
	c, err := similarity.Count(ctx, h, advT0, similarity.CountOptions{})
	require.NoError(t, err)
	for _, m := range []similarity.Measure{similarity.Conviction, similarity.Leverage, similarity.PMI, similarity.NPMI} {
		x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m, MinSupport: 1})
		require.NoError(t, err)
		advRequireSameIndex(t, x, func() *similarity.Index {
			var buf bytes.Buffer
			_, err := x.WriteTo(&buf)
			require.NoError(t, err)
			got, err := similarity.ReadIndex(&buf)
			require.NoError(t, err)
			return got
		}(), m.String())
		want := advNaiveIndex(c, similarity.IndexOptions{Measure: m, MinSupport: 1})
		for a := range affinity.ProductID(4) {
			if len(want[a]) > 0 {
				require.Equal(t, want[a], x.Neighbors(a), "%v row %d", m, a)
			}
		}
	}
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Conviction, MinSupport: 1})
	require.NoError(t, err)
	require.NotEmpty(t, x.Neighbors(0))
	assert.Equal(t, float32(math.MaxFloat32), x.Neighbors(0)[0].Score, "a → b always: +∞ stored as MaxFloat32")
	lv, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Leverage, MinSupport: 1})
	require.NoError(t, err)
	neg := false
	for a := range affinity.ProductID(4) {
		for _, nb := range lv.Neighbors(a) {
			neg = neg || nb.Score < 0
		}
	}
	assert.True(t, neg, "some leverage is negative")
	_, err = similarity.ReadIndex(bytes.NewReader(nil))
	require.Error(t, err)
	var trunc bytes.Buffer
	_, err = x.WriteTo(&trunc)
	require.NoError(t, err)
	for _, cut := range []int{1, 8, trunc.Len() / 2, trunc.Len() - 1} {
		_, err = similarity.ReadIndex(bytes.NewReader(trunc.Bytes()[:cut]))
		require.Error(t, err, "cut at %d", cut)
	}
	flipped := slices.Clone(trunc.Bytes())
	flipped[len(flipped)/2] ^= 1
	_, err = similarity.ReadIndex(bytes.NewReader(flipped))
	require.True(t, errors.Is(err, similarity.ErrCorrupt), "%v", err)
}

// TestAdvSumPrefixCatalogs sums shards whose catalogs list a prefix of
// the whole catalog's products: the sum has the largest part's products.
func TestAdvSumPrefixCatalogs(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(12, 34))
	s := advRandomShop(rng, advGen{customers: 10, products: 90, orders: 120, maxLines: 5, span: 24 * time.Hour})
	whole := s.history(t, nil)
	// shard 0: the customers who bought only among the first 70 products
	// (and only those are listed in its catalog); shard 1: everyone else
	only := map[string]bool{}
	for _, l := range s.lines {
		if _, ok := only[l.cust]; !ok {
			only[l.cust] = true
		}
		if l.prod >= "p070" || l.cust == "" {
			only[l.cust] = false
		}
	}
	var b affinity.Builder
	for _, p := range s.products[:70] {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
	}
	for _, l := range s.lines {
		if only[l.cust] {
			require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: l.at, Quantity: l.qty}))
		}
	}
	h0, err := b.Build(ctx)
	require.NoError(t, err)
	h1 := s.history(t, func(cust string, _ int) bool { return !only[cust] })
	asOf := whole.Latest()
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		o := similarity.CountOptions{Scope: scope}
		want, err := similarity.Count(ctx, whole, asOf, o)
		require.NoError(t, err)
		c0, err := similarity.Count(ctx, h0, asOf, o)
		require.NoError(t, err)
		require.Equal(t, 70, c0.NumProducts())
		c1, err := similarity.Count(ctx, h1, asOf, o)
		require.NoError(t, err)
		for _, parts := range [][]*similarity.Counts{{c0, c1}, {c1, c0}} {
			got, err := similarity.Sum(ctx, parts...)
			require.NoError(t, err)
			advRequireSameCounts(t, want, got, scope.String())
		}
	}
}

// TestAdvConcurrentReaders reads one Recount result — whose transactions
// are collected on first use — from several goroutines at once: BM25
// indexes, sums, recounts and reindexes (run with -race).
func TestAdvConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	g := &advFeed{r: r, nCust: 12, nProd: 30, nKey: 60, span: 24 * time.Hour}
	var b affinity.Builder
	for range 200 {
		require.NoError(t, b.Add(g.line(g.cust(), g.key())))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	asOf := advT0.Add(48 * time.Hour)
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	for range 10 {
		g.change(t, nb)
	}
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	got, err := similarity.Recount(ctx, c, h, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	want, err := similarity.Count(ctx, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	bo := similarity.IndexOptions{Measure: similarity.BM25, K: 5, MinSupport: 1}
	wantBM, err := similarity.NewIndex(ctx, want, bo)
	require.NoError(t, err)
	jo := similarity.IndexOptions{K: 5, MinSupport: 1}
	prevIdx, err := similarity.NewIndex(ctx, c, jo)
	require.NoError(t, err)
	wantJ, err := similarity.NewIndex(ctx, want, jo)
	require.NoError(t, err)
	const n = 6
	bm := make([]*similarity.Index, n)
	sums := make([]*similarity.Counts, n)
	re := make([]*similarity.Index, n)
	errs := make([]error, 3*n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			switch i % 3 {
			case 0:
				bm[i], errs[3*i] = similarity.NewIndex(ctx, got, bo)
			case 1:
				sums[i], errs[3*i+1] = similarity.Sum(ctx, got, got)
			default:
				re[i], errs[3*i+2] = similarity.Reindex(ctx, prevIdx, c, got, jo)
			}
		}()
	}
	for range n {
		<-done
	}
	for _, err := range errs {
		require.NoError(t, err)
	}
	for i := range n {
		switch i % 3 {
		case 0:
			advRequireSameIndex(t, wantBM, bm[i], "concurrent BM25")
		case 1:
			require.Equal(t, 2*want.Total(), sums[i].Total())
			for a := range affinity.ProductID(want.NumProducts()) {
				require.Equal(t, 2*want.Support(a), sums[i].Support(a))
			}
		default:
			advRequireSameIndex(t, wantJ, re[i], "concurrent Reindex")
		}
	}
}

// ---------------------------------------------------------------------
// hostile options

func advSmallCounts(t *testing.T) *similarity.Counts {
	t.Helper()
	s := advShop{products: []string{"a", "b", "c"}}
	for i, p := range []string{"a", "b", "c", "a", "b"} {
		s.lines = append(s.lines, advLine{cust: "u", order: []string{"1", "1", "1", "2", "2"}[i], prod: p, at: advT0, qty: 1})
	}
	h := s.history(t, nil)
	c, err := similarity.Count(context.Background(), h, advT0, similarity.CountOptions{})
	require.NoError(t, err)
	return c
}

// TestAdvNewIndexHugeK: NewIndex (and Reindex) with K = math.MaxInt is an
// error or keeps every neighbour (it once panicked in a worker goroutine,
// 2·K overflowing in internal/topk, and took the process down).
func TestAdvNewIndexHugeK(t *testing.T) {
	const env = "ADV_SIMILARITY_HUGE_K"
	if os.Getenv(env) == "1" {
		ctx := context.Background()
		c := advSmallCounts(t)
		all := advNaiveIndex(c, similarity.IndexOptions{K: 1000, MinSupport: 1})
		o := similarity.IndexOptions{K: math.MaxInt, MinSupport: 1}
		x, err := similarity.NewIndex(ctx, c, o)
		if err != nil {
			return // a clear error is fine
		}
		for a := range affinity.ProductID(3) {
			require.Equal(t, all[a], x.Neighbors(a), "K = MaxInt keeps every neighbour")
		}
		_, err = similarity.Reindex(ctx, x, c, c, o)
		require.NoError(t, err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAdvNewIndexHugeK$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "NewIndex with K = math.MaxInt:\n%s", out)
}

// TestAdvNewIndexHugeMinSupport: a MinSupport beyond 32 bits keeps no
// pair or is an error (it was converted to uint32 and wrapped: 2³² kept
// every pair seen once).
func TestAdvNewIndexHugeMinSupport(t *testing.T) {
	ctx := context.Background()
	c := advSmallCounts(t)
	for _, ms := range []int{1 << 32, 1<<32 + 1, 1<<32 + 2, math.MaxInt} {
		x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{MinSupport: ms})
		if err != nil {
			continue // a clear error is fine
		}
		for a := range affinity.ProductID(3) {
			assert.Empty(t, x.Neighbors(a), "MinSupport %d: no pair was seen together that often", ms)
		}
	}
}

// TestAdvIndexRoundTripLargeOptions: an index NewIndex accepts reads back
// from WriteTo's encoding (NewIndex once accepted K and MinSupport of 2³¹
// and more, which WriteTo truncated and ReadIndex refused).
func TestAdvIndexRoundTripLargeOptions(t *testing.T) {
	ctx := context.Background()
	c := advSmallCounts(t)
	for _, o := range []similarity.IndexOptions{
		{K: math.MaxInt32, MinSupport: 1},
		{K: 1 << 31, MinSupport: 1},
		{K: 1 << 32, MinSupport: 1},
		{K: 1<<32 + 1, MinSupport: 1},
		{K: 3, MinSupport: 1 << 31},
	} {
		x, err := similarity.NewIndex(ctx, c, o)
		if err != nil {
			continue // a clear error is fine
		}
		var buf bytes.Buffer
		if _, err := x.WriteTo(&buf); err != nil {
			continue // so is one here
		}
		got, err := similarity.ReadIndex(&buf)
		if !assert.NoError(t, err, "%+v: ReadIndex of WriteTo's encoding", o) {
			continue
		}
		advRequireSameIndex(t, x, got, fmt.Sprintf("%+v", o))
	}
}
