package similarity_test

// Adversarial tests of the counted period of Count (as-of time and
// look-back in calendar months and durations), of what a transaction is
// inside it, and of the measures of an index built from such counts,
// against a naive model written from the package documentation.

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
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

type advWinLine struct {
	cust, order, prod string
	at                time.Time
	qty               int32
}

type advWinEv struct {
	cust, prod string
	at         time.Time
}

type advWinShop struct {
	prods []string
	lines []advWinLine
	evs   []advWinEv
}

func (s *advWinShop) line(cust, order, prod string, at time.Time, qty int32) {
	s.lines = append(s.lines, advWinLine{cust, order, prod, at, qty})
}

func (s advWinShop) build(t testing.TB) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range s.prods {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
	}
	for _, l := range s.lines {
		require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: l.at, Quantity: l.qty, Price: 100}))
	}
	for _, e := range s.evs {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: e.at, Kind: affinity.View, Weight: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

type advWinCounts struct {
	n    int
	sup  map[string]int
	pair map[[2]string]int
	txs  []map[string]bool // Basket and Customer: the transactions
}

// advWinStart is the documented start of the window (start, asOf]: asOf
// minus Months calendar months of the UTC calendar (a day the target
// month lacks becomes its last day: testdata.MonthsBefore) minus
// Duration; ok is false for no bound.
func advWinStart(asOf time.Time, lb affinity.Lookback) (start time.Time, bounded bool) {
	if lb.All || lb.IsZero() {
		return time.Time{}, false
	}
	return testdata.MonthsBefore(asOf, lb.Months).Add(-lb.Duration), true
}

// advWinNaive counts s as the package documentation describes it
// (no MaxBasket cap, no exclusions).
func advWinNaive(s advWinShop, asOf time.Time, o similarity.CountOptions) advWinCounts {
	start, bounded := advWinStart(asOf, o.Lookback)
	in := func(sec int64) bool {
		t := time.Unix(sec, 0)
		return !t.After(asOf) && (!bounded || t.After(start))
	}
	type okey struct {
		cust, key string
		sec       int64
	}
	id := func(l advWinLine) okey {
		if l.order == "" {
			return okey{l.cust, "", l.at.Unix()}
		}
		return okey{cust: l.cust, key: l.order}
	}
	otime := map[okey]int64{}
	for _, l := range s.lines {
		k := id(l)
		if t, ok := otime[k]; !ok || l.at.Unix() < t {
			otime[k] = l.at.Unix()
		}
	}
	type entry struct {
		sec int64
		p   string
	}
	sets := map[okey]map[string]bool{}
	tl := map[string][]entry{}
	add := func(k okey, p string) {
		if sets[k] == nil {
			sets[k] = map[string]bool{}
		}
		sets[k][p] = true
	}
	for _, l := range s.lines {
		k := id(l)
		ot := otime[k]
		if l.qty <= 0 || !in(ot) {
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
				tl[l.cust] = append(tl[l.cust], entry{ot, l.prod})
			}
		}
	}
	if o.Events {
		for _, e := range s.evs {
			if !in(e.at.Unix()) {
				continue
			}
			if o.Scope == similarity.Sequential {
				tl[e.cust] = append(tl[e.cust], entry{e.at.Unix(), e.prod})
			} else {
				add(okey{cust: e.cust}, e.prod)
			}
		}
	}
	r := advWinCounts{sup: map[string]int{}, pair: map[[2]string]int{}}
	if o.Scope == similarity.Sequential {
		w := cmp.Or(o.Window, similarity.DefaultWindow)
		for _, es := range tl {
			r.n++
			seen := map[string]bool{}
			prs := map[[2]string]bool{}
			for _, x := range es {
				seen[x.p] = true
				for _, y := range es {
					if x.p != y.p && y.sec > x.sec && time.Duration(y.sec-x.sec)*time.Second <= w {
						prs[[2]string{x.p, y.p}] = true
					}
				}
			}
			for p := range seen {
				r.sup[p]++
			}
			for pr := range prs {
				r.pair[pr]++
			}
		}
		return r
	}
	for _, set := range sets {
		r.txs = append(r.txs, set)
		r.n++
		for a := range set {
			r.sup[a]++
			for b := range set {
				if a != b {
					r.pair[[2]string{a, b}]++
				}
			}
		}
	}
	return r
}

// advWinRequire compares every support and every ordered pair of c with
// the model.
func advWinRequire(t *testing.T, want advWinCounts, c *similarity.Counts, cat *affinity.Catalog, msg string) {
	t.Helper()
	require.Equal(t, want.n, c.Total(), "N %s", msg)
	np := cat.NumProducts()
	require.Equal(t, np, c.NumProducts(), msg)
	pairs := 0
	for a := range affinity.ProductID(np) {
		ka := cat.ProductKey(a)
		require.Equal(t, want.sup[ka], c.Support(a), "support %s %s", ka, msg)
		for b := range affinity.ProductID(np) {
			kb := cat.ProductKey(b)
			w := want.pair[[2]string{ka, kb}]
			if w != 0 {
				pairs++
			}
			if got := c.Pair(a, b); got != w {
				require.Equal(t, w, got, "pair %s %s %s", ka, kb, msg)
			}
		}
	}
	require.Equal(t, pairs, c.NumPairs(), "stored pairs %s", msg)
}

// advWinTransactions turns s into the Transactions of Partial.Add: one per
// customer, one per anonymous order; every line its own TxOrder at its own
// time, so that Add has to merge the lines of an order (earliest time).
func advWinTransactions(t testing.TB, s advWinShop, cat *affinity.Catalog) []similarity.Transaction {
	byCust := map[string]*similarity.Transaction{}
	var order []string
	for _, l := range s.lines {
		k := l.cust
		if k == "" {
			k = "\x00" + l.order
			if l.order == "" {
				k = fmt.Sprintf("\x00\x00%d", l.at.Unix())
			}
		}
		tx := byCust[k]
		if tx == nil {
			tx = &similarity.Transaction{Customer: l.cust}
			byCust[k] = tx
			order = append(order, k)
		}
		o := similarity.TxOrder{Key: l.order, Unix: l.at.Unix()}
		if l.qty > 0 {
			p, ok := cat.LookupProduct(l.prod)
			require.True(t, ok)
			o.Products = []affinity.ProductID{p}
		}
		tx.Orders = append(tx.Orders, o)
	}
	var r []similarity.Transaction
	for _, k := range order {
		r = append(r, *byCust[k])
	}
	return r
}

// ---------------------------------------------------------------------

