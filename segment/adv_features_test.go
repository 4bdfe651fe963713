package segment_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/csvtext"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// The read side of an index (Features, FeaturesOf, Spend, Stats, the RFM
// and lifecycle tables, ScoreGrid, WriteCSV and the numeric comparisons)
// against a model computed from the orders with maps and loops, following
// only the package documentation.

var featAsOf = time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)

type featLine struct {
	prod  string
	qty   int32
	price affinity.Money
}

type featOrder struct {
	cust, key string
	at        time.Time
	lines     []featLine
}

type featEvent struct {
	cust, prod string
	at         time.Time
	kind       affinity.EventKind
}

type featWorld struct {
	products map[string][]string
	orders   []featOrder
	events   []featEvent
}

var featProducts = map[string][]string{
	"pa": {"A/x"}, "pb": {"A/y"}, "pc": {"B"}, "pd": {"A/x", "B"}, "pe": nil,
}

func featHistory(t testing.TB, w featWorld) *affinity.History {
	t.Helper()
	var b affinity.Builder
	prods := slices.Sorted(func(yield func(string) bool) {
		for p := range w.products {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range prods {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Categories: w.products[p], InStock: true}))
	}
	for _, o := range w.orders {
		for _, l := range o.lines {
			require.NoError(t, b.Add(affinity.Purchase{Customer: o.cust, Product: l.prod, Order: o.key, Time: o.at,
				Quantity: l.qty, Price: l.price}))
		}
	}
	for _, e := range w.events {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: e.at, Kind: e.kind, Weight: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// featCust is one customer as the documentation defines the features.
type featCust struct {
	key              string
	known            bool
	bought           bool
	first, last      time.Time // of purchases (orders with a bought line) up to asOf
	recency, tenure  int       // -1 when none
	freq             int
	monetary         int64
	aov              int64
	hasAOV           bool
	r, f, m          int
	rfm, stage       string
	abandoned        int // -1 when none
	activeDays       map[string]bool
	lastCart, lastBy map[string]time.Time
}

type featModel struct {
	asOf, start time.Time
	all         bool // AllTime
	opts        segment.Options
	cust        map[string]*featCust
	totalRev    int64
}

func featDays(asOf, t time.Time) int { return int(asOf.Sub(t) / segment.Day) }

// featRound is a/b rounded half away from zero.
func featRound(a, b int64) int64 {
	q, r := a/b, a%b
	if 2*featAbs64(r) >= featAbs64(b) {
		if (a < 0) != (b < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func featAbs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func featNewModel(w featWorld, asOf time.Time, opts segment.Options) *featModel {
	lb := opts.Lookback
	if lb.IsZero() {
		lb = affinity.Months(segment.DefaultLookbackMonths)
	}
	m := &featModel{asOf: asOf, start: lb.Start(asOf), all: lb.All, opts: opts, cust: map[string]*featCust{}}
	inWin := func(t time.Time) bool { return !t.After(asOf) && (m.all || t.After(m.start)) }
	get := func(k string) *featCust {
		c := m.cust[k]
		if c == nil {
			c = &featCust{key: k, recency: -1, tenure: -1, abandoned: -1, activeDays: map[string]bool{},
				lastCart: map[string]time.Time{}, lastBy: map[string]time.Time{}}
			m.cust[k] = c
		}
		return c
	}
	for _, o := range w.orders {
		if o.cust == "" || o.at.After(asOf) {
			continue
		}
		c := get(o.cust)
		c.known = true
		buy := false
		var val int64
		for _, l := range o.lines {
			val += int64(l.qty) * int64(l.price)
			if l.qty > 0 {
				buy = true
				if o.at.After(c.lastBy[l.prod]) {
					c.lastBy[l.prod] = o.at
				}
			}
		}
		if buy {
			if !c.bought || o.at.Before(c.first) {
				c.first = o.at
			}
			if !c.bought || o.at.After(c.last) {
				c.last = o.at
			}
			c.bought = true
			c.activeDays[o.at.UTC().Format(time.DateOnly)] = true
		}
		if inWin(o.at) {
			c.monetary += val
			if buy {
				c.freq++
			}
		}
	}
	for _, e := range w.events {
		if e.at.After(asOf) {
			continue
		}
		c := get(e.cust)
		c.known = true
		if e.kind == affinity.Cart && inWin(e.at) && e.at.After(c.lastCart[e.prod]) {
			c.lastCart[e.prod] = e.at
		}
	}
	lapse, churn, loyal := opts.LapseAfter, opts.ChurnAfter, opts.LoyalOrders
	if lapse == 0 {
		lapse = segment.DefaultLapseAfter
		if !m.all && asOf.Sub(m.start) < lapse {
			lapse = asOf.Sub(m.start) // whole days in these tests
		}
	}
	if churn == 0 {
		churn = segment.DefaultChurnAfter
	}
	if loyal == 0 {
		loyal = segment.DefaultLoyalOrders
	}
	var scored []*featCust
	for _, c := range m.cust {
		if !c.known {
			continue
		}
		for p, ct := range c.lastCart {
			if b, ok := c.lastBy[p]; ok && b.After(ct) {
				continue
			}
			if d := featDays(asOf, ct); c.abandoned < 0 || d < c.abandoned {
				c.abandoned = d
			}
		}
		m.totalRev += c.monetary
		if c.bought {
			c.recency, c.tenure = featDays(asOf, c.last), featDays(asOf, c.first)
			switch {
			case c.recency > int(churn/segment.Day):
				c.stage = segment.StageChurned
			case c.recency > int(lapse/segment.Day) || c.freq == 0:
				c.stage = segment.StageLapsing
			case c.freq >= loyal:
				c.stage = segment.StageLoyal
			case c.freq >= 2:
				c.stage = segment.StageRepeat
			default:
				c.stage = segment.StageNew
			}
		}
		if c.freq > 0 {
			c.hasAOV, c.aov = true, featRound(c.monetary, int64(c.freq))
			scored = append(scored, c)
		}
	}
	n := len(scored)
	if opts.RFMScoring == segment.RFMNTile {
		tile := func(val func(c *featCust) int64, set func(c *featCust, s int)) {
			s := slices.Clone(scored)
			slices.SortFunc(s, func(a, b *featCust) int {
				return cmp.Or(cmp.Compare(val(a), val(b)), strings.Compare(a.key, b.key))
			})
			size, extra, pos := n/5, n%5, 0
			for tl := 1; tl <= 5; tl++ {
				sz := size
				if tl <= extra {
					sz++
				}
				for range sz {
					set(s[pos], tl)
					pos++
				}
			}
		}
		tile(func(c *featCust) int64 { return c.last.Unix() }, func(c *featCust, s int) { c.r = s })
		tile(func(c *featCust) int64 { return int64(c.freq) }, func(c *featCust, s int) { c.f = s })
		tile(func(c *featCust) int64 { return c.monetary }, func(c *featCust, s int) { c.m = s })
	} else {
		for _, c := range scored {
			var l, g [3]int // customers with a worse and a better R, F, M value
			for _, d := range scored {
				for j, o := range [3]int{cmp.Compare(c.recency, d.recency), cmp.Compare(d.freq, c.freq), cmp.Compare(d.monetary, c.monetary)} {
					if o < 0 {
						l[j]++
					} else if o > 0 {
						g[j]++
					}
				}
			}
			c.r, c.f, c.m = modelRankScore(l[0], g[0], n), modelRankScore(l[1], g[1], n), modelRankScore(l[2], g[2], n)
		}
	}
	rules := opts.RFMRules
	if rules == nil {
		rules = segment.DefaultRFMRules()
	}
	in := func(v int, r segment.ScoreRange) bool {
		if r == (segment.ScoreRange{}) {
			return true
		}
		return v >= r.Min && v <= r.Max
	}
	for _, c := range scored {
		for _, r := range rules {
			if in(c.r, r.R) && in(c.f, r.F) && in(c.m, r.M) {
				c.rfm = r.Name
				break
			}
		}
	}
	return m
}

// featFeatures is what Index.Features should return for c.
func (c *featCust) features() segment.Features {
	f := segment.Features{Customer: c.key, Recency: c.recency, Tenure: c.tenure, Frequency: c.freq,
		Monetary: affinity.Money(c.monetary), R: c.r, F: c.f, M: c.m, RFM: c.rfm, Stage: c.stage,
		AbandonedCartDays: c.abandoned}
	if c.hasAOV {
		f.AOV = affinity.Money(c.aov)
	}
	return f
}

// featRandomWorld is a small shop around featAsOf with returns, free
// items, orders exactly on day and look-back edges, anonymous orders,
// customers with events only and customers who start after asOf.
func featRandomWorld(rng *rand.Rand, nc int) featWorld {
	w := featWorld{products: featProducts}
	prods := []string{"pa", "pb", "pc", "pd", "pe"}
	start := testdata.MonthsBefore(featAsOf, segment.DefaultLookbackMonths)
	when := func() time.Time {
		switch rng.IntN(16) {
		case 0:
			return featAsOf
		case 1:
			return start
		case 2:
			return start.Add(time.Second)
		case 3:
			return featAsOf.Add(-time.Duration(rng.IntN(400)) * segment.Day) // exact day edges
		case 4:
			return featAsOf.Add(-time.Duration(rng.IntN(400))*segment.Day + time.Second)
		case 5:
			return featAsOf.Add(time.Duration(1+rng.IntN(1000)) * time.Minute) // after asOf
		case 6:
			return featAsOf.AddDate(-3, 0, -rng.IntN(100)) // before the look-back
		case 7:
			return featAsOf.Add(-time.Duration(rng.IntN(30)) * segment.Day).Add(-time.Duration(rng.IntN(86400)) * time.Second)
		}
		return featAsOf.Add(-time.Duration(rng.IntN(800*86400)) * time.Second)
	}
	keys := []string{"a,b", `q"uote`, "line\nbreak", " lead", "é", "=1+1", "x;y", ""}
	order := 0
	for c := range nc {
		key := fmt.Sprintf("c%02d", c)
		if c < len(keys)-1 {
			key = keys[c] + key
		}
		kind := rng.IntN(10)
		switch {
		case kind == 0: // events only
			for range 1 + rng.IntN(3) {
				w.events = append(w.events, featEvent{key, prods[rng.IntN(len(prods))], when(), affinity.EventKind(1 + rng.IntN(4))})
			}
			continue
		case kind == 2 && c%2 == 0: // first seen after asOf: unknown to the index
			order++
			w.orders = append(w.orders, featOrder{key, fmt.Sprint("o", order), featAsOf.Add(time.Duration(1+rng.IntN(5)) * time.Second),
				[]featLine{{prods[rng.IntN(len(prods))], 1, 10000}}})
			w.events = append(w.events, featEvent{key, "pa", featAsOf.Add(time.Minute), affinity.Cart})
			continue
		case kind == 1: // returns only
			order++
			w.orders = append(w.orders, featOrder{key, fmt.Sprint("o", order), when(),
				[]featLine{{prods[rng.IntN(len(prods))], -1 - int32(rng.IntN(2)), affinity.Money(100 * rng.IntN(900))}}})
			continue
		}
		for range 1 + rng.IntN(5) {
			order++
			o := featOrder{key, fmt.Sprint("o", order), when(), nil}
			for range 1 + rng.IntN(3) {
				l := featLine{prods[rng.IntN(len(prods))], 1 + int32(rng.IntN(3)), affinity.Money(rng.IntN(4) * 2500)}
				if rng.IntN(6) == 0 {
					l.qty = -l.qty
				}
				if rng.IntN(8) == 0 {
					l.price = 0
				}
				o.lines = append(o.lines, l)
			}
			w.orders = append(w.orders, o)
		}
		for range rng.IntN(3) {
			// carts and views; an odd second so that no cart ties with a purchase
			at := featAsOf.Add(-time.Duration(rng.IntN(300))*segment.Day - time.Duration(1+2*rng.IntN(40000))*time.Second)
			w.events = append(w.events, featEvent{key, prods[rng.IntN(len(prods))], at, affinity.EventKind(1 + rng.IntN(2))})
		}
	}
	for range 5 { // anonymous orders: never anyone's
		order++
		w.orders = append(w.orders, featOrder{"", fmt.Sprint("anon", order), when(), []featLine{{"pa", 5, 1_000_000}}})
	}
	return w
}

func featCheckModel(t *testing.T, msg string, h *affinity.History, x *segment.Index, m *featModel) {
	t.Helper()
	known := roaring.New()
	for c := range h.NumCustomers() {
		id := affinity.CustomerID(c)
		key := h.CustomerKey(id)
		mc := m.cust[key]
		f, ok := x.Features(id)
		if mc == nil || !mc.known {
			assert.False(t, ok, "%s: %q is not known by asOf", msg, key)
			assert.Zero(t, x.Spend(id), "%s: %q", msg, key)
			continue
		}
		known.Add(uint32(c))
		require.True(t, ok, "%s: %q", msg, key)
		assert.Equal(t, mc.features(), f, "%s: %q", msg, key)
		assert.Equal(t, affinity.Money(mc.monetary), x.Spend(id), "%s: %q", msg, key)
	}
	assert.Equal(t, int(known.GetCardinality()), x.Len(), msg)
	assert.True(t, known.Equals(x.All()), msg)
	// FeaturesOf, with ids the index does not know mixed in
	set := x.All()
	set.AddMany([]uint32{uint32(h.NumCustomers()), uint32(h.NumCustomers()) + 70000, 1 << 31})
	for c := range h.NumCustomers() {
		set.Add(uint32(c))
	}
	fs := x.FeaturesOf(set)
	require.Len(t, fs, x.Len(), msg)
	for i, c := range known.ToArray() {
		assert.Equal(t, m.cust[h.CustomerKey(affinity.CustomerID(c))].features(), fs[i], "%s: FeaturesOf[%d]", msg, i)
	}
}

func featWantStats(h *affinity.History, m *featModel, name string, set *roaring.Bitmap, n int) segment.Stats {
	s := segment.Stats{Name: name}
	for _, c := range set.ToArray() {
		if int(c) >= h.NumCustomers() {
			continue
		}
		mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]
		if mc == nil || !mc.known {
			continue
		}
		s.Customers++
		s.Revenue += affinity.Money(mc.monetary)
		s.Orders += int64(mc.freq)
	}
	if n > 0 {
		s.Share = float64(s.Customers) / float64(n)
	}
	if m.totalRev > 0 {
		s.RevenueShare = float64(s.Revenue) / float64(m.totalRev)
	}
	if s.Orders > 0 {
		s.AOV = affinity.Money(featRound(int64(s.Revenue), s.Orders))
	}
	return s
}

func featAssertStats(t *testing.T, msg string, want, got segment.Stats) {
	t.Helper()
	assert.Equal(t, want.Name, got.Name, msg)
	assert.Equal(t, want.Customers, got.Customers, msg)
	assert.InDelta(t, want.Share, got.Share, 1e-12, msg)
	assert.Equal(t, want.Revenue, got.Revenue, msg)
	assert.InDelta(t, want.RevenueShare, got.RevenueShare, 1e-12, msg)
	assert.Equal(t, want.Orders, got.Orders, msg)
	assert.Equal(t, want.AOV, got.AOV, msg)
}

var featOptions = []struct {
	name string
	opts segment.Options
}{
	{"default", segment.Options{}},
	{"ntile", segment.Options{RFMScoring: segment.RFMNTile}},
	{"days90", segment.Options{Lookback: affinity.Days(90)}},
	{"months1", segment.Options{Lookback: affinity.Months(1)}},
	{"alltime", segment.Options{Lookback: affinity.AllTime}},
	{"tight", segment.Options{LoyalOrders: 2, LapseAfter: 30 * segment.Day, ChurnAfter: 31 * segment.Day}},
	{"halflife", segment.Options{HalfLife: 30 * segment.Day, TopN: 1}},
	// rules that leave scored customers in no segment, on M too
	{"rules", segment.Options{RFMScoring: segment.RFMNTile, RFMRules: []segment.RFMRule{
		{Name: "Big spenders", M: segment.ScoreRange{Min: 5, Max: 5}},
		{Name: "Fresh", R: segment.ScoreRange{Min: 4, Max: 5}, F: segment.ScoreRange{Min: 1, Max: 2}},
		{Name: "Middle", R: segment.ScoreRange{Min: 3, Max: 3}, F: segment.ScoreRange{Min: 3, Max: 3}, M: segment.ScoreRange{Min: 2, Max: 4}},
	}}},
}

// Features, FeaturesOf, Spend, Len and All against the model on random
// small worlds under several options.
func TestFeatFeaturesMatchModel(t *testing.T) {
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 77))
		w := featRandomWorld(rng, 25+int(seed)*3)
		h := featHistory(t, w)
		for _, o := range featOptions {
			msg := fmt.Sprintf("seed %d %s", seed, o.name)
			x, err := segment.Build(context.Background(), h, featAsOf, o.opts)
			require.NoError(t, err, msg)
			m := featNewModel(w, featAsOf, o.opts)
			featCheckModel(t, msg, h, x, m)
		}
	}
}

// Stats (both the small-set and the large-set ways), RFMTable,
// LifecycleTable and ScoreGrid against sums over the model, with ids the
// index does not know in the sets.
func TestFeatStatsAndTables(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 78))
		w := featRandomWorld(rng, 40)
		h := featHistory(t, w)
		for _, o := range []int{0, 1, len(featOptions) - 1} {
			o := featOptions[o]
			msg := fmt.Sprintf("seed %d %s", seed, o.name)
			x, err := segment.Build(context.Background(), h, featAsOf, o.opts)
			require.NoError(t, err, msg)
			m := featNewModel(w, featAsOf, o.opts)
			n := x.Len()
			junk := []uint32{uint32(h.NumCustomers()), uint32(h.NumCustomers() + 1), 1 << 20}
			for c := range h.NumCustomers() {
				if mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]; mc == nil || !mc.known {
					junk = append(junk, uint32(c))
				}
			}
			for _, size := range []int{0, 1, 2, n / 10, n / 8, n/8 + 1, n / 2, n} {
				set := roaring.New()
				for _, i := range rng.Perm(h.NumCustomers())[:min(size, h.NumCustomers())] {
					set.Add(uint32(i))
				}
				for _, j := range junk {
					if rng.IntN(2) == 0 {
						set.Add(j)
					}
				}
				featAssertStats(t, fmt.Sprintf("%s size %d", msg, size), featWantStats(h, m, "s", set, n), x.Stats("s", set))
			}
			featAssertStats(t, msg+" nil", featWantStats(h, m, "z", roaring.New(), n), x.Stats("z", nil))
			// tables: each row is the Stats of the customers of its segment
			byName := func(get func(c *featCust) string, name string) *roaring.Bitmap {
				b := roaring.New()
				for c := range h.NumCustomers() {
					if mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]; mc != nil && mc.known && strings.EqualFold(get(mc), name) {
						b.Add(uint32(c))
					}
				}
				return b
			}
			rules := o.opts.RFMRules
			if rules == nil {
				rules = segment.DefaultRFMRules()
			}
			rfm := x.RFMTable()
			require.Len(t, rfm, len(rules), msg)
			for i, r := range rules {
				set := byName(func(c *featCust) string { return c.rfm }, r.Name)
				featAssertStats(t, msg+" rfm "+r.Name, featWantStats(h, m, r.Name, set, n), rfm[i])
				got, err := x.Query(fmt.Sprintf("rfm(%q)", strings.ToUpper(r.Name)))
				require.NoError(t, err, msg)
				assert.True(t, set.Equals(got), "%s rfm %s: %v vs %v", msg, r.Name, set.ToArray(), got.ToArray())
			}
			life := x.LifecycleTable()
			require.Len(t, life, len(segment.Stages()), msg)
			for i, st := range segment.Stages() {
				set := byName(func(c *featCust) string { return c.stage }, st)
				featAssertStats(t, msg+" stage "+st, featWantStats(h, m, st, set, n), life[i])
				got, err := x.Query(fmt.Sprintf("lifecycle(%q)", strings.ToUpper(st[:1])+st[1:]))
				require.NoError(t, err, msg)
				assert.True(t, set.Equals(got), "%s stage %s: %v vs %v", msg, st, set.ToArray(), got.ToArray())
			}
			// ScoreGrid R×F and M×M with junk ids in the set
			all := x.All()
			all.AddMany(junk)
			for _, g := range []struct {
				row, col segment.Attr
				r, c     func(*featCust) int
			}{
				{segment.RScore(), segment.FScore(), func(c *featCust) int { return c.r }, func(c *featCust) int { return c.f }},
				{segment.MScore(), segment.MScore(), func(c *featCust) int { return c.m }, func(c *featCust) int { return c.m }},
			} {
				cells, err := x.ScoreGrid(g.row, g.col, all)
				require.NoError(t, err, msg)
				for i := range 5 {
					for j := range 5 {
						set := roaring.New()
						for c := range h.NumCustomers() {
							mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]
							if mc != nil && mc.known && g.r(mc) == i+1 && g.c(mc) == j+1 {
								set.Add(uint32(c))
							}
						}
						featAssertStats(t, fmt.Sprintf("%s grid %v×%v [%d][%d]", msg, g.row, g.col, i, j),
							featWantStats(h, m, "", set, n), cells[i][j])
					}
				}
			}
		}
	}
}