// TestAdvWinCalendarBoundaries puts orders and events one second before,
// at and after the start of the window and the as-of time, for calendar
// look-backs across month ends, leap days, time zones other than UTC,
// sub-second as-of times and the Unix epoch, and compares every count with
// the documented window (start, asOf] of the UTC calendar.
func TestAdvWinCalendarBoundaries(t *testing.T) {
	ctx := context.Background()
	plus5 := time.FixedZone("UTC+5", 5*3600)
	minus5 := time.FixedZone("UTC-5", -5*3600)
	d := func(y int, m time.Month, day, h, mi, s int) time.Time {
		return time.Date(y, m, day, h, mi, s, 0, time.UTC)
	}
	cases := []struct {
		name      string
		asOf      time.Time
		lb        affinity.Lookback
		wantStart time.Time // by hand
	}{
		{"march 31 minus a month clamps to february's end", d(2024, 3, 31, 12, 0, 0), affinity.Months(1), d(2024, 2, 29, 12, 0, 0)},
		{"march 30 minus a month in a common year", d(2023, 3, 30, 8, 0, 0), affinity.Months(1), d(2023, 2, 28, 8, 0, 0)},
		{"leap day minus a year", d(2024, 2, 29, 0, 0, 0), affinity.Months(12), d(2023, 2, 28, 0, 0, 0)},
		{"march 1 minus a year keeps march 1", d(2025, 3, 1, 0, 0, 0), affinity.Months(12), d(2024, 3, 1, 0, 0, 0)},
		{"onto the leap day", d(2024, 3, 29, 6, 0, 0), affinity.Months(1), d(2024, 2, 29, 6, 0, 0)},
		{"may 31 minus three months", d(2024, 5, 31, 23, 59, 59), affinity.Months(3), d(2024, 2, 29, 23, 59, 59)},
		{"24 months over a leap day", d(2012, 3, 1, 0, 0, 0), affinity.Months(24), d(2010, 3, 1, 0, 0, 0)},
		{"months plus hours", d(2024, 3, 31, 0, 0, 0), affinity.Lookback{Months: 1, Duration: 36 * time.Hour}, d(2024, 2, 27, 12, 0, 0)},
		{"days onto the leap day", d(2024, 3, 29, 0, 0, 0), affinity.Days(29), d(2024, 2, 29, 0, 0, 0)},
		{"as-of east of UTC: the UTC calendar", time.Date(2024, 3, 1, 1, 0, 0, 0, plus5), affinity.Months(1), d(2024, 1, 29, 20, 0, 0)},
		{"as-of west of UTC: the UTC calendar", time.Date(2024, 3, 31, 22, 0, 0, 0, minus5), affinity.Months(1), d(2024, 3, 1, 3, 0, 0)},
		{"sub-second as-of", d(2024, 3, 31, 12, 0, 0).Add(500 * time.Millisecond), affinity.Months(1), d(2024, 2, 29, 12, 0, 0).Add(500 * time.Millisecond)},
		{"start before the epoch", d(1970, 1, 1, 0, 0, 10), affinity.Days(1), d(1969, 12, 31, 0, 0, 10)},
		{"month start before the epoch", d(1970, 1, 31, 0, 0, 0), affinity.Months(1), d(1969, 12, 31, 0, 0, 0)},
	}
	for ci, tc := range cases {
		start, _ := advWinStart(tc.asOf, tc.lb)
		require.True(t, start.Equal(tc.wantStart), "%s: model start %v, by hand %v", tc.name, start, tc.wantStart)
		require.True(t, tc.lb.Start(tc.asOf).Equal(tc.wantStart), "%s: Lookback.Start %v, by hand %v", tc.name, tc.lb.Start(tc.asOf), tc.wantStart)

		s := advWinShop{}
		sec := func(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() } // whole second at or before
		times := []time.Time{sec(start).Add(-time.Second), sec(start), sec(start).Add(time.Second), sec(start).Add(2 * time.Second),
			sec(tc.asOf).Add(-time.Second), sec(tc.asOf), sec(tc.asOf).Add(time.Second)}
		var kept []time.Time
		for _, at := range times {
			if at.Unix() >= affinity.MinUnix {
				kept = append(kept, at)
			}
		}
		for i, at := range kept {
			a, b, e, z := fmt.Sprintf("t%da", i), fmt.Sprintf("t%db", i), fmt.Sprintf("t%de", i), fmt.Sprintf("z%d", i)
			s.prods = append(s.prods, a, b, e, z)
			cust := fmt.Sprintf("c%d", i)
			s.line(cust, "o", a, at, 1)
			s.line(cust, "o", b, at, 2)
			s.line(cust, "o", b, at, 1) // bought twice in one order: once in the basket
			s.evs = append(s.evs, advWinEv{cust, e, at})
			s.line("z", fmt.Sprintf("z%d", i), z, at, 1) // one customer at every time
			s.line("", "", e, at, 1)                     // an anonymous basket of one product
		}
		h := s.build(t)
		cat := h.Catalog()
		for _, o := range []similarity.CountOptions{
			{Lookback: tc.lb},
			{Lookback: tc.lb, Scope: similarity.Customer},
			{Lookback: tc.lb, Scope: similarity.Customer, Events: true},
			{Lookback: tc.lb, Scope: similarity.Sequential, Window: time.Second},
			{Lookback: tc.lb, Scope: similarity.Sequential, Window: time.Second, Events: true},
		} {
			msg := fmt.Sprintf("case %d %s: scope %v events %v start %v asOf %v", ci, tc.name, o.Scope, o.Events, start, tc.asOf)
			c, err := similarity.Count(ctx, h, tc.asOf, o)
			require.NoError(t, err, msg)
			advWinRequire(t, advWinNaive(s, tc.asOf, o), c, cat, msg)
			if o.Scope == similarity.Basket {
				for i, at := range kept {
					a, _ := cat.LookupProduct(fmt.Sprintf("t%da", i))
					b, _ := cat.LookupProduct(fmt.Sprintf("t%db", i))
					want := 0
					if at.After(start) && !at.After(tc.asOf) {
						want = 1
					}
					assert.Equal(t, want, c.Pair(a, b), "order at %v: %s", at, msg)
				}
			}
			if o.Events {
				continue
			}
			p, err := similarity.NewPartial(tc.asOf, o)
			require.NoError(t, err, msg)
			for _, tx := range advWinTransactions(t, s, cat) {
				require.NoError(t, p.Add(tx), msg)
			}
			pc, err := p.Counts(cat.NumProducts())
			require.NoError(t, err, msg)
			advWinRequire(t, advWinNaive(s, tc.asOf, o), pc, cat, "partial "+msg)
		}
	}
}

// TestAdvWinOrderTimeIsEarliestLine checks that an order whose lines
// straddle the start of the window is in it or out of it whole, by its
// earliest line (a return included), in Count and in a Partial.
func TestAdvWinOrderTimeIsEarliestLine(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	lb := affinity.Months(1)
	start := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	s := advWinShop{prods: []string{"a", "b", "c", "d", "e", "f"}}
	s.line("u", "1", "a", start, 1) // earliest line at the start: out
	s.line("u", "1", "b", start.Add(time.Hour), 1)
	s.line("v", "2", "c", start.Add(-time.Hour), -1) // a return before the start: out
	s.line("v", "2", "d", start.Add(time.Hour), 1)
	s.line("v", "2", "e", start.Add(time.Hour), 1)
	s.line("w", "", "e", start.Add(time.Second), 1) // no order id, same second: one order, in
	s.line("w", "", "f", start.Add(time.Second), 1)
	s.line("x", "3", "a", asOf, 1) // earliest line at the as-of time: in
	s.line("x", "3", "f", asOf.Add(time.Hour), 1)
	h := s.build(t)
	cat := h.Catalog()
	id := func(k string) affinity.ProductID { p, ok := cat.LookupProduct(k); require.True(t, ok); return p }
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Lookback: lb})
	require.NoError(t, err)
	assert.Equal(t, 2, c.Total(), "orders w and x")
	assert.Zero(t, c.Pair(id("a"), id("b")))
	assert.Zero(t, c.Pair(id("d"), id("e")))
	assert.Equal(t, 1, c.Pair(id("e"), id("f")))
	assert.Equal(t, 1, c.Pair(id("a"), id("f")))
	advWinRequire(t, advWinNaive(s, asOf, similarity.CountOptions{Lookback: lb}), c, cat, "basket")

	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		o := similarity.CountOptions{Lookback: lb, Scope: scope}
		p, err := similarity.NewPartial(asOf, o)
		require.NoError(t, err)
		for _, tx := range advWinTransactions(t, s, cat) {
			require.NoError(t, p.Add(tx))
		}
		pc, err := p.Counts(cat.NumProducts())
		require.NoError(t, err)
		advWinRequire(t, advWinNaive(s, asOf, o), pc, cat, "partial "+scope.String())
	}
}