// WriteCSV: the header, one row per known customer of the set in id
// order, keys that need quoting read back exactly, absent values empty,
// money as exact decimals; unknown ids skipped; a failing writer is an
// error.
func TestFeatWriteCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 79))
	w := featRandomWorld(rng, 30)
	h := featHistory(t, w)
	x, err := segment.Build(context.Background(), h, featAsOf, segment.Options{})
	require.NoError(t, err)
	m := featNewModel(w, featAsOf, segment.Options{})
	set := roaring.New()
	for c := range h.NumCustomers() + 3 {
		set.Add(uint32(c))
	}
	set.Add(1 << 30)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, set))
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	require.NoError(t, err, buf.String())
	require.Equal(t, []string{"customer", "recency_days", "tenure_days", "frequency", "monetary", "aov",
		"r", "f", "m", "rfm_segment", "lifecycle", "abandoned_cart_days"}, rows[0])
	require.Len(t, rows, x.Len()+1)
	num := func(v int) string {
		if v < 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	score := func(v int) string {
		if v <= 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	i := 1
	for _, c := range x.All().ToArray() {
		mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]
		want := []string{csvtext.Cell(mc.key), num(mc.recency), num(mc.tenure), strconv.Itoa(mc.freq), "", "",
			score(mc.r), score(mc.f), score(mc.m), mc.rfm, mc.stage, num(mc.abandoned)}
		row := rows[i]
		i++
		require.Len(t, row, len(want))
		// money: the exact decimal, whatever the number of digits
		mon, err := affinity.ParseMoney(row[4], '.')
		require.NoError(t, err, "monetary %q", row[4])
		assert.Equal(t, affinity.Money(mc.monetary), mon, "%q monetary %q", mc.key, row[4])
		if mc.hasAOV {
			aov, err := affinity.ParseMoney(row[5], '.')
			require.NoError(t, err, "aov %q", row[5])
			assert.Equal(t, affinity.Money(mc.aov), aov, "%q aov %q", mc.key, row[5])
		} else {
			assert.Empty(t, row[5], "%q aov", mc.key)
		}
		row[4], row[5] = "", ""
		assert.Equal(t, want, row, "%q", mc.key)
	}
	// a set of nobody the index knows: the header alone
	var only bytes.Buffer
	require.NoError(t, x.WriteCSV(&only, roaring.BitmapOf(uint32(h.NumCustomers()), 1<<31)))
	assert.Equal(t, 1, strings.Count(only.String(), "\n"), only.String())
	// a writer that fails is an error, at the header or later
	for _, limit := range []int{0, 10, 200, buf.Len() - 1} {
		err := x.WriteCSV(&featFailAfter{n: limit}, set)
		require.Error(t, err, "fail after %d bytes", limit)
	}
}

type featFailAfter struct{ n int }

var errFeatWrite = errors.New("feat: write failed")

func (w *featFailAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFeatWrite
	}
	w.n -= len(p)
	return len(p), nil
}

// featPlanted builds an index of planted customers, each with the given
// orders (offsets before asOf, net values in Money), and returns the index
// and the ids by key.
type featPlant struct {
	key    string
	orders []featOrder
}

func featBuildPlanted(t *testing.T, opts segment.Options, extra func(w *featWorld), plants ...featPlant) (*segment.Index, *affinity.History, map[string]uint32, featWorld) {
	t.Helper()
	w := featWorld{products: featProducts}
	for i, p := range plants {
		for j, o := range p.orders {
			o.cust = p.key
			if o.key == "" {
				o.key = fmt.Sprintf("%s-%d-%d", p.key, i, j)
			}
			w.orders = append(w.orders, o)
		}
	}
	if extra != nil {
		extra(&w)
	}
	h := featHistory(t, w)
	x, err := segment.Build(context.Background(), h, featAsOf, opts)
	require.NoError(t, err)
	ids := map[string]uint32{}
	for c := range h.NumCustomers() {
		ids[h.CustomerKey(affinity.CustomerID(c))] = uint32(c)
	}
	return x, h, ids, w
}