// TestAdvWinFarAsOf puts the as-of time and the start of the window more
// than 2^32 seconds away from the History's orders (which it stores as
// 32-bit offsets from the earliest one) and at the extremes of Lookback.
func TestAdvWinFarAsOf(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	s := advWinShop{prods: []string{"a", "b", "c"}}
	s.line("u", "1", "a", t0, 1)
	s.line("u", "1", "b", t0, 1)
	s.line("v", "2", "b", t0.Add(10*time.Second), 1)
	s.line("v", "2", "c", t0.Add(10*time.Second), 1)
	h := s.build(t)
	wrap := time.Duration(1<<32) * time.Second
	cases := []struct {
		asOf time.Time
		lb   affinity.Lookback
		n    int
	}{
		{t0.Add(wrap + 5*time.Second), affinity.Days(1), 0},
		{t0.Add(wrap + 5*time.Second), affinity.AllTime, 2},
		{t0.Add(wrap), affinity.Lookback{Duration: wrap - time.Second}, 1}, // (t0+1s, …]: only v
		{t0.Add(wrap), affinity.Lookback{Duration: wrap}, 1},               // (t0, …]: t0 itself is out
		{t0.Add(wrap), affinity.Lookback{Duration: wrap + time.Second}, 2},
		{t0.Add(-wrap + 5*time.Second), affinity.AllTime, 0},
		{t0.Add(-wrap + 15*time.Second), affinity.AllTime, 0},
		{t0.Add(-wrap + 5*time.Second), affinity.Months(1), 0},
		{t0.Add(5 * time.Second), affinity.Lookback{Months: 120_000, Duration: math.MaxInt64}, 1},
		{t0.Add(time.Hour), affinity.Lookback{Months: 120_000, Duration: math.MaxInt64}, 2},
		{t0.Add(time.Hour), affinity.Days(math.MaxInt), 2},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), affinity.Months(120_000), 2},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), affinity.Months(1), 0},
		{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), affinity.AllTime, 0},
		{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), affinity.Lookback{Months: 120_000, Duration: math.MaxInt64}, 0},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), affinity.Lookback{Months: 120_000, Duration: math.MaxInt64}, 2},
		{time.Unix(math.MaxInt64/4, 0), affinity.AllTime, 2},
		{time.Unix(math.MaxInt64/4, 0), affinity.Months(1), 0},
		{time.Unix(math.MinInt64/4, 0), affinity.AllTime, 0},
	}
	for _, tc := range cases {
		msg := fmt.Sprintf("asOf %v lookback %v", tc.asOf, tc.lb)
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			o := similarity.CountOptions{Lookback: tc.lb, Scope: scope, Workers: []int{math.MaxInt, math.MinInt, 1}[int(scope)]}
			c, err := similarity.Count(ctx, h, tc.asOf, o)
			require.NoError(t, err, msg)
			assert.Equal(t, tc.n, c.Total(), "%v %s", scope, msg)
			advWinRequire(t, advWinNaive(s, tc.asOf, o), c, h.Catalog(), scope.String()+" "+msg)
		}
	}
	_, err := similarity.Count(ctx, h, t0, similarity.CountOptions{Lookback: affinity.Months(120_001)})
	require.ErrorIs(t, err, affinity.ErrInvalid)
	_, err = similarity.Count(ctx, h, t0, similarity.CountOptions{Lookback: affinity.Lookback{All: true, Months: 1}})
	require.ErrorIs(t, err, affinity.ErrInvalid)
	_, err = similarity.NewPartial(t0, similarity.CountOptions{Lookback: affinity.Lookback{Duration: -1}})
	require.ErrorIs(t, err, affinity.ErrInvalid)
}

// ---------------------------------------------------------------------

// advWinRandom makes a small shop over two months around a leap day,
// with returns, repeats, anonymous orders and orders without an id.
func advWinRandom(rng *rand.Rand, customers, products, orders int) advWinShop {
	s := advWinShop{}
	for p := range products {
		s.prods = append(s.prods, fmt.Sprintf("p%02d", p))
	}
	t0 := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	span := int64(62 * 24 * 3600)
	for i := range orders {
		cust := fmt.Sprintf("c%d", rng.IntN(customers))
		if rng.IntN(8) == 0 {
			cust = ""
		}
		key := fmt.Sprintf("o%d", i)
		if rng.IntN(6) == 0 {
			key = ""
		}
		at := t0.Add(time.Duration(rng.Int64N(span)) * time.Second)
		if rng.IntN(4) == 0 {
			// near a midnight, where calendar windows start
			at = time.Date(at.Year(), at.Month(), at.Day(), 0, 0, rng.IntN(3)-1, 0, time.UTC)
		}
		for range 1 + rng.IntN(4) {
			q := int32(1)
			if rng.IntN(7) == 0 {
				q = -1
			}
			s.line(cust, key, s.prods[rng.IntN(products)], at, q)
		}
	}
	for range orders / 2 {
		s.evs = append(s.evs, advWinEv{fmt.Sprintf("c%d", rng.IntN(customers)), s.prods[rng.IntN(products)], t0.Add(time.Duration(rng.Int64N(span)) * time.Second)})
	}
	return s
}

// TestAdvWinRefreshAndRecount changes a History through a Builder on it —
// an erased customer, a deleted order, an order put again with a return,
// new lines — and checks Count on the result, and Recount from the
// previous counts at another as-of time across a month end, against the
// model over the surviving lines.
func TestAdvWinRefreshAndRecount(t *testing.T) {
	ctx := context.Background()
	asOfs := []time.Time{
		time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 1, 0, time.UTC),
		time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
	}
	lbs := []affinity.Lookback{affinity.Months(1), {Months: 1, Duration: 24 * time.Hour}, affinity.Days(29), {}}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 77))
		s := advWinRandom(rng, 6, 8, 40)
		h1 := s.build(t)

		// the change
		b := affinity.NewBuilder(h1)
		s2 := advWinShop{prods: s.prods}
		erased := fmt.Sprintf("c%d", rng.IntN(6))
		deleted := fmt.Sprintf("o%d", rng.IntN(40))
		put := fmt.Sprintf("o%d", rng.IntN(40))
		putAt := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		putLines := []affinity.Purchase{
			{Customer: "c9", Order: put, Product: "p01", Time: putAt, Quantity: 1, Price: 100},
			{Customer: "c9", Order: put, Product: "p02", Time: putAt.Add(time.Hour), Quantity: 1, Price: 100},
			{Customer: "c9", Order: put, Product: "p03", Time: putAt.Add(-time.Second), Quantity: -1, Price: 100},
		}
		// an order moved, whole, onto a window boundary
		var moved string
		for _, l := range s.lines {
			if l.order != "" && l.order != deleted && l.order != put && l.cust != erased && rng.IntN(3) == 0 {
				moved = l.order
				break
			}
		}
		bounds := []time.Time{
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 1, 0, time.UTC),
			time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 29, 0, 0, 1, 0, time.UTC),
			time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 0, 0, 1, 0, time.UTC),
			time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 0, 0, 1, 0, time.UTC),
			time.Date(2024, 1, 31, 0, 0, 1, 0, time.UTC), time.Date(2024, 1, 31, 0, 0, 2, 0, time.UTC),
		}
		movedAt := bounds[rng.IntN(len(bounds))]
		var movedLines []affinity.Purchase
		for _, l := range s.lines {
			if moved != "" && l.order == moved {
				movedLines = append(movedLines, affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: movedAt, Quantity: l.qty, Price: 100})
			}
		}
		if moved != "" {
			require.NoError(t, b.PutOrder(moved, 1, movedLines))
		}
		b.EraseCustomer(erased)
		// a line of the erased customer added after the erasure is dropped too
		require.NoError(t, b.Add(affinity.Purchase{Customer: erased, Order: "late", Product: "p00", Time: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		require.NoError(t, b.Add(affinity.Purchase{Customer: erased, Order: "late", Product: "p01", Time: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		require.NoError(t, b.DeleteOrder(deleted, 1))
		require.NoError(t, b.PutOrder(put, 1, putLines))
		for _, l := range s.lines {
			if l.cust == erased || (l.order != "" && (l.order == deleted || l.order == put || l.order == moved)) {
				continue
			}
			s2.lines = append(s2.lines, l)
		}
		for _, e := range s.evs {
			if e.cust != erased {
				s2.evs = append(s2.evs, e)
			}
		}
		if put != deleted { // at equal versions a delete beats a put
			for _, p := range putLines {
				s2.line(p.Customer, p.Order, p.Product, p.Time, p.Quantity)
			}
		}
		for _, p := range movedLines {
			s2.line(p.Customer, p.Order, p.Product, p.Time, p.Quantity)
		}
		extra := advWinRandom(rand.New(rand.NewPCG(seed, 78)), 4, 8, 6)
		for i, l := range extra.lines {
			l.cust = "n" + l.cust
			if l.order != "" {
				l.order = fmt.Sprintf("n%d", i/2)
			}
			require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: l.at, Quantity: l.qty, Price: 100}))
			s2.lines = append(s2.lines, l)
		}
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		_, ok := h2.LookupCustomer(erased)
		require.False(t, ok)

		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			for i, asOf := range asOfs {
				o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Lookback: lbs[(i+int(seed))%len(lbs)], Window: 5 * 24 * time.Hour}
				if scope != similarity.Basket {
					o.Events = seed%2 == 1
				}
				msg := fmt.Sprintf("seed %d %v asOf %v lookback %v erased %s deleted %s put %s moved %s to %v", seed, scope, asOf, o.Lookback, erased, deleted, put, moved, movedAt)
				c1, err := similarity.Count(ctx, h1, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s, asOf, o), c1, h1.Catalog(), "before "+msg)
				c2, err := similarity.Count(ctx, h2, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s2, asOf, o), c2, h2.Catalog(), "after "+msg)

				// Recount from counts made at another as-of time
				prevAsOf := asOfs[(i+1)%len(asOfs)]
				prev, err := similarity.Count(ctx, h1, prevAsOf, o)
				require.NoError(t, err, msg)
				rc, err := similarity.Recount(ctx, prev, h1, h2, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s2, asOf, o), rc, h2.Catalog(), fmt.Sprintf("recount from %v %s", prevAsOf, msg))
				// from counts made with other options: another look-back,
				// an exclusion and a cap
				po := o
				po.Lookback = lbs[(i+int(seed)+1)%len(lbs)]
				po.Exclude = roaring.BitmapOf(uint32(rng.IntN(len(s.prods))))
				po.MaxBasket = 2
				prev, err = similarity.Count(ctx, h1, prevAsOf, po)
				require.NoError(t, err, msg)
				rc, err = similarity.Recount(ctx, prev, h1, h2, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s2, asOf, o), rc, h2.Catalog(), fmt.Sprintf("recount from other options %+v %s", po, msg))
				// from counts of another scope
				po = o
				po.Scope = (o.Scope + 1 + similarity.Scope(rng.IntN(2))) % 3
				po.Events = po.Scope != similarity.Basket && rng.IntN(2) == 0
				prev, err = similarity.Count(ctx, h1, asOf, po)
				require.NoError(t, err, msg)
				rc, err = similarity.Recount(ctx, prev, h1, h2, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s2, asOf, o), rc, h2.Catalog(), fmt.Sprintf("recount from scope %v events %v %s", po.Scope, po.Events, msg))
				// and from counts with the same as-of time and options
				prev, err = similarity.Count(ctx, h1, asOf, o)
				require.NoError(t, err, msg)
				rc, err = similarity.Recount(ctx, prev, h1, h2, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s2, asOf, o), rc, h2.Catalog(), "recount same asOf "+msg)
				if scope == similarity.Basket {
					io := similarity.IndexOptions{Measure: similarity.Measure(rng.IntN(int(similarity.Overlap) + 1)), MinSupport: 1, K: 3}
					px, err := similarity.NewIndex(ctx, prev, io)
					require.NoError(t, err, msg)
					rx, err := similarity.Reindex(ctx, px, prev, rc, io)
					require.NoError(t, err, msg)
					wx, err := similarity.NewIndex(ctx, rc, io)
					require.NoError(t, err, msg)
					for p := range affinity.ProductID(wx.NumProducts()) {
						require.Equal(t, wx.Neighbors(p), rx.Neighbors(p), "reindex %v row %d %s", io.Measure, p, msg)
					}
				}
			}
		}
	}
}