func featBuy(ago time.Duration, price affinity.Money) featOrder {
	return featOrder{at: featAsOf.Add(-ago), lines: []featLine{{"pa", 1, price}}}
}

func featKeys(t *testing.T, x *segment.Index, b *roaring.Bitmap) []string {
	t.Helper()
	return slices.Sorted(x.Keys(b))
}

// Lifecycle and recency at exact day edges: whole days of 24 hours, the
// stage by whole days of recency, the look-back (start, asOf].
func TestFeatLifecycleEdges(t *testing.T) {
	d := segment.Day
	type want struct {
		recency int
		freq    int
		stage   string
	}
	cases := []struct {
		key    string
		orders []featOrder
		want   want
	}{
		{"now", []featOrder{featBuy(0, 100)}, want{0, 1, "new"}},
		{"23h59", []featOrder{featBuy(d-time.Second, 100)}, want{0, 1, "new"}},
		{"1d", []featOrder{featBuy(d, 100)}, want{1, 1, "new"}},
		{"180d23h", []featOrder{featBuy(181*d-time.Second, 100), featBuy(200*d, 5)}, want{180, 2, "repeat"}},
		{"181d", []featOrder{featBuy(181*d, 100)}, want{181, 1, "lapsing"}},
		{"365d23h", []featOrder{featBuy(366*d-time.Second, 100)}, want{365, 1, "lapsing"}},
		{"366d", []featOrder{featBuy(366*d, 100)}, want{366, 1, "churned"}},
		{"loyal", []featOrder{featBuy(d, 1), featBuy(2*d, 1), featBuy(3*d, 1), featBuy(4*d, 1)}, want{1, 4, "loyal"}},
		// a return-only order is no purchase: recency from the earlier one
		{"ret", []featOrder{featBuy(10*d, 500), {at: featAsOf.Add(-d), lines: []featLine{{"pa", -1, 500}}}}, want{10, 1, "new"}},
		// a mixed order with a bought line is a purchase
		{"mixed", []featOrder{{at: featAsOf.Add(-2 * d), lines: []featLine{{"pa", -3, 500}, {"pb", 1, 0}}}}, want{2, 1, "new"}},
		// returns only: known, no purchase, no stage
		{"onlyret", []featOrder{{at: featAsOf.Add(-2 * d), lines: []featLine{{"pa", -1, 500}}}}, want{-1, 0, ""}},
		// free items: a purchase of zero spend
		{"free", []featOrder{{at: featAsOf.Add(-3 * d), lines: []featLine{{"pa", 2, 0}}}}, want{3, 1, "new"}},
		// only before the look-back: churned, no frequency
		{"old", []featOrder{{at: featAsOf.AddDate(-2, 0, 0), lines: []featLine{{"pa", 1, 100}}}}, want{731, 0, "churned"}},
	}
	var plants []featPlant
	for _, c := range cases {
		plants = append(plants, featPlant{c.key, c.orders})
	}
	x, h, ids, w := featBuildPlanted(t, segment.Options{}, func(w *featWorld) {
		w.events = append(w.events, featEvent{"viewer", "pa", featAsOf.Add(-d), affinity.View})
		w.orders = append(w.orders, featOrder{"", "anon", featAsOf, []featLine{{"pa", 9, 1_000_000}}},
			featOrder{"later", "later", featAsOf.Add(time.Second), []featLine{{"pa", 1, 1}}})
	}, plants...)
	for _, c := range cases {
		f, ok := x.Features(affinity.CustomerID(ids[c.key]))
		require.True(t, ok, c.key)
		assert.Equal(t, c.want, want{f.Recency, f.Frequency, f.Stage}, c.key)
	}
	f, ok := x.Features(affinity.CustomerID(ids["viewer"]))
	require.True(t, ok)
	assert.Equal(t, segment.Features{Customer: "viewer", Recency: -1, Tenure: -1, AbandonedCartDays: -1}, f)
	_, ok = x.Features(affinity.CustomerID(ids["later"]))
	assert.False(t, ok, "a customer whose first order is after asOf")
	// the whole model agrees, anonymous order excluded
	featCheckModel(t, "planted", h, x, featNewModel(w, featAsOf, segment.Options{}))
	// the stages partition the customers who bought
	bought, err := x.Query(`recency >= 0`)
	require.NoError(t, err)
	union := roaring.New()
	var sum uint64
	for _, st := range segment.Stages() {
		s, err := x.Eval(segment.Lifecycle(st))
		require.NoError(t, err)
		sum += s.GetCardinality()
		union.Or(s)
	}
	assert.True(t, union.Equals(bought))
	assert.Equal(t, bought.GetCardinality(), sum)
}

// The parenthetical of the package documentation: with a look-back of
// calendar months, a purchase just before the look-back's start can be
// LapseAfter days ago or less, and such a customer is lapsing; the
// default LapseAfter is the look-back's length when that is shorter.
func TestFeatLapsingBeforeShortLookback(t *testing.T) {
	d := segment.Day
	start := testdata.MonthsBefore(featAsOf, 1) // 2024-05-30 12:00, 31 days
	require.Equal(t, 31*d, featAsOf.Sub(start))
	x, _, ids, _ := featBuildPlanted(t, segment.Options{Lookback: affinity.Months(1)}, nil,
		featPlant{"atstart", []featOrder{{at: start, lines: []featLine{{"pa", 1, 100}}}}},
		featPlant{"inside", []featOrder{{at: start.Add(time.Second), lines: []featLine{{"pa", 1, 100}}}}},
		featPlant{"32d", []featOrder{featBuy(32*d, 100)}},
		featPlant{"400d", []featOrder{featBuy(400*d, 100)}},
	)
	for key, w := range map[string][3]any{
		"atstart": {31, 0, "lapsing"},
		"inside":  {30, 1, "new"},
		"32d":     {32, 0, "lapsing"},
		"400d":    {400, 0, "churned"},
	} {
		f, ok := x.Features(affinity.CustomerID(ids[key]))
		require.True(t, ok)
		assert.Equal(t, w, [3]any{f.Recency, f.Frequency, f.Stage}, key)
	}
	o := x.Options()
	assert.Equal(t, 31*d, o.LapseAfter, "the default LapseAfter is the look-back's length when shorter")
	// options that cannot hold
	h := featHistory(t, featWorld{products: featProducts, orders: []featOrder{{"c", "o", featAsOf, []featLine{{"pa", 1, 1}}}}})
	for _, bad := range []segment.Options{
		{Lookback: affinity.Days(30), LapseAfter: 31 * d},
		{LapseAfter: 100 * d, ChurnAfter: 100 * d},
		{LapseAfter: 100 * d, ChurnAfter: 99 * d},
		{LoyalOrders: 1},
		{TopN: 65},
	} {
		_, err := segment.Build(context.Background(), h, featAsOf, bad)
		require.ErrorIs(t, err, segment.ErrInvalid, "%+v", bad)
	}
}

// RFMRank on planted values: ties share a score, scores skip, 40% with
// one order get F=1 and two orders, the most anyone has, F=5 (the
// documented example has customers with more orders, where two start at
// F=3), negative and zero spend rank lowest.
func TestFeatRFMRankPlanted(t *testing.T) {
	d := segment.Day
	var plants []featPlant
	// 10 scored customers: 4 with one order, 6 with two
	for i := range 10 {
		p := featPlant{key: fmt.Sprintf("k%d", i)}
		p.orders = append(p.orders, featBuy(time.Duration(i)*d+time.Hour, affinity.Money(i*100)))
		if i >= 4 {
			p.orders = append(p.orders, featBuy(50*d, 0))
		}
		plants = append(plants, p)
	}
	// k0 returns more than it spent: monetary negative, still scored
	plants[0].orders = append(plants[0].orders, featOrder{at: featAsOf.Add(-60 * d), lines: []featLine{{"pa", -1, 10_000}}})
	// two customers not scored: returns only, and only before the look-back
	plants = append(plants,
		featPlant{"ret", []featOrder{{at: featAsOf.Add(-d), lines: []featLine{{"pa", -1, 100}}}}},
		featPlant{"old", []featOrder{{at: featAsOf.AddDate(-3, 0, 0), lines: []featLine{{"pa", 1, 100}}}}})
	x, h, ids, w := featBuildPlanted(t, segment.Options{}, nil, plants...)
	featCheckModel(t, "rfm planted", h, x, featNewModel(w, featAsOf, segment.Options{}))
	for i := range 10 {
		f, _ := x.Features(affinity.CustomerID(ids[fmt.Sprintf("k%d", i)]))
		wantF := 1
		if i >= 4 {
			wantF = 5
		}
		assert.Equal(t, wantF, f.F, "k%d", i)
		// recency i days: L = customers more days ago = 9-i
		assert.Equal(t, 1+5*(9-i)/10, f.R, "k%d", i)
	}
	for _, k := range []string{"ret", "old"} {
		f, ok := x.Features(affinity.CustomerID(ids[k]))
		require.True(t, ok)
		assert.Equal(t, [4]any{0, 0, 0, ""}, [4]any{f.R, f.F, f.M, f.RFM}, k)
		assert.Equal(t, affinity.Money(0), f.AOV, k)
	}
	f0, _ := x.Features(affinity.CustomerID(ids["k0"]))
	assert.Equal(t, 1, f0.M, "negative spend ranks lowest")
	assert.Less(t, int64(f0.Monetary), int64(0))
	got, err := x.Query(`fscore = 2 or fscore = 3 or fscore = 4`)
	require.NoError(t, err)
	assert.Zero(t, got.GetCardinality(), "skipped scores hold nobody")
	got, err = x.Query(`rscore >= 1`)
	require.NoError(t, err)
	assert.Equal(t, uint64(10), got.GetCardinality(), "only customers with an order in the look-back are scored")
}

// Numeric comparisons at exact boundaries: >=, >, <=, <, =, != and
// between (inclusive) on days, orders and money, with the units d, w, m,
// y and fractional days, and money with cents and currency signs.
func TestFeatComparisonBoundaries(t *testing.T) {
	d := segment.Day
	var plants []featPlant
	recs := []int{0, 1, 3, 4, 6, 7, 8, 13, 14, 15, 27, 28, 29, 30, 31, 364, 365, 366}
	for _, r := range recs {
		plants = append(plants, featPlant{fmt.Sprintf("r%03d", r), []featOrder{featBuy(time.Duration(r)*d+time.Duration(r%3)*time.Hour, 1)}})
	}
	// money: 433.12, 433.11, 433.13, 0.01, 0, -5.50, -5.49, and an AOV of 10.005
	money := map[string]affinity.Money{"m43312": 4331200, "m43311": 4331100, "m43313": 4331300, "m001": 100,
		"m0": 0, "mneg550": -55000, "mneg549": -54900}
	for k, v := range money {
		p := featPlant{key: k}
		if v >= 0 {
			p.orders = []featOrder{featBuy(400*d, v)}
		} else {
			p.orders = []featOrder{featBuy(400*d, 0), {at: featAsOf.Add(-401 * d), lines: []featLine{{"pb", -1, -v}}}}
		}
		plants = append(plants, p)
	}
	plants = append(plants, featPlant{"aov", []featOrder{featBuy(500*d, 100000), featBuy(501*d, 100100)}}) // 20.01 / 2 = 10.005
	x, h, _, w := featBuildPlanted(t, segment.Options{}, nil, plants...)
	m := featNewModel(w, featAsOf, segment.Options{})
	featCheckModel(t, "boundaries", h, x, m)
	sel := func(f func(c *featCust) bool) []string {
		var out []string
		for _, c := range m.cust {
			if c.known && f(c) {
				out = append(out, c.key)
			}
		}
		slices.Sort(out)
		return out
	}
	rec := func(f func(int) bool) func(c *featCust) bool {
		return func(c *featCust) bool { return c.recency >= 0 && f(c.recency) }
	}
	mon := func(f func(int64) bool) func(c *featCust) bool {
		return func(c *featCust) bool { return f(c.monetary) }
	}
	for _, tc := range []struct {
		q    string
		want func(c *featCust) bool
	}{
		{"recency >= 7d", rec(func(v int) bool { return v >= 7 })},
		{"recency > 7d", rec(func(v int) bool { return v > 7 })},
		{"recency >= 1w", rec(func(v int) bool { return v >= 7 })},
		{"recency > 1w", rec(func(v int) bool { return v > 7 })},
		{"recency <= 1w", rec(func(v int) bool { return v <= 7 })},
		{"recency < 1w", rec(func(v int) bool { return v < 7 })},
		{"recency = 1w", rec(func(v int) bool { return v == 7 })},
		{"recency == 7", rec(func(v int) bool { return v == 7 })},
		{"recency != 7d", rec(func(v int) bool { return v != 7 })},
		{"recency between 14d and 28d", rec(func(v int) bool { return v >= 14 && v <= 28 })},
		{"recency between 2w and 4w", rec(func(v int) bool { return v >= 14 && v <= 28 })},
		{"RECENCY BETWEEN 14 AND 14", rec(func(v int) bool { return v == 14 })},
		{"recency <= 1m", rec(func(v int) bool { return v <= 30 })},
		{"recency > 1m", rec(func(v int) bool { return v > 30 })},
		{"recency >= 1y", rec(func(v int) bool { return v >= 365 })},
		{"recency > 1y", rec(func(v int) bool { return v > 365 })},
		{"recency < 0.5w", rec(func(v int) bool { return v <= 3 })},
		{"recency > 0.5w", rec(func(v int) bool { return v >= 4 })},
		{"recency between 0.5w and 1w", rec(func(v int) bool { return v >= 4 && v <= 7 })},
		{"recency = 3.5", rec(func(int) bool { return false })},
		{"recency != 3.5", rec(func(int) bool { return true })},
		{"not recency <= 30d", func(c *featCust) bool { return c.recency < 0 || c.recency > 30 }},
		{"tenure >= 365d and tenure <= 365", func(c *featCust) bool { return c.tenure == 365 }},
		{"tenure between 1y and 366", func(c *featCust) bool { return c.tenure >= 365 && c.tenure <= 366 }},
		{"frequency >= 2", func(c *featCust) bool { return c.freq >= 2 }},
		{"frequency > 1", func(c *featCust) bool { return c.freq > 1 }},
		{"frequency between 1 and 1", func(c *featCust) bool { return c.freq == 1 }},
		{"frequency < 1", func(c *featCust) bool { return c.freq < 1 }},
		{"monetary >= $433.12", mon(func(v int64) bool { return v >= 4331200 })},
		{"monetary > $433.12", mon(func(v int64) bool { return v > 4331200 })},
		{"monetary = 433.12", mon(func(v int64) bool { return v == 4331200 })},
		{"monetary = €433.120", mon(func(v int64) bool { return v == 4331200 })},
		{"monetary between £433.11 and 433.12", mon(func(v int64) bool { return v >= 4331100 && v <= 4331200 })},
		{"monetary > 433.1199999999", mon(func(v int64) bool { return v >= 4331200 })},
		{"monetary >= 433.1200000001", mon(func(v int64) bool { return v > 4331200 })},
		{"monetary <= 0.01", mon(func(v int64) bool { return v <= 100 })},
		{"monetary < $0.01", mon(func(v int64) bool { return v < 100 })},
		{"monetary = 0", mon(func(v int64) bool { return v == 0 })},
		{"monetary >= -$5.50", mon(func(v int64) bool { return v >= -55000 })},
		{"monetary > $-5.5", mon(func(v int64) bool { return v > -55000 })},
		{"monetary <= -5.49", mon(func(v int64) bool { return v <= -54900 })},
		{"monetary between -$5.50 and -5.49", mon(func(v int64) bool { return v >= -55000 && v <= -54900 })},
		{"aov = 10.005", func(c *featCust) bool { return c.hasAOV && c.aov == 100050 }},
		{"aov >= $10.005", func(c *featCust) bool { return c.hasAOV && c.aov >= 100050 }},
		{"aov > 10.005", func(c *featCust) bool { return c.hasAOV && c.aov > 100050 }},
		{"aov < 10.01", func(c *featCust) bool { return c.hasAOV && c.aov < 100100 }},
		{"aov >= -1000000", func(c *featCust) bool { return c.hasAOV }},
	} {
		got, err := x.Query(tc.q)
		require.NoError(t, err, tc.q)
		assert.Equal(t, sel(tc.want), featKeys(t, x, got), tc.q)
		// the Go form gives the same where it is a plain comparison
	}
	// Go-built comparisons at the same edges
	for _, tc := range []struct {
		e    segment.Expr
		want func(c *featCust) bool
	}{
		{segment.Recency().Between(14, 28), rec(func(v int) bool { return v >= 14 && v <= 28 })},
		{segment.Recency().GT(7), rec(func(v int) bool { return v > 7 })},
		{segment.Monetary().GE(433.12), mon(func(v int64) bool { return v >= 4331200 })},
		{segment.Monetary().LT(433.12), mon(func(v int64) bool { return v < 4331200 })},
		{segment.Monetary().Between(-5.5, -5.49), mon(func(v int64) bool { return v >= -55000 && v <= -54900 })},
		{segment.AOV().EQ(10.005), func(c *featCust) bool { return c.hasAOV && c.aov == 100050 }},
	} {
		got, err := x.Eval(tc.e)
		require.NoError(t, err, "%v", tc.e)
		assert.Equal(t, sel(tc.want), featKeys(t, x, got), "%v", tc.e)
	}
}