// ---------------------------------------------------------------------

// TestAdvWinMeasuresByHand builds a tiny shop whose counts and measures
// are worked out by hand, and checks every neighbour of every product for
// every count measure, with and without shrinkage.
func TestAdvWinMeasuresByHand(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	s := advWinShop{prods: []string{"a", "b", "c", "d"}}
	s.line("u", "1", "a", at(0), 1)
	s.line("u", "1", "b", at(0), 1)
	s.line("u", "1", "a", at(0), 3) // a twice in order 1
	s.line("u", "2", "a", at(1), 1)
	s.line("u", "2", "b", at(1), 1)
	s.line("u", "2", "c", at(1), 1)
	s.line("v", "3", "a", at(2), 1)
	s.line("v", "3", "c", at(2), 1)
	s.line("w", "4", "b", at(3), 1)  // w: one order of one product
	s.line("x", "5", "d", at(4), 1)  // d bought …
	s.line("x", "5", "a", at(4), -1) // … with a return of a, which is no purchase
	s.line("x", "6", "b", at(5), -1) // returns only: no basket
	s.line("", "7", "a", at(6), 1)   // anonymous
	s.line("", "7", "d", at(6), 1)
	s.line("y", "8", "c", at(100), 1) // after the as-of time
	s.line("y", "8", "d", at(100), 1)
	h := s.build(t)
	cat := h.Catalog()
	asOf := at(50)
	// Baskets 1 {a,b}, 2 {a,b,c}, 3 {a,c}, 4 {b}, 5 {d}, 7 {a,d}: N = 6,
	// A = 4, B = 3, C = 2, D = 2; ab = 2, ac = 2, bc = 1, ad = 1.
	type hand struct {
		a, b string
		pc   similarity.PairCount
	}
	pairs := []hand{
		{"a", "b", similarity.PairCount{N: 6, A: 4, B: 3, AB: 2}},
		{"a", "c", similarity.PairCount{N: 6, A: 4, B: 2, AB: 2}},
		{"b", "c", similarity.PairCount{N: 6, A: 3, B: 2, AB: 1}},
		{"a", "d", similarity.PairCount{N: 6, A: 4, B: 2, AB: 1}},
	}
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	require.Equal(t, 6, c.Total())
	id := func(k string) affinity.ProductID { p, ok := cat.LookupProduct(k); require.True(t, ok); return p }
	for _, p := range pairs {
		assert.Equal(t, p.pc, c.PairCount(id(p.a), id(p.b)), "%s %s", p.a, p.b)
		rev := similarity.PairCount{N: p.pc.N, A: p.pc.B, B: p.pc.A, AB: p.pc.AB}
		assert.Equal(t, rev, c.PairCount(id(p.b), id(p.a)), "%s %s", p.b, p.a)
	}
	assert.Zero(t, c.Pair(id("b"), id("d")))
	assert.Zero(t, c.Pair(id("c"), id("d")))
	assert.Equal(t, 8, c.NumPairs())

	// the values by hand, for (a, b), (a, c) and (c, a)
	byHand := map[similarity.Measure][3]float64{
		similarity.Jaccard:    {2.0 / 5, 2.0 / 4, 2.0 / 4},
		similarity.Cosine:     {2 / math.Sqrt(12), 2 / math.Sqrt(8), 2 / math.Sqrt(8)},
		similarity.Lift:       {1, 1.5, 1.5},
		similarity.Confidence: {0.5, 0.5, 1},
		similarity.NPMI:       {0, math.Log2(1.5) / math.Log2(3), math.Log2(1.5) / math.Log2(3)},
		similarity.PMI:        {0, math.Log2(1.5), math.Log2(1.5)},
		similarity.Leverage:   {0, 1.0/3 - 8.0/36, 1.0/3 - 8.0/36},
		similarity.Conviction: {1, (1 - 2.0/6) / 0.5, math.Inf(1)},
		similarity.Support:    {1.0 / 3, 1.0 / 3, 1.0 / 3},
		similarity.Dice:       {4.0 / 7, 4.0 / 6, 4.0 / 6},
		similarity.Overlap:    {2.0 / 3, 1, 1},
	}
	for m, want := range byHand {
		got := []float64{m.Score(c.PairCount(id("a"), id("b"))), m.Score(c.PairCount(id("a"), id("c"))), m.Score(c.PairCount(id("c"), id("a")))}
		for i := range want {
			if math.IsInf(want[i], 1) {
				assert.True(t, math.IsInf(got[i], 1), "%v %d: %v", m, i, got[i])
			} else {
				assert.InDelta(t, want[i], got[i], 1e-12, "%v %d", m, i)
			}
		}
		for _, lambda := range []float64{0, 3} {
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m, MinSupport: 1, K: 10, Shrinkage: lambda})
			require.NoError(t, err, "%v", m)
			require.Equal(t, 6, x.Total())
			for p := range affinity.ProductID(cat.NumProducts()) {
				require.Equal(t, c.Support(p), x.Support(p))
				// every stored pair, scored by the textbook formula
				type cand struct {
					p     affinity.ProductID
					score float32
					n     uint32
				}
				var cands []cand
				cols, vals := c.Row(p)
				for i, q := range cols {
					sc := m.Score(c.PairCount(p, q)) * float64(vals[i]) / (float64(vals[i]) + lambda)
					f := float32(sc)
					if math.IsInf(sc, 1) {
						f = math.MaxFloat32
					}
					cands = append(cands, cand{q, f, vals[i]})
				}
				slices.SortStableFunc(cands, func(x, y cand) int { return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(x.p, y.p)) })
				nb := x.Neighbors(p)
				require.Len(t, nb, len(cands), "%v λ %v %s", m, lambda, cat.ProductKey(p))
				for i, w := range cands {
					assert.Equal(t, w.p, nb[i].Product, "%v λ %v %s #%d", m, lambda, cat.ProductKey(p), i)
					assert.InDelta(t, w.score, nb[i].Score, 1e-6*math.Max(1, math.Abs(float64(w.score))), "%v λ %v %s #%d", m, lambda, cat.ProductKey(p), i)
					assert.Equal(t, w.n, nb[i].Count)
				}
			}
		}
	}

	// Customer scope: u {a,b,c}, v {a,c}, w {b}, x {d}: N = 4 (anonymous
	// orders and returns-only customers do not count; y is after asOf).
	cu, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	assert.Equal(t, 4, cu.Total())
	assert.Equal(t, similarity.PairCount{N: 4, A: 2, B: 2, AB: 2}, cu.PairCount(id("a"), id("c")))
	assert.Equal(t, similarity.PairCount{N: 4, A: 2, B: 2, AB: 1}, cu.PairCount(id("a"), id("b")))
	assert.Equal(t, 1, cu.Support(id("d")))
	assert.Zero(t, cu.Pair(id("a"), id("d")))
	xl, err := similarity.NewIndex(ctx, cu, similarity.IndexOptions{Measure: similarity.Lift, MinSupport: 2})
	require.NoError(t, err)
	nb := xl.Neighbors(id("a"))
	require.Len(t, nb, 1, "only c is seen twice with a")
	assert.Equal(t, id("c"), nb[0].Product)
	assert.InDelta(t, 2.0, nb[0].Score, 1e-6, "lift 2·4/(2·2)")
	assert.Equal(t, uint32(2), nb[0].Count)

	// Sequential (default window 30 days): u bought a (h0), then c (h1);
	// b at h0 and h1 too, so a → b counts (h0 → h1) and b → a too.
	sq, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Sequential})
	require.NoError(t, err)
	assert.Equal(t, 4, sq.Total())
	assert.Equal(t, 1, sq.Pair(id("a"), id("c")))
	assert.Zero(t, sq.Pair(id("c"), id("a")), "v bought a and c in one order: not strictly later")
	assert.Equal(t, 1, sq.Pair(id("a"), id("b")))
	assert.Equal(t, 1, sq.Pair(id("b"), id("a")))
	xs, err := similarity.NewIndex(ctx, sq, similarity.IndexOptions{Measure: similarity.Confidence, MinSupport: 1})
	require.NoError(t, err)
	require.True(t, xs.Directed())
	nb = xs.Neighbors(id("c"))
	require.Len(t, nb, 0, "nothing after c: u bought c last, v with a")
	nb = xs.Neighbors(id("a"))
	require.Len(t, nb, 2)
	// A = 2 (u, v): a → b and a → c both 1/2; ties by product id
	assert.Equal(t, []affinity.ProductID{min(id("b"), id("c")), max(id("b"), id("c"))}, []affinity.ProductID{nb[0].Product, nb[1].Product})
	assert.InDelta(t, 0.5, nb[0].Score, 1e-7)
	assert.InDelta(t, 0.5, nb[1].Score, 1e-7)
}