// Windows of bought, carted and abandoned: (asOf−within, asOf], while
// recency <= Nd includes a purchase exactly N days ago.
func TestFeatWindowsAtEdges(t *testing.T) {
	d := segment.Day
	x, _, _, _ := featBuildPlanted(t, segment.Options{}, func(w *featWorld) {
		w.events = append(w.events,
			featEvent{"c7", "pb", featAsOf.Add(-7 * d), affinity.Cart},
			featEvent{"c6", "pb", featAsOf.Add(-7*d + time.Second), affinity.Cart},
			featEvent{"cb", "pb", featAsOf.Add(-3 * d), affinity.Cart}, // bought after: not abandoned
		)
		w.orders = append(w.orders, featOrder{"cb", "cb-o", featAsOf.Add(-2 * d), []featLine{{"pb", 1, 100}}},
			// cr: returned after the cart: still abandoned
			featOrder{"cr", "cr-o", featAsOf.Add(-2 * d), []featLine{{"pb", -1, 100}}})
		w.events = append(w.events, featEvent{"cr", "pb", featAsOf.Add(-3 * d), affinity.Cart})
	},
		featPlant{"b7", []featOrder{featBuy(7*d, 100)}},
		featPlant{"b6", []featOrder{featBuy(7*d-time.Second, 100)}},
	)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{`bought("pa" within 7d)`, []string{"b6"}},
		{`bought("pa", 1w)`, []string{"b6"}},
		{`bought("A/x" within 8d)`, []string{"b6", "b7"}},
		{`recency <= 7d`, []string{"b6", "b7", "cb"}},
		{`recency < 7d`, []string{"b6", "cb"}},
		{`carted("pb" within 7d)`, []string{"c6", "cb", "cr"}},
		{`carted("pb" within 8d)`, []string{"c6", "c7", "cb", "cr"}},
		{`abandoned(7d)`, []string{"c6", "cr"}},
		{`abandoned()`, []string{"c6", "c7", "cr"}},
	} {
		got, err := x.Query(tc.q)
		require.NoError(t, err, tc.q)
		assert.Equal(t, tc.want, featKeys(t, x, got), tc.q)
	}
}

// Define: chains of named segments that refer to earlier ones answer as
// their expansion; a definition cannot refer to itself or to a later name
// (so no cycle can be made); branches of Define do not see each other.
func TestFeatDefineChains(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 80))
	w := featRandomWorld(rng, 30)
	h := featHistory(t, w)
	x, err := segment.Build(context.Background(), h, featAsOf, segment.Options{})
	require.NoError(t, err)
	defs := []struct{ name, src, expanded string }{
		{"a", `recency <= 30d`, `(recency <= 30d)`},
		{"b", `segment("a") or frequency >= 3`, `((recency <= 30d) or frequency >= 3)`},
		{"c", `segment("b") and not segment("a")`, `(((recency <= 30d) or frequency >= 3) and not (recency <= 30d))`},
		{"d", `segment("c") or segment("b") or segment("a") or monetary < 0`,
			`((((recency <= 30d) or frequency >= 3) and not (recency <= 30d)) or ((recency <= 30d) or frequency >= 3) or (recency <= 30d) or monetary < 0)`},
	}
	y := x
	for _, def := range defs {
		e, err := segment.Parse(def.src)
		require.NoError(t, err)
		y, err = y.Define(def.name, e)
		require.NoError(t, err, def.name)
		got, err := y.Query(fmt.Sprintf("segment(%q)", def.name))
		require.NoError(t, err)
		want, err := x.Query(def.expanded)
		require.NoError(t, err)
		assert.True(t, want.Equals(got), def.name)
	}
	assert.Equal(t, []string{"a", "b", "c", "d"}, y.Segments())
	assert.Empty(t, x.Segments())
	// no cycles: a name may refer only to names defined before it
	for _, tc := range []struct{ name, src string }{
		{"e", `segment("e")`},
		{"e", `segment("d") and segment("f")`},
		{"e", `not segment("E")`},
	} {
		e, err := segment.Parse(tc.src)
		require.NoError(t, err)
		z, err := y.Define(tc.name, e)
		require.ErrorIs(t, err, segment.ErrUnknown, tc.src)
		assert.Nil(t, z)
	}
	// redefinition, even to refer to a later one, is refused
	e, _ := segment.Parse(`segment("d")`)
	_, err = y.Define("a", e)
	require.ErrorIs(t, err, segment.ErrInvalid)
	// a branch from the middle of the chain does not see the later names
	mid := x
	for _, def := range defs[:2] {
		e, _ := segment.Parse(def.src)
		mid, err = mid.Define(def.name, e)
		require.NoError(t, err)
	}
	e, _ = segment.Parse(`segment("a") and frequency = 1`)
	other, err := mid.Define("c", e)
	require.NoError(t, err)
	got, err := other.Query(`segment("c")`)
	require.NoError(t, err)
	want, err := x.Query(`recency <= 30d and frequency = 1`)
	require.NoError(t, err)
	assert.True(t, want.Equals(got))
	got, err = y.Query(`segment("c")`)
	require.NoError(t, err)
	want, err = x.Query(defs[2].expanded)
	require.NoError(t, err)
	assert.True(t, want.Equals(got), "y's c is unchanged by the branch")
	_, err = mid.Query(`segment("c")`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	// a definition on one index evaluated on another that lacks the name
	_, err = x.Eval(segment.Segment("a"))
	require.ErrorIs(t, err, segment.ErrUnknown)
}