// TestAdvWinRandomAgainstModel compares Count with the model on small
// random shops around a leap day, at as-of times on and next to midnights
// and month ends, for every scope and look-back kind, and checks that
// the result does not depend on the number of workers.
func TestAdvWinRandomAgainstModel(t *testing.T) {
	ctx := context.Background()
	asOfs := []time.Time{
		time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 30, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond),
		time.Date(2024, 3, 1, 5, 0, 0, 0, time.FixedZone("UTC+5", 5*3600)),
		time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
	}
	lbs := []affinity.Lookback{affinity.Months(1), affinity.Days(1), affinity.Days(30), {Months: 1, Duration: time.Second}, affinity.AllTime, {}, affinity.Months(2)}
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 99))
		s := advWinRandom(rng, 5, 7, 30)
		h := s.build(t)
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			for range 4 {
				o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Lookback: lbs[rng.IntN(len(lbs))], Window: time.Duration(rng.IntN(4)) * 24 * time.Hour}
				if scope != similarity.Basket {
					o.Events = rng.IntN(2) == 0
				}
				asOf := asOfs[rng.IntN(len(asOfs))]
				msg := fmt.Sprintf("seed %d %v asOf %v lookback %v window %v events %v", seed, scope, asOf, o.Lookback, o.Window, o.Events)
				c, err := similarity.Count(ctx, h, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s, asOf, o), c, h.Catalog(), msg)
				o.Workers = 1
				c1, err := similarity.Count(ctx, h, asOf, o)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s, asOf, o), c1, h.Catalog(), "1 worker "+msg)
			}
		}
	}
}

// TestAdvWinPartialMerge splits a shop's transactions over two Partials
// with a calendar look-back, sends them through their encoding and merges
// them: the result is the model's counts. The same instant in another
// time zone is the same as-of time; another as-of time or look-back is
// not the same count, and merging it is an error.
func TestAdvWinPartialMerge(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 5))
		s := advWinRandom(rng, 6, 8, 40)
		h := s.build(t)
		cat := h.Catalog()
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Lookback: affinity.Months(1), Window: 3 * 24 * time.Hour}
			msg := fmt.Sprintf("seed %d %v", seed, scope)
			p1, err := similarity.NewPartial(asOf, o)
			require.NoError(t, err)
			p2, err := similarity.NewPartial(asOf.In(time.FixedZone("UTC-11", -11*3600)), o)
			require.NoError(t, err)
			whole, err := similarity.NewPartial(asOf, o)
			require.NoError(t, err)
			for _, tx := range advWinTransactions(t, s, cat) {
				require.NoError(t, whole.Add(tx))
				if rng.IntN(2) == 0 {
					require.NoError(t, p1.Add(tx))
				} else {
					require.NoError(t, p2.Add(tx))
				}
			}
			enc, err := p2.MarshalBinary()
			require.NoError(t, err)
			var q similarity.Partial
			require.NoError(t, q.UnmarshalBinary(enc))
			require.NoError(t, p1.Merge(&q), msg)
			e1, err := p1.MarshalBinary()
			require.NoError(t, err)
			ew, err := whole.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, ew, e1, "merged halves encode as the whole %s", msg)
			c, err := p1.Counts(cat.NumProducts())
			require.NoError(t, err)
			advWinRequire(t, advWinNaive(s, asOf, o), c, cat, "merged "+msg)

			for name, other := range map[string]struct {
				asOf time.Time
				lb   affinity.Lookback
			}{
				"as-of a day later":    {asOf.AddDate(0, 0, 1), affinity.Months(1)},
				"as-of a second later": {asOf.Add(time.Second), affinity.Months(1)},
				"two months":           {asOf, affinity.Months(2)},
				"all time":             {asOf, affinity.AllTime},
			} {
				oo := o
				oo.Lookback = other.lb
				r, err := similarity.NewPartial(other.asOf, oo)
				require.NoError(t, err)
				for _, tx := range advWinTransactions(t, s, cat)[:3] {
					require.NoError(t, r.Add(tx))
				}
				assert.Error(t, whole.Merge(r), "%s %s", name, msg)
			}
		}
	}
}

// TestAdvWinSubSecond checks windows whose as-of time or look-back is not
// a whole number of seconds, while orders and events are stored in whole
// seconds: the window is still (asOf − Lookback, asOf] on the stored
// times.
func TestAdvWinSubSecond(t *testing.T) {
	ctx := context.Background()
	x := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	s := advWinShop{}
	for i := -3; i <= 1; i++ {
		at := x.Add(time.Duration(i) * time.Second)
		a, b := fmt.Sprintf("a%d", i+3), fmt.Sprintf("b%d", i+3)
		s.prods = append(s.prods, a, b)
		s.line(fmt.Sprintf("c%d", i+3), "o", a, at, 1)
		s.line(fmt.Sprintf("c%d", i+3), "o", b, at, 1)
		s.line("z", fmt.Sprintf("z%d", i+3), a, at, 1)
		s.evs = append(s.evs, advWinEv{fmt.Sprintf("c%d", i+3), b, at})
	}
	h := s.build(t)
	cat := h.Catalog()
	for _, asOf := range []time.Time{x, x.Add(time.Nanosecond), x.Add(500 * time.Millisecond), x.Add(time.Second - time.Nanosecond), x.Add(-time.Nanosecond)} {
		for _, d := range []time.Duration{time.Nanosecond, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2*time.Second - time.Nanosecond, 2 * time.Second} {
			for _, lb := range []affinity.Lookback{{Duration: d}, {Months: 1, Duration: d}} {
				for _, o := range []similarity.CountOptions{
					{Lookback: lb},
					{Lookback: lb, Scope: similarity.Customer, Events: true},
					{Lookback: lb, Scope: similarity.Sequential, Window: 1500 * time.Millisecond},
				} {
					msg := fmt.Sprintf("%v asOf %v lookback %v", o.Scope, asOf.Format(time.RFC3339Nano), lb)
					c, err := similarity.Count(ctx, h, asOf, o)
					require.NoError(t, err, msg)
					advWinRequire(t, advWinNaive(s, asOf, o), c, cat, msg)
				}
			}
		}
	}
}

// TestAdvWinSumOfShards counts the customers of a shop on shards, each a
// History of its own over the shared catalog (so each starts at a
// different earliest order), with calendar and duration look-backs whose
// start falls on an order time of one shard only, and checks that Sum
// gives the whole shop's counts.
func TestAdvWinSumOfShards(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 11))
		s := advWinRandom(rng, 6, 8, 30)
		// orders on the start of Months(1) (2024-02-29) and of Days(30)
		// (2024-03-01) and one second after, each in one shard
		for i, at := range []time.Time{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 1, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 1, 0, time.UTC)} {
			cust := fmt.Sprintf("edge%d", i)
			s.line(cust, "e", s.prods[i], at, 1)
			s.line(cust, "e", s.prods[i+1], at, 1)
			s.line(cust, "f", s.prods[i+2], at.Add(time.Hour), 1)
		}
		h := s.build(t)
		cat := h.Catalog()
		// shard by customer; anonymous orders in shard 0
		shardOf := func(cust string) int {
			if cust == "" {
				return 0
			}
			return int(cust[len(cust)-1]) % 3
		}
		shards := make([]advWinShop, 3)
		for i := range shards {
			shards[i].prods = s.prods
		}
		for _, l := range s.lines {
			shards[shardOf(l.cust)].lines = append(shards[shardOf(l.cust)].lines, l)
		}
		for _, e := range s.evs {
			shards[shardOf(e.cust)].evs = append(shards[shardOf(e.cust)].evs, e)
		}
		hs := make([]*affinity.History, len(shards))
		for i, sh := range shards {
			b := affinity.NewCatalogBuilder(cat)
			for _, l := range sh.lines {
				require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Order: l.order, Product: l.prod, Time: l.at, Quantity: l.qty, Price: 100}))
			}
			for _, e := range sh.evs {
				require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: e.at, Kind: affinity.View, Weight: 1}))
			}
			var err error
			hs[i], err = b.Build(ctx)
			require.NoError(t, err)
		}
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			for _, lb := range []affinity.Lookback{affinity.Months(1), affinity.Days(30), {Months: 1, Duration: 24 * time.Hour}} {
				o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Lookback: lb, Window: 2 * time.Hour, Events: scope != similarity.Basket}
				msg := fmt.Sprintf("seed %d %v lookback %v", seed, scope, lb)
				parts := make([]*similarity.Counts, len(hs))
				for i, hi := range hs {
					var err error
					parts[i], err = similarity.Count(ctx, hi, asOf, o)
					require.NoError(t, err, msg)
				}
				sum, err := similarity.Sum(ctx, parts...)
				require.NoError(t, err, msg)
				advWinRequire(t, advWinNaive(s, asOf, o), sum, cat, "sum "+msg)
				if scope == similarity.Sequential {
					continue
				}
				// BM25 recounts the transactions, which Sum merges
				whole, err := similarity.Count(ctx, h, asOf, o)
				require.NoError(t, err, msg)
				io := similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1, K: 3}
				want, err := similarity.NewIndex(ctx, whole, io)
				require.NoError(t, err, msg)
				got, err := similarity.NewIndex(ctx, sum, io)
				require.NoError(t, err, msg)
				for p := range affinity.ProductID(want.NumProducts()) {
					w, g := want.Neighbors(p), got.Neighbors(p)
					require.Len(t, g, len(w), "bm25 row %d %s", p, msg)
					for i := range w {
						assert.InDelta(t, w[i].Score, g[i].Score, 1e-5*math.Max(1, math.Abs(float64(w[i].Score))), "bm25 row %d #%d %s", p, i, msg)
						if math.Abs(float64(w[i].Score-g[i].Score)) > 1e-4 {
							assert.Equal(t, w[i].Product, g[i].Product, "bm25 row %d #%d %s", p, i, msg)
						}
					}
				}
			}
		}
	}
}

// TestAdvWinConcurrentCounts counts one History from several goroutines
// with different windows at once (a History is safe for concurrent
// readers) and compares each with the model.
func TestAdvWinConcurrentCounts(t *testing.T) {
	ctx := context.Background()
	s := advWinRandom(rand.New(rand.NewPCG(3, 3)), 6, 8, 40)
	h := s.build(t)
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	opts := []similarity.CountOptions{
		{Lookback: affinity.Months(1), Workers: 2},
		{Lookback: affinity.Days(30), Scope: similarity.Customer, Events: true, Workers: 2},
		{Lookback: affinity.Months(2), Scope: similarity.Sequential, Window: 24 * time.Hour, Workers: 2},
		{Lookback: affinity.AllTime, Scope: similarity.Customer, Workers: 2},
	}
	got := make([]*similarity.Counts, len(opts))
	errs := make([]error, len(opts))
	done := make(chan int)
	for i, o := range opts {
		go func() {
			got[i], errs[i] = similarity.Count(ctx, h, asOf, o)
			done <- i
		}()
	}
	for range opts {
		<-done
	}
	for i, o := range opts {
		require.NoError(t, errs[i])
		advWinRequire(t, advWinNaive(s, asOf, o), got[i], h.Catalog(), fmt.Sprintf("%+v", o))
	}
}

// TestAdvWinRecountSameStartLaterAsOf recounts from counts whose window
// started at the same instant but ended earlier: the orders of customers
// nothing changed that lie between the two as-of times must enter, and
// Reindex must follow.
func TestAdvWinRecountSameStartLaterAsOf(t *testing.T) {
	ctx := context.Background()
	s := advWinShop{prods: []string{"a", "b", "c", "d"}}
	s.line("u", "1", "a", time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), 1)
	s.line("u", "1", "b", time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), 1)
	s.line("v", "2", "a", time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC), 1) // between the as-of times
	s.line("v", "2", "b", time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC), 1)
	s.line("w", "3", "c", time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), 1) // on the common start: out
	s.line("w", "3", "d", time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), 1)
	s.line("y", "5", "a", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 1) // on the common start of months: out
	s.line("y", "5", "d", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 1)
	h1 := s.build(t)
	b := affinity.NewBuilder(h1)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "x", Order: "4", Product: "c", Time: time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "x", Order: "4", Product: "a", Time: time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	s2 := s
	s2.lines = slices.Clone(s.lines)
	s2.line("x", "4", "c", time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), 1)
	s2.line("x", "4", "a", time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), 1)

	asOf1 := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	asOf2 := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct{ lb1, lb2 affinity.Lookback }{
		{affinity.Days(29), affinity.Days(30)},                                       // both start 2024-03-02
		{affinity.Months(1), affinity.Lookback{Months: 1, Duration: -0}},             // 02-29 and 03-01
		{affinity.Months(1), affinity.Lookback{Duration: 30 * 24 * time.Hour}},       // 02-29 and 03-02
		{affinity.Months(1), affinity.Lookback{Months: 1, Duration: 24 * time.Hour}}, // 02-29 and 02-29
		{affinity.AllTime, affinity.AllTime},
		{affinity.Lookback{}, affinity.AllTime},
	}
	for _, tc := range cases {
		o1 := similarity.CountOptions{Lookback: tc.lb1}
		o2 := similarity.CountOptions{Lookback: tc.lb2}
		msg := fmt.Sprintf("%v → %v", tc.lb1, tc.lb2)
		prev, err := similarity.Count(ctx, h1, asOf1, o1)
		require.NoError(t, err, msg)
		advWinRequire(t, advWinNaive(s, asOf1, o1), prev, h1.Catalog(), "prev "+msg)
		rc, err := similarity.Recount(ctx, prev, h1, h2, asOf2, o2)
		require.NoError(t, err, msg)
		advWinRequire(t, advWinNaive(s2, asOf2, o2), rc, h2.Catalog(), "recount "+msg)
		for _, m := range []similarity.Measure{similarity.Jaccard, similarity.Lift} {
			io := similarity.IndexOptions{Measure: m, MinSupport: 1}
			px, err := similarity.NewIndex(ctx, prev, io)
			require.NoError(t, err)
			rx, err := similarity.Reindex(ctx, px, prev, rc, io)
			require.NoError(t, err)
			want, err := similarity.NewIndex(ctx, rc, io)
			require.NoError(t, err)
			require.Equal(t, want.Total(), rx.Total(), msg)
			for p := range affinity.ProductID(want.NumProducts()) {
				assert.Equal(t, want.Neighbors(p), rx.Neighbors(p), "%v %s row %d", m, msg, p)
				assert.Equal(t, want.Support(p), rx.Support(p))
			}
		}
	}
}