// featCheckReadSide checks every read-side method of x against the model.
func featCheckReadSide(t *testing.T, msg string, rng *rand.Rand, h *affinity.History, x *segment.Index, m *featModel) {
	t.Helper()
	featCheckModel(t, msg, h, x, m)
	n := x.Len()
	for _, size := range []int{1, 3, n / 9, n} {
		set := roaring.New()
		for _, i := range rng.Perm(h.NumCustomers())[:min(size, h.NumCustomers())] {
			set.Add(uint32(i))
		}
		set.Add(uint32(h.NumCustomers()) + 5)
		featAssertStats(t, fmt.Sprintf("%s size %d", msg, size), featWantStats(h, m, "s", set, n), x.Stats("s", set))
		cells, err := x.ScoreGrid(segment.RScore(), segment.FScore(), set)
		require.NoError(t, err)
		for i := range 5 {
			for j := range 5 {
				cell := roaring.New()
				for _, c := range set.ToArray() {
					if int(c) < h.NumCustomers() {
						if mc := m.cust[h.CustomerKey(affinity.CustomerID(c))]; mc != nil && mc.known && mc.r == i+1 && mc.f == j+1 {
							cell.Add(c)
						}
					}
				}
				featAssertStats(t, fmt.Sprintf("%s grid size %d [%d][%d]", msg, size, i, j), featWantStats(h, m, "", cell, n), cells[i][j])
			}
		}
		var buf bytes.Buffer
		require.NoError(t, x.WriteCSV(&buf, set))
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		var keys []string
		for _, r := range rows[1:] {
			keys = append(keys, csvtext.Text(r[0]))
		}
		assert.Equal(t, slices.Collect(x.Keys(roaring.And(set, x.All()))), keys, "%s: WriteCSV keys in id order", msg)
	}
}

// The read side of an updated index (deltas laid over a full one, on the
// same day and a later one) answers as the model of the new History.
func TestFeatUpdatedIndexReadSide(t *testing.T) {
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 81))
		w := featRandomWorld(rng, 40)
		h0 := featHistory(t, w)
		x, err := segment.Build(context.Background(), h0, featAsOf, segment.Options{})
		require.NoError(t, err)
		prev := h0
		asOf := featAsOf
		for step := range 3 {
			b := affinity.NewBuilder(prev)
			// a few changed customers: new orders, returns, carts; one newcomer
			for k := range 3 {
				c := w.orders[rng.IntN(len(w.orders))].cust
				if c == "" {
					continue
				}
				o := featOrder{c, fmt.Sprintf("u%d-%d", step, k), asOf.Add(-time.Duration(rng.IntN(3000)) * time.Minute),
					[]featLine{{"pc", int32(1 + rng.IntN(2)), affinity.Money(rng.IntN(3) * 10000)}}}
				if k == 1 {
					o.lines[0].qty = -1
				}
				w.orders = append(w.orders, o)
				require.NoError(t, b.Add(affinity.Purchase{Customer: o.cust, Product: "pc", Order: o.key, Time: o.at,
					Quantity: o.lines[0].qty, Price: o.lines[0].price}))
			}
			nw := featOrder{fmt.Sprintf("new%d", step), fmt.Sprint("n", step), asOf, []featLine{{"pa", 1, 12345}}}
			w.orders = append(w.orders, nw)
			require.NoError(t, b.Add(affinity.Purchase{Customer: nw.cust, Product: "pa", Order: nw.key, Time: nw.at, Quantity: 1, Price: 12345}))
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			if step == 2 {
				asOf = asOf.Add(3 * segment.Day)
			}
			x, err = segment.Update(context.Background(), x, prev, h, asOf, segment.UpdateOptions{})
			require.NoError(t, err)
			featCheckReadSide(t, fmt.Sprintf("seed %d step %d", seed, step), rng, h, x, featNewModel(w, asOf, segment.Options{}))
			prev = h
		}
	}
}

func TestFeatDefinedAttributeSegmentRoundTrips(t *testing.T) {
	x, _, ids, _ := featBuildPlanted(t, segment.Options{}, nil,
		featPlant{"h1", []featOrder{featBuy(segment.Day, 100)}}, featPlant{"h2", []featOrder{featBuy(2*segment.Day, 100)}})
	var a segment.Attributes
	require.NoError(t, a.SetFlag("optin", affinity.CustomerID(ids["h1"]), true))
	x, err := x.WithAttributes(&a)
	require.NoError(t, err)
	e, err := segment.Parse(`flag("optin") = 1`)
	require.NoError(t, err)
	x, err = x.Define("optin", e)
	require.NoError(t, err)
	e, err = segment.Parse(`segment("optin") or frequency > 5`)
	require.NoError(t, err)
	x, err = x.Define("reachable", e)
	require.NoError(t, err)
	want, err := x.Query(`segment("reachable")`)
	require.NoError(t, err)
	require.Equal(t, []uint32{ids["h1"]}, want.ToArray())
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	// "WriteTo writes the index, its named segments included"; "Attributes
	// are not saved by Index.WriteTo: attach them again after loading."
	y, err := segment.ReadIndex(&buf)
	require.NoError(t, err, "a file WriteTo wrote must read back")
	assert.Equal(t, []string{"optin", "reachable"}, y.Segments())
	y, err = y.WithAttributes(&a)
	require.NoError(t, err)
	got, err := y.Query(`segment("reachable")`)
	require.NoError(t, err)
	assert.True(t, want.Equals(got))
}

func TestFeatNilSets(t *testing.T) {
	x, _, _, _ := featBuildPlanted(t, segment.Options{}, nil, featPlant{"h1", []featOrder{featBuy(segment.Day, 100)}})
	assert.NotPanics(t, func() { assert.Zero(t, x.Stats("", nil).Customers) })
	assert.NotPanics(t, func() { x.CrossTab([]*roaring.Bitmap{nil}, []*roaring.Bitmap{nil}) })
	assert.NotPanics(t, func() {
		cells, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
		assert.NoError(t, err)
		assert.Equal(t, 1, cells[2][2].Customers, "nil is every customer for ScoreGrid (one alone scores 3, 3)")
	})
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"WriteCSV", func() {
			var buf bytes.Buffer
			if assert.NoError(t, x.WriteCSV(&buf, nil)) {
				assert.Equal(t, 1, strings.Count(buf.String(), "\n"))
			}
		}},
		{"FeaturesOf", func() { assert.Empty(t, x.FeaturesOf(nil)) }},
		{"Keys", func() { assert.Empty(t, slices.Collect(x.Keys(nil))) }},
		{"SortedKeys", func() { assert.Empty(t, x.SortedKeys(nil)) }},
		{"SortedIDs", func() { assert.Empty(t, x.SortedIDs(nil)) }},
		{"AppendSortedKeys", func() { assert.Empty(t, x.AppendSortedKeys(nil, nil)) }},
		{"Overlap", func() { segment.Overlap([]*roaring.Bitmap{nil, roaring.BitmapOf(0)}) }},
	} {
		assert.NotPanics(t, tc.f, tc.name)
	}
}

// AOV is rounded half away from zero everywhere it appears: Features,
// WriteCSV, the aov comparison and Stats.
func TestFeatAOVHalfRounding(t *testing.T) {
	d := segment.Day
	ret := func(v affinity.Money) featOrder {
		return featOrder{at: featAsOf.Add(-3 * d), lines: []featLine{{"pa", -1, v}}}
	}
	x, _, ids, _ := featBuildPlanted(t, segment.Options{}, nil,
		featPlant{"h1", []featOrder{featBuy(d, 1), featBuy(2*d, 0)}},
		featPlant{"h3", []featOrder{featBuy(d, 3), featBuy(2*d, 0)}},
		featPlant{"hn1", []featOrder{featBuy(d, 0), featBuy(2*d, 0), ret(1)}},
		featPlant{"hn3", []featOrder{featBuy(d, 0), featBuy(2*d, 0), ret(3)}},
	)
	want := map[string]affinity.Money{"h1": 1, "h3": 2, "hn1": -1, "hn3": -2}
	for k, v := range want {
		f, ok := x.Features(affinity.CustomerID(ids[k]))
		require.True(t, ok)
		assert.Equal(t, v, f.AOV, k)
		assert.Equal(t, v, x.Stats(k, roaring.BitmapOf(ids[k])).AOV, k)
		got, err := x.Query(fmt.Sprintf("aov = %s", v))
		require.NoError(t, err)
		assert.Equal(t, []string{k}, featKeys(t, x, got), "aov = %s", v)
	}
	// the two negative ones together: -4 / 4 = -1; all four: 0 / 8 = 0
	assert.Equal(t, affinity.Money(-1), x.Stats("", roaring.BitmapOf(ids["hn1"], ids["hn3"])).AOV)
	assert.Equal(t, affinity.Money(0), x.Stats("", x.All()).AOV)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, roaring.BitmapOf(ids["hn1"])))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	aov, err := affinity.ParseMoney(rows[1][5], '.')
	require.NoError(t, err, rows[1][5])
	assert.Equal(t, affinity.Money(-1), aov)
}

// RevenueShare is 0 when the revenue of all customers is not positive,
// in Stats and the tables alike.
func TestFeatRevenueShareNonPositiveTotal(t *testing.T) {
	d := segment.Day
	x, _, ids, _ := featBuildPlanted(t, segment.Options{}, func(w *featWorld) {
		w.orders = append(w.orders, featOrder{"", "anon", featAsOf.Add(-d), []featLine{{"pa", 1, 1_000_000}}})
	},
		featPlant{"a", []featOrder{featBuy(d, 100), {at: featAsOf.Add(-2 * d), lines: []featLine{{"pb", -1, 500}}}}},
		featPlant{"b", []featOrder{featBuy(d, 300)}},
	)
	s := x.Stats("b", roaring.BitmapOf(ids["b"]))
	require.Equal(t, affinity.Money(300), s.Revenue)
	assert.Zero(t, s.RevenueShare, "total revenue -100 is not positive; the anonymous order is no customer's")
	for _, r := range append(x.RFMTable(), x.LifecycleTable()...) {
		assert.Zero(t, r.RevenueShare, r.Name)
	}
}

// PopulationShare is Σ spend in the category / Σ spend over the customers'
// bought lines in the look-back, with the catalog's weights; anonymous
// orders and returns are no one's interest.
func TestFeatPopulationShare(t *testing.T) {
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 83))
		w := featRandomWorld(rng, 30)
		h := featHistory(t, w)
		x, err := segment.Build(context.Background(), h, featAsOf, segment.Options{})
		require.NoError(t, err)
		start := testdata.MonthsBefore(featAsOf, segment.DefaultLookbackMonths)
		spend := map[string]float64{}
		var total float64
		for _, o := range w.orders {
			if o.cust == "" || o.at.After(featAsOf) || !o.at.After(start) {
				continue
			}
			for _, l := range o.lines {
				if l.qty <= 0 {
					continue
				}
				v := float64(l.qty) * float64(l.price)
				total += v
				cats := w.products[l.prod]
				for _, c := range cats {
					wt := v / float64(len(cats))
					for i := range len(c) + 1 {
						if i == len(c) || c[i] == '/' {
							spend[c[:i]] += wt
						}
					}
				}
			}
		}
		for _, cat := range x.Categories() {
			got, ok := x.PopulationShare(cat)
			require.True(t, ok, cat)
			want := 0.0
			if total > 0 {
				want = spend[cat] / total
			}
			assert.InDelta(t, want, got, 1e-9, "seed %d %s", seed, cat)
		}
		_, ok := x.PopulationShare("Nope")
		assert.False(t, ok)
	}
}

// The first uses of the lazily decoded columns (Spend and Stats of small
// sets, ScoreGrid's scores, the key order of LookupCustomer and
// SortedKeys) race on a fresh index and on a freshly updated one: every
// goroutine still gets the model's answers.
func TestFeatConcurrentFirstUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 84))
	w := featRandomWorld(rng, 40)
	h := featHistory(t, w)
	ctx := context.Background()
	full, err := segment.Build(ctx, h, featAsOf, segment.Options{})
	require.NoError(t, err)
	b := affinity.NewBuilder(h)
	c0 := h.CustomerKey(0)
	require.NoError(t, b.Add(affinity.Purchase{Customer: c0, Product: "pb", Order: "late", Time: featAsOf, Quantity: 2, Price: 777}))
	w.orders = append(w.orders, featOrder{c0, "late", featAsOf, []featLine{{"pb", 2, 777}}})
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	m := featNewModel(w, featAsOf, segment.Options{})
	for _, mk := range []func() *segment.Index{
		func() *segment.Index {
			x, err := segment.Build(ctx, h2, featAsOf, segment.Options{})
			require.NoError(t, err)
			return x
		},
		func() *segment.Index {
			x, err := segment.Update(ctx, full, h, h2, featAsOf, segment.UpdateOptions{})
			require.NoError(t, err)
			return x
		},
	} {
		x := mk()
		small := roaring.BitmapOf(0, 1, 2)
		wantSmall := featWantStats(h2, m, "s", small, x.Len())
		var wg sync.WaitGroup
		fails := make(chan string, 64)
		for g := range 6 {
			wg.Go(func() {
				for c := range h2.NumCustomers() {
					id := affinity.CustomerID((c + 7*g) % h2.NumCustomers())
					key := h2.CustomerKey(id)
					mc := m.cust[key]
					switch g % 3 {
					case 0:
						if mc != nil && mc.known && x.Spend(id) != affinity.Money(mc.monetary) {
							fails <- "Spend " + key
						}
					case 1:
						if got, ok := x.LookupCustomer(key); !ok || got != id {
							fails <- "LookupCustomer " + key
						}
					case 2:
						if f, ok := x.Features(id); mc != nil && mc.known && (!ok || f != mc.features()) {
							fails <- "Features " + key
						}
					}
				}
				if s := x.Stats("s", small); s != wantSmall {
					fails <- fmt.Sprintf("Stats %v != %v", s, wantSmall)
				}
				cells, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
				var n int
				for i := range 5 {
					for j := range 5 {
						n += cells[i][j].Customers
					}
				}
				if err != nil || n != int(x.Stats("", roaring.New()).Customers)+featScored(m) {
					fails <- fmt.Sprintf("ScoreGrid %v %d", err, n)
				}
				if len(x.SortedKeys(x.All())) != x.Len() {
					fails <- "SortedKeys"
				}
			})
		}
		wg.Wait()
		close(fails)
		for f := range fails {
			t.Error(f)
		}
	}
}

func featScored(m *featModel) int {
	n := 0
	for _, c := range m.cust {
		if c.known && c.freq > 0 {
			n++
		}
	}
	return n
}