// TestAdvWinPartialEqualsCountCapped compares a Partial fed line by line
// with Count when the basket cap samples, with and without excluded
// products, in a calendar window: the sample depends on shop ids only.
func TestAdvWinPartialEqualsCountCapped(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	for _, exclude := range []bool{false, true} {
		t.Run(fmt.Sprintf("exclude=%v", exclude), func(t *testing.T) {
			for seed := range uint64(4) {
				rng := rand.New(rand.NewPCG(seed, 21))
				s := advWinRandom(rng, 4, 12, 40)
				h := s.build(t)
				cat := h.Catalog()
				for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
					for _, mb := range []int{1, 2, 3, -1} {
						o := similarity.CountOptions{Scope: scope, MaxBasket: mb, Lookback: affinity.Months(1 + rng.IntN(2)), Window: 3 * 24 * time.Hour}
						if exclude {
							o.Exclude = roaring.BitmapOf(uint32(rng.IntN(12)), uint32(rng.IntN(12)))
						}
						msg := fmt.Sprintf("seed %d %v maxbasket %d lookback %v exclude %v", seed, scope, mb, o.Lookback, o.Exclude)
						c, err := similarity.Count(ctx, h, asOf, o)
						require.NoError(t, err, msg)
						p, err := similarity.NewPartial(asOf, o)
						require.NoError(t, err, msg)
						for _, tx := range advWinTransactions(t, s, cat) {
							require.NoError(t, p.Add(tx), msg)
						}
						pc, err := p.Counts(cat.NumProducts())
						require.NoError(t, err, msg)
						require.Equal(t, c.Total(), pc.Total(), msg)
						sum := 0
						for a := range affinity.ProductID(cat.NumProducts()) {
							require.Equal(t, c.Support(a), pc.Support(a), "support %d %s", a, msg)
							ca, va := c.Row(a)
							pa, pv := pc.Row(a)
							require.Equal(t, ca, pa, "row %d %s", a, msg)
							require.Equal(t, va, pv, "row %d %s", a, msg)
							sum += c.Support(a)
						}
						if mb > 0 {
							// every transaction keeps at most mb products
							require.LessOrEqual(t, sum, mb*c.Total(), msg)
							if mb == 1 {
								require.Zero(t, c.NumPairs(), msg)
							}
						}
					}
				}
			}
		})
	}
}

// TestAdvWinPartialExclude is the smallest case of the above: an order
// of an excluded fee only, and a fee in a customer's other order.
func TestAdvWinPartialExclude(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	s := advWinShop{prods: []string{"a", "b", "fee"}}
	s.line("u", "1", "a", at, 1)
	s.line("u", "1", "b", at, 1)
	s.line("u", "2", "fee", at.Add(time.Hour), 1)
	s.line("v", "3", "fee", at, 1)
	h := s.build(t)
	asOf := at.Add(24 * time.Hour)
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		o := similarity.CountOptions{Scope: scope, Exclude: roaring.BitmapOf(2)}
		c, err := similarity.Count(ctx, h, asOf, o)
		require.NoError(t, err)
		assert.Equal(t, 1, c.Total(), "%v: only u's {a, b} is evidence", scope)
		assert.Zero(t, c.Support(2), "%v", scope)
		p, err := similarity.NewPartial(asOf, o)
		require.NoError(t, err)
		for _, tx := range advWinTransactions(t, s, h.Catalog()) {
			require.NoError(t, p.Add(tx))
		}
		pc, err := p.Counts(3)
		require.NoError(t, err)
		assert.Equal(t, c.Total(), pc.Total(), "%v N", scope)
		assert.Zero(t, pc.Support(2), "%v support of the excluded fee", scope)
		assert.Zero(t, pc.Pair(0, 2), "%v pair with the excluded fee", scope)
		assert.Zero(t, pc.Pair(2, 0), "%v pair with the excluded fee", scope)
	}
}

// TestAdvWinItemMatrix checks the product × transaction matrix against
// the History's own accessors in calendar and duration windows: a column
// per order id (Basket) or customer (Customer), an entry per bought line
// (and event) of an order in (start, asOf], excluded products absent, and
// its binary row lengths the supports of Count.
func TestAdvWinItemMatrix(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 31))
		s := advWinRandom(rng, 5, 8, 30)
		// a product twice in one order, and three units in one line
		s.line("r", "rr", "p00", time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), 1)
		s.line("r", "rr", "p00", time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), 1)
		s.line("r", "rr", "p01", time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), 3)
		h1 := s.build(t)
		// and the same after a refresh, whose order ids are not dense
		b := affinity.NewBuilder(h1)
		b.EraseCustomer("c1")
		require.NoError(t, b.Add(affinity.Purchase{Customer: "c2", Order: "new", Product: "p03", Time: time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		require.NoError(t, b.Add(affinity.Purchase{Customer: "r", Order: "rr", Product: "p04", Time: time.Date(2024, 3, 16, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		for hi, h := range []*affinity.History{h1, h2} {
			np := h.Catalog().NumProducts()
			for _, asOf := range []time.Time{time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)} {
				for _, lb := range []affinity.Lookback{affinity.Months(1), affinity.Days(10), {}} {
					for _, o := range []similarity.CountOptions{
						{Lookback: lb, MaxBasket: -1},
						{Lookback: lb, MaxBasket: -1, Scope: similarity.Customer},
						{Lookback: lb, MaxBasket: -1, Scope: similarity.Customer, Events: true, Exclude: roaring.BitmapOf(uint32(rng.IntN(np)))},
					} {
						msg := fmt.Sprintf("seed %d history %d %v asOf %v lookback %v events %v exclude %v", seed, hi, o.Scope, asOf, lb, o.Events, o.Exclude)
						m, err := similarity.NewItemMatrix(ctx, h, asOf, o)
						require.NoError(t, err, msg)
						c, err := similarity.Count(ctx, h, asOf, o)
						require.NoError(t, err, msg)
						lbr := lb.Or(affinity.AllTime)
						in := func(sec int64) bool { return lbr.Contains(asOf, time.Unix(sec, 0)) }
						want := make([]map[uint32]float64, np)
						for p := range want {
							want[p] = map[uint32]float64{}
						}
						add := func(p affinity.ProductID, col uint32) {
							if o.Exclude == nil || !o.Exclude.Contains(uint32(p)) {
								want[p][col]++
							}
						}
						cols := 0
						if o.Scope == similarity.Basket {
							cols = h.NumOrderIDs()
							for ord := range h.Orders() {
								if !in(h.OrderUnix(ord)) {
									continue
								}
								lo, hi := h.OrderLines(ord)
								for i := lo; i < hi; i++ {
									if h.LineQuantity(i) > 0 {
										add(h.LineProduct(i), uint32(ord))
									}
								}
							}
						} else {
							cols = h.NumCustomers()
							for cu := range affinity.CustomerID(h.NumCustomers()) {
								lo, hi := h.CustomerOrders(cu)
								for ord := lo; ord < hi; ord++ {
									if !in(h.OrderUnix(ord)) {
										continue
									}
									llo, lhi := h.OrderLines(ord)
									for i := llo; i < lhi; i++ {
										if h.LineQuantity(i) > 0 {
											add(h.LineProduct(i), uint32(cu))
										}
									}
								}
								if o.Events {
									elo, ehi := h.CustomerEvents(cu)
									for i := elo; i < ehi; i++ {
										if ev := h.Event(i); in(ev.Unix) {
											add(ev.Product, uint32(cu))
										}
									}
								}
							}
						}
						rows, gotCols := m.Dims()
						require.Equal(t, np, rows, msg)
						require.Equal(t, cols, gotCols, msg)
						nnz := 0
						bin := m.Binary()
						for p := range affinity.ProductID(np) {
							rc, rv := m.Row(p)
							got := map[uint32]float64{}
							for i, col := range rc {
								got[col] = rv[i]
							}
							require.Equal(t, want[p], got, "row %d %s", p, msg)
							nnz += len(rc)
							bc, _ := bin.Row(p)
							require.Equal(t, c.Support(p), len(bc), "binary row %d vs support %s", p, msg)
						}
						require.Equal(t, nnz, m.NNZ(), msg)
					}
				}
			}
		}
	}
}

// TestAdvWinBM25Window checks the BM25 measure of an index built from
// windowed counts against the documented formula over the transactions
// of the window only (BM25 recounts transactions, so it must not see the
// ones outside it).
func TestAdvWinBM25Window(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 41))
		s := advWinRandom(rng, 6, 8, 40)
		h := s.build(t)
		cat := h.Catalog()
		for _, o := range []similarity.CountOptions{
			{Lookback: affinity.Months(1), MaxBasket: -1},
			{Lookback: affinity.Days(10), MaxBasket: -1, Scope: similarity.Customer},
			{Lookback: affinity.Months(1), MaxBasket: -1, Scope: similarity.Customer, Events: true},
		} {
			msg := fmt.Sprintf("seed %d %v lookback %v events %v", seed, o.Scope, o.Lookback, o.Events)
			c, err := similarity.Count(ctx, h, asOf, o)
			require.NoError(t, err, msg)
			model := advWinNaive(s, asOf, o)
			advWinRequire(t, model, c, cat, msg)
			// the formula
			k1, b := similarity.DefaultBM25.K1, similarity.DefaultBM25.B
			P, sumA := 0, 0
			for _, n := range model.sup {
				if n > 0 {
					P++
					sumA += n
				}
			}
			avgA := float64(sumA) / float64(max(P, 1))
			score := map[[2]string]float64{}
			for _, tx := range model.txs {
				idf := math.Log(1 + (float64(P)-float64(len(tx))+0.5)/(float64(len(tx))+0.5))
				w := func(p string) float64 {
					return idf * (k1 + 1) / (1 + k1*(1-b+b*float64(model.sup[p])/avgA))
				}
				for x := range tx {
					for y := range tx {
						if x != y {
							score[[2]string{x, y}] += w(x) * w(y)
						}
					}
				}
			}
			const k = 3
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1, K: k})
			require.NoError(t, err, msg)
			for a := range affinity.ProductID(cat.NumProducts()) {
				ka := cat.ProductKey(a)
				cols, _ := c.Row(a)
				nb := x.Neighbors(a)
				require.Len(t, nb, min(k, len(cols)), "row %s %s", ka, msg)
				in := map[affinity.ProductID]bool{}
				for _, n := range nb {
					want := score[[2]string{ka, cat.ProductKey(n.Product)}]
					assert.InDelta(t, want, n.Score, 1e-4*math.Max(1, math.Abs(want)), "bm25 %s %s %s", ka, cat.ProductKey(n.Product), msg)
					assert.Equal(t, c.Pair(a, n.Product), int(n.Count))
					in[n.Product] = true
				}
				if len(nb) == 0 {
					continue
				}
				last := float64(nb[len(nb)-1].Score)
				for _, q := range cols {
					if !in[q] {
						assert.LessOrEqual(t, score[[2]string{ka, cat.ProductKey(q)}], last+1e-4*math.Max(1, math.Abs(last)), "left out %s %s %s", ka, cat.ProductKey(q), msg)
					}
				}
			}
		}
	}
}

// TestAdvWinBM25AfterRecount ranks by BM25 the counts of a Recount, whose
// transactions are collected from the new History on first use or carried
// over from the previous counts: they must be the transactions of the
// window, cap and exclusions of the counts, as Count's are.
func TestAdvWinBM25AfterRecount(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 51))
		s := advWinRandom(rng, 6, 10, 50)
		h1 := s.build(t)
		b := affinity.NewBuilder(h1)
		b.EraseCustomer("c0")
		require.NoError(t, b.DeleteOrder(fmt.Sprintf("o%d", rng.IntN(50)), 1))
		for i := range 4 {
			at := time.Date(2024, 2, 29, 0, 0, i, 0, time.UTC) // on and after the start of Months(1) as of 03-31
			require.NoError(t, b.Add(affinity.Purchase{Customer: "c3", Order: fmt.Sprintf("x%d", i), Product: fmt.Sprintf("p%02d", i), Time: at, Quantity: 1, Price: 100}))
			require.NoError(t, b.Add(affinity.Purchase{Customer: "c3", Order: fmt.Sprintf("x%d", i), Product: fmt.Sprintf("p%02d", i+1), Time: at, Quantity: 1, Price: 100}))
		}
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
		for _, o := range []similarity.CountOptions{
			{Lookback: affinity.Months(1), MaxBasket: -1},
			{Lookback: affinity.Months(1), MaxBasket: 2, Exclude: roaring.BitmapOf(7)},
			{Lookback: affinity.Days(5), MaxBasket: 3},
		} {
			for _, askedBefore := range []bool{false, true} {
				msg := fmt.Sprintf("seed %d lookback %v maxbasket %d exclude %v asked before %v", seed, o.Lookback, o.MaxBasket, o.Exclude, askedBefore)
				io := similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1, K: 4}
				prev, err := similarity.Count(ctx, h1, asOf, o)
				require.NoError(t, err, msg)
				if askedBefore {
					_, err := similarity.NewIndex(ctx, prev, io)
					require.NoError(t, err, msg)
				}
				rc, err := similarity.Recount(ctx, prev, h1, h2, asOf, o)
				require.NoError(t, err, msg)
				whole, err := similarity.Count(ctx, h2, asOf, o)
				require.NoError(t, err, msg)
				got, err := similarity.NewIndex(ctx, rc, io)
				require.NoError(t, err, msg)
				want, err := similarity.NewIndex(ctx, whole, io)
				require.NoError(t, err, msg)
				for p := range affinity.ProductID(want.NumProducts()) {
					require.Equal(t, want.Neighbors(p), got.Neighbors(p), "row %d %s", p, msg)
				}
				// and a Recount of the Recount, on to an unchanged History
				rc2, err := similarity.Recount(ctx, rc, h2, h2, asOf, o)
				require.NoError(t, err, msg)
				got2, err := similarity.NewIndex(ctx, rc2, io)
				require.NoError(t, err, msg)
				for p := range affinity.ProductID(want.NumProducts()) {
					require.Equal(t, want.Neighbors(p), got2.Neighbors(p), "second recount row %d %s", p, msg)
				}
			}
		}
	}
}

// TestAdvWinPartialEmptyTransactions adds transactions that hold nothing
// to count — no orders, returns only, orders outside the window, an
// anonymous one in a customer scope — and products past the catalog.
func TestAdvWinPartialEmptyTransactions(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	start := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC).Unix()
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		p, err := similarity.NewPartial(asOf, similarity.CountOptions{Scope: scope, Lookback: affinity.Months(1)})
		require.NoError(t, err)
		require.NoError(t, p.Add(similarity.Transaction{Customer: "x"}))
		require.NoError(t, p.Add(similarity.Transaction{Customer: "y", Orders: []similarity.TxOrder{{Key: "r", Unix: start + 10}}}))
		require.NoError(t, p.Add(similarity.Transaction{Customer: "z", Orders: []similarity.TxOrder{
			{Key: "s", Unix: start, Products: []affinity.ProductID{0, 1}},           // on the start: out
			{Key: "t", Unix: asOf.Unix() + 1, Products: []affinity.ProductID{0, 1}}, // after the as-of time
			{Key: "u", Unix: start + 5, Products: []affinity.ProductID{2}},          // returns earlier in u …
			{Key: "u", Unix: start - 5},                                             // … move u out
		}}))
		if scope != similarity.Basket {
			require.NoError(t, p.Add(similarity.Transaction{Orders: []similarity.TxOrder{{Key: "a", Unix: start + 1, Products: []affinity.ProductID{0, 1}}}}))
		}
		assert.Zero(t, p.Total(), "%v", scope)
		c, err := p.Counts(3)
		require.NoError(t, err)
		assert.Zero(t, c.Total(), "%v", scope)
		assert.Zero(t, c.NumPairs(), "%v", scope)
		for q := range affinity.ProductID(3) {
			assert.Zero(t, c.Support(q), "%v", scope)
		}

		// a product id past the catalog is an error of Counts, and a huge
		// one allocates nothing in proportion
		require.NoError(t, p.Add(similarity.Transaction{Customer: "w", Orders: []similarity.TxOrder{{Key: "v", Unix: start + 1, Products: []affinity.ProductID{1, math.MaxUint32}}}}))
		_, err = p.Counts(3)
		assert.Error(t, err, "%v", scope)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, _ = p.Counts(3)
		runtime.ReadMemStats(&m1)
		assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(1<<20), "bytes allocated")
	}
}
