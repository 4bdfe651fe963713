package segment_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/csvtext"
	"github.com/shopaffinity/affinity/segment"
)

// The outputs of an index (Stats, CrossTab, the RFM and lifecycle tables,
// Features/FeaturesOf, WriteCSV, the key orders, PopulationShare, the
// category list) against naive computations over the orders, following
// the package documentation only. The worlds hold returns, return-only
// orders, erased customers, anonymous orders, customers known only from
// events, customers first seen after asOf, orders exactly at asOf and at
// the look-back's start, products in two categories (and in a category
// and its parent) and products without a category.

var advOutAsOf = time.Date(2025, 3, 15, 10, 0, 0, 0, time.UTC)

var advOutProducts = []affinity.Product{
	{Key: "p0", Categories: []string{"A/x"}},
	{Key: "p1", Categories: []string{"A/y"}},
	{Key: "p2", Categories: []string{"B"}},
	{Key: "p3", Categories: []string{"A/x", "B"}},
	{Key: "p4", Categories: []string{"A", "A/x"}},
	{Key: "p5"},
	{Key: "p6", Categories: []string{"C/d/e"}},
	{Key: "p7", Categories: []string{"A/y", "C/d", "B"}},
}

// keys that need CSV quoting or sort differently as bytes than as text
var advOutKeys = []string{
	"a", "ab", "a\x00", "B", "b", "a,b", `q"t`, "nl\nx", "cr\rx", " lead", "trail ",
	"é", "\xff\xfe", "Z", "10", "9", "=1+1", `""`, "a b", "日本", "c-7", "c-8", "c-9", "c-10",
}

type advOutLine struct {
	prod  string
	qty   int32
	price affinity.Money
}

type advOutOrder struct {
	cust, key string
	at        time.Time
	lines     []advOutLine
}

type advOutEvent struct {
	cust, prod string
	at         time.Time
	kind       affinity.EventKind
}

type advOutWorld struct {
	orders []advOutOrder
	events []advOutEvent
	erased []string
}

func advOutRandomWorld(rng *rand.Rand, lb affinity.Lookback) advOutWorld {
	var w advOutWorld
	start := affinity.Months(24).Start(advOutAsOf)
	if !lb.IsZero() && !lb.All {
		start = lb.Start(advOutAsOf)
	}
	keys := slices.Clone(advOutKeys)
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	n := 0
	when := func() time.Time {
		switch rng.IntN(12) {
		case 0:
			return advOutAsOf
		case 1:
			return start
		case 2:
			return start.Add(time.Second)
		case 3:
			return advOutAsOf.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour) // after asOf
		case 4:
			return advOutAsOf.Add(-time.Duration(rng.IntN(3)) * 24 * time.Hour) // whole days back
		default:
			return advOutAsOf.Add(-time.Duration(rng.Int64N(int64(900 * 24 * time.Hour))))
		}
	}
	line := func(ret bool) advOutLine {
		q := int32(1 + rng.IntN(3))
		if ret {
			q = -q
		}
		price := affinity.Money(rng.IntN(4) * 12345)
		if rng.IntN(5) == 0 {
			price = affinity.Money(rng.Int64N(1_000_000_000))
		}
		return advOutLine{prod: advOutProducts[rng.IntN(len(advOutProducts))].Key, qty: q, price: price}
	}
	for _, c := range keys {
		kind := rng.IntN(6)
		if kind == 0 { // events only
			for range 1 + rng.IntN(3) {
				w.events = append(w.events, advOutEvent{c, advOutProducts[rng.IntN(len(advOutProducts))].Key, when(),
					[]affinity.EventKind{affinity.View, affinity.Cart}[rng.IntN(2)]})
			}
			continue
		}
		for range rng.IntN(5) + 1 {
			o := advOutOrder{cust: c, key: fmt.Sprintf("o%d", n), at: when()}
			n++
			retOnly := rng.IntN(8) == 0
			for range 1 + rng.IntN(3) {
				o.lines = append(o.lines, line(retOnly || rng.IntN(6) == 0))
			}
			w.orders = append(w.orders, o)
		}
		if rng.IntN(3) == 0 {
			w.events = append(w.events, advOutEvent{c, advOutProducts[rng.IntN(len(advOutProducts))].Key, when(), affinity.Cart})
		}
	}
	for range 4 { // anonymous orders
		o := advOutOrder{key: fmt.Sprintf("anon%d", n), at: when()}
		n++
		o.lines = append(o.lines, line(false), line(false))
		w.orders = append(w.orders, o)
	}
	for range 1 + rng.IntN(2) {
		w.erased = append(w.erased, keys[rng.IntN(len(keys))])
	}
	return w
}

func advOutHistory(t testing.TB, w advOutWorld) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range advOutProducts {
		p.InStock = true
		require.NoError(t, b.AddProduct(p))
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
	for _, k := range w.erased {
		b.EraseCustomer(k)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advOutCust is one customer's features as the documentation defines them.
type advOutCust struct {
	known             bool
	recency, tenure   int
	freq              int
	monetary          int64
	stage             string
	catSpend          map[string]float64 // bought spend per category path, weighted
	spend             float64            // bought spend (the denominator of the shares)
	lastBuy, firstBuy time.Time
}

type advOutModel struct {
	cust  map[string]*advOutCust
	start time.Time
	all   bool
}

func advOutDays(d time.Duration) int { return int(d / (24 * time.Hour)) }

func advOutNewModel(w advOutWorld, h *affinity.History, lb affinity.Lookback, lapse int) *advOutModel {
	m := &advOutModel{cust: map[string]*advOutCust{}}
	if lb.All {
		m.all = true
	} else {
		m.start = lb.Or(affinity.Months(24)).Start(advOutAsOf)
	}
	erased := map[string]bool{}
	for _, k := range w.erased {
		erased[k] = true
	}
	get := func(k string) *advOutCust {
		c := m.cust[k]
		if c == nil {
			c = &advOutCust{recency: -1, tenure: -1, catSpend: map[string]float64{}}
			m.cust[k] = c
		}
		return c
	}
	inWin := func(t time.Time) bool { return !t.After(advOutAsOf) && (m.all || t.After(m.start)) }
	cat := h.Catalog()
	for _, o := range w.orders {
		if o.cust == "" || erased[o.cust] || o.at.After(advOutAsOf) {
			continue
		}
		c := get(o.cust)
		c.known = true
		bought := false
		for _, l := range o.lines {
			if l.qty > 0 {
				bought = true
			}
		}
		if bought {
			if c.lastBuy.IsZero() || o.at.After(c.lastBuy) {
				c.lastBuy = o.at
			}
			if c.firstBuy.IsZero() || o.at.Before(c.firstBuy) {
				c.firstBuy = o.at
			}
		}
		if !inWin(o.at) {
			continue
		}
		if bought {
			c.freq++
		}
		for _, l := range o.lines {
			v := int64(l.qty) * int64(l.price)
			c.monetary += v
			if l.qty <= 0 {
				continue
			}
			c.spend += float64(v)
			p, ok := cat.LookupProduct(l.prod)
			if !ok {
				panic(l.prod)
			}
			for _, s := range cat.Shares(p) {
				c.catSpend[cat.CategoryPath(s.Category)] += float64(v) * float64(s.Weight)
			}
		}
	}
	for _, e := range w.events {
		if erased[e.cust] || e.at.After(advOutAsOf) {
			continue
		}
		get(e.cust).known = true
	}
	for _, c := range m.cust {
		if !c.lastBuy.IsZero() {
			c.recency = advOutDays(advOutAsOf.Sub(c.lastBuy))
			c.tenure = advOutDays(advOutAsOf.Sub(c.firstBuy))
			c.stage = advOutStage(c, lapse, 365, 4)
		}
	}
	return m
}

// advOutStage is the documented lifecycle stage of a buyer.
func advOutStage(c *advOutCust, lapse, churn, loyal int) string {
	switch {
	case c.recency > churn:
		return "churned"
	case c.recency > lapse || c.freq == 0:
		return "lapsing"
	case c.freq >= loyal:
		return "loyal"
	case c.freq >= 2:
		return "repeat"
	default:
		return "new"
	}
}

// advOutRound is a/b rounded half away from zero.
func advOutRound(a, b int64) int64 {
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	bb := b
	if bb < 0 {
		bb = -bb
	}
	if 2*r >= bb {
		if (a < 0) != (b < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

// advOutWant is the Stats the documentation defines for set.
func advOutWant(h *affinity.History, m *advOutModel, n int, name string, set *roaring.Bitmap) segment.Stats {
	s := segment.Stats{Name: name}
	var total int64
	for _, c := range m.cust {
		if c.known {
			total += c.monetary
		}
	}
	var rev int64
	if set != nil {
		for _, id := range set.ToArray() {
			if int(id) >= h.NumCustomers() {
				continue
			}
			c := m.cust[h.CustomerKey(affinity.CustomerID(id))]
			if h.CustomerKey(affinity.CustomerID(id)) == "" || c == nil || !c.known {
				continue
			}
			s.Customers++
			rev += c.monetary
			s.Orders += int64(c.freq)
		}
	}
	s.Revenue = affinity.Money(rev)
	if n > 0 {
		s.Share = float64(s.Customers) / float64(n)
	}
	if total > 0 {
		s.RevenueShare = float64(rev) / float64(total)
	}
	if s.Orders > 0 {
		s.AOV = affinity.Money(advOutRound(rev, s.Orders))
	}
	return s
}

func advOutEqualStats(t *testing.T, msg string, want, got segment.Stats) {
	t.Helper()
	assert.Equal(t, want.Name, got.Name, msg)
	assert.Equal(t, want.Customers, got.Customers, "%s customers", msg)
	assert.InDelta(t, want.Share, got.Share, 1e-12, "%s share", msg)
	assert.Equal(t, want.Revenue, got.Revenue, "%s revenue", msg)
	assert.InDelta(t, want.RevenueShare, got.RevenueShare, 1e-12, "%s revenue share", msg)
	assert.Equal(t, want.Orders, got.Orders, "%s orders", msg)
	assert.Equal(t, want.AOV, got.AOV, "%s aov", msg)
}

var advOutLookbacks = []struct {
	name  string
	lb    affinity.Lookback
	lapse int
}{
	{"default", affinity.Lookback{}, 180},
	{"alltime", affinity.AllTime, 180},
	{"days30", affinity.Days(30), 30},
}

type advOutCase struct {
	name string
	h    *affinity.History
	x    *segment.Index
	m    *advOutModel
	w    advOutWorld
}

func advOutCases(t *testing.T, seeds int) []advOutCase {
	t.Helper()
	var cs []advOutCase
	for seed := range uint64(seeds) {
		for li, lb := range advOutLookbacks {
			rng := rand.New(rand.NewPCG(seed, 0xad0+uint64(li)))
			w := advOutRandomWorld(rng, lb.lb)
			h := advOutHistory(t, w)
			x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{Lookback: lb.lb})
			require.NoError(t, err)
			cs = append(cs, advOutCase{fmt.Sprintf("seed %d %s", seed, lb.name), h, x, advOutNewModel(w, h, lb.lb, lb.lapse), w})
		}
	}
	return cs
}

// advOutModelCust returns the model customer of id, nil when the index
// should not know it.
func advOutModelCust(c advOutCase, id uint32) *advOutCust {
	if int(id) >= c.h.NumCustomers() {
		return nil
	}
	k := c.h.CustomerKey(affinity.CustomerID(id))
	mc := c.m.cust[k]
	if k == "" || mc == nil || !mc.known {
		return nil
	}
	return mc
}

// Features, FeaturesOf, Len and All against the model.
func TestAdvOutFeaturesMatchModel(t *testing.T) {
	for _, c := range advOutCases(t, 3) {
		known := roaring.New()
		for id := range c.h.NumCustomers() {
			if advOutModelCust(c, uint32(id)) != nil {
				known.Add(uint32(id))
			}
		}
		require.Equal(t, int(known.GetCardinality()), c.x.Len(), c.name)
		assert.True(t, known.Equals(c.x.All()), "%s: All %v want %v", c.name, c.x.All().ToArray(), known.ToArray())
		set := roaring.New()
		set.AddRange(0, uint64(c.h.NumCustomers())+3)
		set.Add(math.MaxUint32)
		fs := c.x.FeaturesOf(set)
		require.Len(t, fs, c.x.Len(), c.name)
		i := 0
		for id := range c.h.NumCustomers() + 3 {
			mc := advOutModelCust(c, uint32(id))
			f, ok := c.x.Features(affinity.CustomerID(id))
			require.Equal(t, mc != nil, ok, "%s id %d", c.name, id)
			if mc == nil {
				continue
			}
			require.Equal(t, f, fs[i], "%s: FeaturesOf[%d] differs from Features(%d)", c.name, i, id)
			i++
			key := c.h.CustomerKey(affinity.CustomerID(id))
			msg := fmt.Sprintf("%s %q", c.name, key)
			assert.Equal(t, key, f.Customer, msg)
			assert.Equal(t, mc.recency, f.Recency, "%s recency", msg)
			assert.Equal(t, mc.tenure, f.Tenure, "%s tenure", msg)
			assert.Equal(t, mc.freq, f.Frequency, "%s frequency", msg)
			assert.Equal(t, affinity.Money(mc.monetary), f.Monetary, "%s monetary", msg)
			if mc.freq > 0 {
				assert.Equal(t, affinity.Money(advOutRound(mc.monetary, int64(mc.freq))), f.AOV, "%s aov", msg)
				assert.True(t, f.R >= 1 && f.R <= 5 && f.F >= 1 && f.F <= 5 && f.M >= 1 && f.M <= 5, "%s scores %+v", msg, f)
				assert.NotEmpty(t, f.RFM, "%s: every R×F cell has a default segment", msg)
			} else {
				assert.Zero(t, f.AOV, "%s aov", msg)
				assert.Equal(t, [3]int{}, [3]int{f.R, f.F, f.M}, "%s scores", msg)
				assert.Empty(t, f.RFM, "%s rfm", msg)
			}
			assert.Equal(t, mc.stage, f.Stage, "%s stage (recency %d freq %d)", msg, mc.recency, mc.freq)
			assert.Equal(t, c.x.Spend(affinity.CustomerID(id)), f.Monetary, "%s Spend", msg)
		}
		assert.Empty(t, c.x.FeaturesOf(nil), c.name)
	}
}

// Stats of random sets (with unknown, erased and out-of-range ids), the
// RFM and lifecycle tables (every customer in exactly one row, totals
// add up) and CrossTab cells against the model.
func TestAdvOutStatsTablesCrossTab(t *testing.T) {
	for ci, c := range advOutCases(t, 3) {
		rng := rand.New(rand.NewPCG(uint64(ci), 7))
		n := c.x.Len()
		nc := c.h.NumCustomers()
		randSet := func() *roaring.Bitmap {
			s := roaring.New()
			k := rng.IntN(nc + 1)
			for _, i := range rng.Perm(nc)[:k] {
				s.Add(uint32(i))
			}
			for _, j := range []uint32{uint32(nc), uint32(nc + 70000), math.MaxUint32} {
				if rng.IntN(2) == 0 {
					s.Add(j)
				}
			}
			return s
		}
		var sets []*roaring.Bitmap
		for range 6 {
			sets = append(sets, randSet())
		}
		sets = append(sets, c.x.All(), roaring.New(), nil)
		for i, s := range sets {
			advOutEqualStats(t, fmt.Sprintf("%s set %d", c.name, i), advOutWant(c.h, c.m, n, "n", s), c.x.Stats("n", s))
		}
		all := c.x.Stats("all", c.x.All())
		// FeaturesOf sums agree with Stats
		var rev affinity.Money
		var ord int64
		for _, f := range c.x.FeaturesOf(c.x.All()) {
			rev += f.Monetary
			ord += int64(f.Frequency)
		}
		assert.Equal(t, rev, all.Revenue, c.name)
		assert.Equal(t, ord, all.Orders, c.name)

		// RFM table: rule order, each scored customer in its first matching rule
		rules := segment.DefaultRFMRules()
		names := c.x.RFMSegments()
		require.Len(t, names, len(rules), c.name)
		rows := c.x.RFMTable()
		require.Len(t, rows, len(rules), c.name)
		bySeg := make([]*roaring.Bitmap, len(rules))
		for i := range bySeg {
			bySeg[i] = roaring.New()
			assert.Equal(t, rules[i].Name, names[i], c.name)
		}
		in := func(r segment.ScoreRange, v int) bool {
			if r == (segment.ScoreRange{}) {
				return v >= 1 && v <= 5
			}
			return v >= r.Min && v <= r.Max
		}
		scored, buyers := 0, 0
		for _, id := range c.x.All().ToArray() {
			f, _ := c.x.Features(affinity.CustomerID(id))
			if f.Stage != "" {
				buyers++
			}
			if f.R == 0 {
				continue
			}
			scored++
			for i, r := range rules {
				if in(r.R, f.R) && in(r.F, f.F) && in(r.M, f.M) {
					bySeg[i].Add(id)
					assert.Equal(t, r.Name, f.RFM, "%s id %d", c.name, id)
					break
				}
			}
		}
		sum := 0
		for i, r := range rules {
			advOutEqualStats(t, c.name+" rfm "+r.Name, advOutWant(c.h, c.m, n, r.Name, bySeg[i]), rows[i])
			sum += rows[i].Customers
		}
		assert.Equal(t, scored, sum, "%s: RFM rows cover every scored customer once", c.name)

		// lifecycle: the model's stages
		stages := segment.Stages()
		life := c.x.LifecycleTable()
		require.Len(t, life, len(stages), c.name)
		sum = 0
		for i, st := range stages {
			set := roaring.New()
			for id := range nc {
				if mc := advOutModelCust(c, uint32(id)); mc != nil && mc.stage == st {
					set.Add(uint32(id))
				}
			}
			advOutEqualStats(t, c.name+" stage "+st, advOutWant(c.h, c.m, n, st, set), life[i])
			sum += life[i].Customers
		}
		assert.Equal(t, buyers, sum, "%s: lifecycle rows cover every buyer once", c.name)

		// CrossTab: overlapping rows and columns, nil and junk sets
		rs := []*roaring.Bitmap{sets[0], sets[1], nil, c.x.All()}
		cs := []*roaring.Bitmap{sets[2], sets[0], roaring.New(), sets[6]}
		cells := c.x.CrossTab(rs, cs)
		require.Len(t, cells, len(rs), c.name)
		for i := range rs {
			require.Len(t, cells[i], len(cs), c.name)
			for j := range cs {
				var inter *roaring.Bitmap
				if rs[i] != nil && cs[j] != nil {
					inter = roaring.And(rs[i], cs[j])
				}
				advOutEqualStats(t, fmt.Sprintf("%s cell %d,%d", c.name, i, j), advOutWant(c.h, c.m, n, "", inter), cells[i][j])
			}
		}
	}
}

// CrossTab with empty row or column lists gives a table of that shape.
func TestAdvOutCrossTabShapes(t *testing.T) {
	c := advOutCases(t, 1)[0]
	assert.Empty(t, c.x.CrossTab(nil, []*roaring.Bitmap{c.x.All()}))
	cells := c.x.CrossTab([]*roaring.Bitmap{c.x.All(), nil}, nil)
	require.Len(t, cells, 2)
	assert.Empty(t, cells[0])
	assert.Empty(t, cells[1])
}

// CrossTab turns the sets into dense bitsets over the customer ids: ids
// far beyond the index must not make it allocate for them.
func TestAdvOutCrossTabHugeIDsAllocateLittle(t *testing.T) {
	c := advOutCases(t, 1)[0]
	row := roaring.BitmapOf(0, 1, math.MaxUint32-1, math.MaxUint32)
	col := roaring.BitmapOf(0, 1<<31, math.MaxUint32)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cells := c.x.CrossTab([]*roaring.Bitmap{row}, []*roaring.Bitmap{col})
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated for a 1×1 table of a small index")
	advOutEqualStats(t, "huge", advOutWant(c.h, c.m, c.x.Len(), "", roaring.And(row, col)), cells[0][0])
	runtime.ReadMemStats(&before)
	s := c.x.Stats("x", row)
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated by Stats")
	advOutEqualStats(t, "stats huge", advOutWant(c.h, c.m, c.x.Len(), "x", row), s)
}

// Keys, SortedKeys, SortedIDs and AppendSortedKeys: the known customers
// of the set, in dense id order or ordered by the keys' bytes.
func TestAdvOutKeyOrders(t *testing.T) {
	for ci, c := range advOutCases(t, 2) {
		rng := rand.New(rand.NewPCG(uint64(ci), 9))
		nc := c.h.NumCustomers()
		var prev []string
		for round := range 6 {
			set := roaring.New()
			switch round {
			case 0, 1:
				set = c.x.All()
			default:
				for _, i := range rng.Perm(nc)[:rng.IntN(nc+1)] {
					set.Add(uint32(i))
				}
				// (ids the index does not know below NumCustomers: see
				// TestAdvOutKeysSkipUnknownCustomers)
				set.And(c.x.All())
			}
			if round == 0 {
				set.AddRange(uint64(nc), uint64(nc)+5)
			}
			set.Add(math.MaxUint32)
			var wantIDs []uint32
			for _, id := range set.ToArray() {
				if advOutModelCust(c, id) != nil {
					wantIDs = append(wantIDs, id)
				}
			}
			var wantKeys []string
			for _, id := range wantIDs {
				wantKeys = append(wantKeys, c.h.CustomerKey(affinity.CustomerID(id)))
			}
			msg := fmt.Sprintf("%s round %d", c.name, round)
			got := slices.Collect(c.x.Keys(set))
			assert.Equal(t, wantKeys, got, "%s Keys", msg)
			sorted := slices.Clone(wantKeys)
			slices.Sort(sorted) // Go strings compare as bytes
			gotSorted := c.x.SortedKeys(set)
			if len(sorted) == 0 {
				assert.Empty(t, gotSorted, msg)
			} else {
				assert.Equal(t, sorted, gotSorted, "%s SortedKeys", msg)
			}
			ids := c.x.SortedIDs(set)
			require.Len(t, ids, len(sorted), msg)
			for i, id := range ids {
				assert.Equal(t, sorted[i], c.h.CustomerKey(id), "%s SortedIDs[%d]", msg, i)
				assert.True(t, set.Contains(uint32(id)), msg)
			}
			// AppendSortedKeys keeps dst's prefix and reuses a previous answer
			app := c.x.AppendSortedKeys([]string{"keep"}, set)
			require.Len(t, app, len(sorted)+1, msg)
			assert.Equal(t, "keep", app[0], msg)
			assert.Equal(t, gotSorted, app[1:], msg)
			if prev != nil {
				reused := c.x.AppendSortedKeys(prev[:0], set)
				if len(sorted) == 0 {
					assert.Empty(t, reused, msg)
				} else {
					assert.Equal(t, sorted, reused, "%s reused", msg)
				}
			}
			prev = gotSorted
			// LookupCustomer agrees with the keys
			for _, id := range wantIDs {
				got, ok := c.x.LookupCustomer(c.h.CustomerKey(affinity.CustomerID(id)))
				assert.True(t, ok, msg)
				assert.Equal(t, affinity.CustomerID(id), got, msg)
			}
		}
		assert.Empty(t, slices.Collect(c.x.Keys(nil)), c.name)
		assert.Empty(t, c.x.SortedKeys(nil), c.name)
		assert.Empty(t, c.x.SortedIDs(nil), c.name)
		assert.Equal(t, []string{"x"}, c.x.AppendSortedKeys([]string{"x"}, nil), c.name)
		// erased customers are not found by their old key
		for _, k := range c.w.erased {
			_, ok := c.x.LookupCustomer(k)
			assert.False(t, ok, "%s erased %q", c.name, k)
		}
	}
}

// Keys stops when the consumer stops.
func TestAdvOutKeysEarlyBreak(t *testing.T) {
	c := advOutCases(t, 1)[0]
	require.Greater(t, c.x.Len(), 3)
	var got []string
	for k := range c.x.Keys(c.x.All()) {
		got = append(got, k)
		if len(got) == 2 {
			break
		}
	}
	assert.Len(t, got, 2)
}

// WriteCSV: header, quoting of hostile keys (an apostrophe before one a
// spreadsheet would run as a formula), id order, exact money, absent
// values empty, unknown ids skipped; it agrees with FeaturesOf.
func TestAdvOutWriteCSV(t *testing.T) {
	for _, c := range advOutCases(t, 2) {
		set := roaring.New()
		set.AddRange(0, uint64(c.h.NumCustomers())+2)
		set.Add(math.MaxUint32)
		var buf bytes.Buffer
		require.NoError(t, c.x.WriteCSV(&buf, set), c.name)
		rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
		require.NoError(t, err, "%s\n%s", c.name, buf.String())
		require.NotEmpty(t, rows)
		assert.Equal(t, []string{"customer", "recency_days", "tenure_days", "frequency", "monetary", "aov",
			"r", "f", "m", "rfm_segment", "lifecycle", "abandoned_cart_days"}, rows[0], c.name)
		fs := c.x.FeaturesOf(set)
		require.Len(t, rows, len(fs)+1, c.name)
		days := func(v int) string {
			if v < 0 {
				return ""
			}
			return strconv.Itoa(v)
		}
		score := func(v int) string {
			if v == 0 {
				return ""
			}
			return strconv.Itoa(v)
		}
		for i, f := range fs {
			row := rows[i+1]
			require.Len(t, row, 12, c.name)
			msg := fmt.Sprintf("%s row %d %q", c.name, i+1, f.Customer)
			// a key a spreadsheet would run as a formula ("=1+1") has an
			// apostrophe before it
			assert.Equal(t, csvtext.Cell(f.Customer), row[0], msg)
			assert.Equal(t, f.Customer, csvtext.Text(row[0]), msg)
			assert.Equal(t, []string{days(f.Recency), days(f.Tenure), strconv.Itoa(f.Frequency)}, row[1:4], msg)
			mon, err := affinity.ParseMoney(row[4], '.')
			if assert.NoError(t, err, "%s monetary %q", msg, row[4]) {
				assert.Equal(t, f.Monetary, mon, msg)
			}
			if f.Frequency == 0 {
				assert.Empty(t, row[5], "%s aov", msg)
			} else {
				aov, err := affinity.ParseMoney(row[5], '.')
				if assert.NoError(t, err, "%s aov %q", msg, row[5]) {
					assert.Equal(t, f.AOV, aov, msg)
				}
			}
			assert.Equal(t, []string{score(f.R), score(f.F), score(f.M), f.RFM, f.Stage, days(f.AbandonedCartDays)}, row[6:], msg)
		}
	}
}

// PopulationShare is Σ spend in the category (weighted by
// Catalog.Shares, bought lines only) / Σ spend, over the customers;
// Categories lists every node in id order and CategoryDepth its level.
func TestAdvOutPopulationShareAndCategories(t *testing.T) {
	for _, c := range advOutCases(t, 3) {
		cat := c.h.Catalog()
		paths := c.x.Categories()
		require.Len(t, paths, cat.NumCategories(), c.name)
		for i, p := range paths {
			assert.Equal(t, cat.CategoryPath(affinity.CategoryID(i)), p, c.name)
			d, ok := c.x.CategoryDepth(p)
			assert.True(t, ok, "%s %q", c.name, p)
			assert.Equal(t, cat.Depth(affinity.CategoryID(i)), d, "%s %q", c.name, p)
			assert.Equal(t, strings.Count(p, "/")+1, d, "%s %q", c.name, p)
		}
		paths[0] = "mutated"
		assert.NotEqual(t, "mutated", c.x.Categories()[0], "the caller owns the slice")
		for _, p := range []string{"", "nope", "A/z", "C/d/e/f"} {
			_, ok := c.x.CategoryDepth(p)
			assert.False(t, ok, "%s %q", c.name, p)
			_, ok = c.x.PopulationShare(p)
			assert.False(t, ok, "%s %q", c.name, p)
		}
		var spend float64
		catSpend := map[string]float64{}
		for _, mc := range c.m.cust {
			spend += mc.spend
			for p, v := range mc.catSpend {
				catSpend[p] += v
			}
		}
		for _, p := range c.x.Categories() {
			got, ok := c.x.PopulationShare(p)
			require.True(t, ok, "%s %q", c.name, p)
			want := 0.0
			if spend > 0 {
				want = catSpend[p] / spend
			}
			assert.InDelta(t, want, got, 1e-4, "%s PopulationShare(%q)", c.name, p)
			assert.False(t, math.IsNaN(got), c.name)
		}
		// a node's share is at least each child's, and the top level's
		// shares add up to at most 1 (uncategorised spend is in no node)
		var top float64
		for i, p := range c.x.Categories() {
			s, _ := c.x.PopulationShare(p)
			for _, ch := range cat.Children(affinity.CategoryID(i)) {
				cs, _ := c.x.PopulationShare(cat.CategoryPath(ch))
				assert.GreaterOrEqual(t, s+1e-9, cs, "%s %q ≥ child", c.name, p)
			}
			if cat.Parent(affinity.CategoryID(i)) == affinity.NoCategory {
				top += s
			}
		}
		assert.LessOrEqual(t, top, 1+1e-9, c.name)

		segs := c.x.RFMSegments()
		segs[0] = "mutated"
		assert.NotEqual(t, "mutated", c.x.RFMSegments()[0], "the caller owns the slice")
	}
}

// RFMSegments and RFMTable follow custom rules; customers no rule matches
// are in no row.
func TestAdvOutCustomRules(t *testing.T) {
	rules := []segment.RFMRule{
		{Name: "top", R: segment.ScoreRange{Min: 5, Max: 5}, M: segment.ScoreRange{Min: 4, Max: 5}},
		{Name: "mid", F: segment.ScoreRange{Min: 2, Max: 4}},
		{Name: "never", R: segment.ScoreRange{Min: 5, Max: 5}, M: segment.ScoreRange{Min: 5, Max: 5}},
	}
	for _, c := range advOutCases(t, 2)[:3] {
		x, err := segment.Build(context.Background(), c.h, advOutAsOf, segment.Options{RFMRules: rules, Lookback: c.x.Options().Lookback})
		require.NoError(t, err, c.name)
		assert.Equal(t, []string{"top", "mid", "never"}, x.RFMSegments(), c.name)
		tab := x.RFMTable()
		require.Len(t, tab, 3, c.name)
		sets := []*roaring.Bitmap{roaring.New(), roaring.New(), roaring.New()}
		for _, id := range x.All().ToArray() {
			f, _ := x.Features(affinity.CustomerID(id))
			want := ""
			switch {
			case f.R == 0:
			case f.R == 5 && f.M >= 4:
				want = "top"
				sets[0].Add(id)
			case f.F >= 2 && f.F <= 4:
				want = "mid"
				sets[1].Add(id)
			}
			assert.Equal(t, want, f.RFM, "%s id %d %+v", c.name, id, f)
		}
		for i := range rules {
			advOutEqualStats(t, c.name+" "+rules[i].Name, advOutWant(c.h, c.m, x.Len(), rules[i].Name, sets[i]), tab[i])
		}
	}
}

// An index of no customers (only anonymous orders by asOf): every output
// is empty, and no share is NaN.
func TestAdvOutNoCustomers(t *testing.T) {
	var b affinity.Builder
	for _, p := range advOutProducts {
		require.NoError(t, b.AddProduct(p))
	}
	require.NoError(t, b.Add(affinity.Purchase{Product: "p0", Order: "g1", Time: advOutAsOf.Add(-time.Hour), Quantity: 2, Price: 50000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "late", Product: "p3", Order: "l1", Time: advOutAsOf.Add(time.Hour), Quantity: 1, Price: 50000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	require.Equal(t, 0, x.Len())
	all := roaring.New()
	all.AddRange(0, uint64(h.NumCustomers())+1)
	s := x.Stats("s", all)
	assert.Equal(t, segment.Stats{Name: "s"}, s)
	for _, row := range append(x.RFMTable(), x.LifecycleTable()...) {
		assert.Zero(t, row.Customers, row.Name)
		assert.False(t, math.IsNaN(row.Share) || math.IsNaN(row.RevenueShare), "%+v", row)
	}
	cells := x.CrossTab([]*roaring.Bitmap{all}, []*roaring.Bitmap{all})
	assert.Equal(t, segment.Stats{}, cells[0][0])
	assert.Empty(t, x.FeaturesOf(all))
	// (Keys and SortedKeys of "late": TestAdvOutKeysSkipUnknownCustomers)
	for _, p := range x.Categories() {
		v, ok := x.PopulationShare(p)
		assert.True(t, ok, p)
		assert.False(t, math.IsNaN(v), p)
		assert.Zero(t, v, p)
	}
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, all))
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"), buf.String())
}

func TestAdvOutKeysSkipUnknownCustomers(t *testing.T) {
	var b affinity.Builder
	for _, p := range advOutProducts {
		require.NoError(t, b.AddProduct(p))
	}
	add := func(cust, order string, at time.Time) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p0", Order: order, Time: at, Quantity: 1, Price: 10000}))
	}
	add("a", "1", advOutAsOf.Add(-time.Hour))
	add("gone", "2", advOutAsOf.Add(-time.Hour)) // erased below
	add("late", "3", advOutAsOf.Add(time.Hour))  // after asOf: the index does not know it
	add("b", "4", advOutAsOf.Add(-2*time.Hour))
	b.EraseCustomer("gone")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	require.Equal(t, 2, x.Len())
	every := roaring.New()
	every.AddRange(0, uint64(h.NumCustomers()))
	// the methods documented together agree on which ids count
	assert.Equal(t, 2, x.Stats("", every).Customers)
	assert.Len(t, x.FeaturesOf(every), 2)
	assert.Equal(t, []string{"a", "b"}, slices.Collect(x.Keys(every)), "Keys")
	assert.Equal(t, []string{"a", "b"}, x.SortedKeys(every), "SortedKeys")
	assert.Equal(t, []string{"a", "b"}, x.AppendSortedKeys(nil, every), "AppendSortedKeys")
	assert.Len(t, x.SortedIDs(every), 2, "SortedIDs")
	// The History no longer finds an erased key, nor the empty one; the
	// index should not find the erased customer by its empty key either.
	_, ok := h.LookupCustomer("")
	require.False(t, ok)
	_, ok = x.LookupCustomer("")
	assert.False(t, ok, "LookupCustomer of the empty key (an erased customer)")
}

// Updated (with erasures, new customers, anonymous orders, events-only
// customers) and reloaded indexes give the outputs of a fresh Build.
func TestAdvOutUpdatedAndReloadedOutputsEqualBuild(t *testing.T) {
	for ci, c := range advOutCases(t, 2) {
		rng := rand.New(rand.NewPCG(uint64(ci), 11))
		b := affinity.NewBuilder(c.h)
		keys := []string{"new-1", "new,2", c.h.CustomerKey(0), c.h.CustomerKey(affinity.CustomerID(c.h.NumCustomers() - 1))}
		for i, k := range keys {
			if k == "" {
				continue
			}
			at := advOutAsOf.Add(-time.Duration(rng.IntN(400*24)) * time.Hour)
			require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: advOutProducts[rng.IntN(len(advOutProducts))].Key,
				Order: fmt.Sprintf("u%d", i), Time: at, Quantity: int32(rng.IntN(3)) + 1, Price: affinity.Money(rng.IntN(90000))}))
		}
		require.NoError(t, b.Add(affinity.Purchase{Product: "p3", Order: "uanon", Time: advOutAsOf.Add(-time.Hour), Quantity: 1, Price: 70000}))
		require.NoError(t, b.AddEvent(affinity.Event{Customer: "ev-only", Product: "p1", Time: advOutAsOf.Add(-time.Minute), Kind: affinity.Cart, Weight: 1}))
		b.EraseCustomer(c.h.CustomerKey(affinity.CustomerID(rng.IntN(c.h.NumCustomers()))))
		h2, err := b.Build(context.Background())
		require.NoError(t, err, c.name)
		opts := c.x.Options()
		asOf := advOutAsOf
		if ci%2 == 1 {
			asOf = asOf.Add(2 * segment.Day) // a later day: day counts move, scores are computed anew
		}
		up, err := segment.Update(context.Background(), c.x, c.h, h2, asOf, segment.UpdateOptions{})
		require.NoError(t, err, c.name)
		full, err := segment.Build(context.Background(), h2, asOf, segment.Options{Lookback: opts.Lookback})
		require.NoError(t, err, c.name)
		var enc bytes.Buffer
		_, err = full.WriteTo(&enc)
		require.NoError(t, err, c.name)
		loaded, err := segment.ReadIndex(&enc)
		require.NoError(t, err, c.name)
		every := roaring.New()
		every.AddRange(0, uint64(h2.NumCustomers())+1)
		sets := []*roaring.Bitmap{every, full.All(), roaring.BitmapOf(0, 1, 2), nil}
		for name, x := range map[string]*segment.Index{"updated": up, "loaded": loaded} {
			msg := c.name + " " + name
			assert.Equal(t, full.Len(), x.Len(), msg)
			assert.True(t, full.All().Equals(x.All()), msg)
			assert.Equal(t, full.RFMTable(), x.RFMTable(), msg)
			assert.Equal(t, full.LifecycleTable(), x.LifecycleTable(), msg)
			assert.Equal(t, full.CrossTab(sets, sets), x.CrossTab(sets, sets), msg)
			assert.Equal(t, full.Categories(), x.Categories(), msg)
			assert.Equal(t, full.RFMSegments(), x.RFMSegments(), msg)
			for _, p := range full.Categories() {
				a, _ := full.PopulationShare(p)
				g, ok := x.PopulationShare(p)
				assert.True(t, ok, msg)
				assert.Equal(t, a, g, "%s PopulationShare(%q)", msg, p)
			}
			for i, s := range sets {
				assert.Equal(t, full.Stats("s", s), x.Stats("s", s), "%s set %d", msg, i)
				assert.Equal(t, full.FeaturesOf(s), x.FeaturesOf(s), "%s set %d", msg, i)
				assert.Equal(t, slices.Collect(full.Keys(s)), slices.Collect(x.Keys(s)), "%s set %d", msg, i)
				assert.Equal(t, full.SortedKeys(s), x.SortedKeys(s), "%s set %d", msg, i)
				assert.Equal(t, full.SortedIDs(s), x.SortedIDs(s), "%s set %d", msg, i)
				var w1, w2 bytes.Buffer
				require.NoError(t, full.WriteCSV(&w1, s), msg)
				require.NoError(t, x.WriteCSV(&w2, s), msg)
				assert.Equal(t, w1.String(), w2.String(), "%s set %d", msg, i)
			}
		}
	}
}

// Spends near the Money range, positive and negative (returns), in the
// sums of Stats, CrossTab and the tables, and in AOV's rounding: every
// sum of line values fits in Money (the Builder guarantees it), so the
// outputs are exact.
func TestAdvOutHugeMoney(t *testing.T) {
	const third = affinity.MaxMoney / 3
	type buy struct {
		cust  string
		qty   int32
		price affinity.Money
	}
	buys := []buy{
		{"big", 1, third - 1}, {"big", 1, 1}, {"big", 1, 1}, {"big", 1, 1}, // 4 orders, odd total: AOV rounds
		{"neg", 1, 3}, {"neg", -1, third - 10}, // net about -third, one bought order
		{"big2", 1, third - 7}, {"big2", 1, 2}, {"big2", 1, 2},
		{"small", 1, 5},
	}
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	spend := map[string]int64{}
	orders := map[string]int64{}
	for i, x := range buys {
		require.NoError(t, b.Add(affinity.Purchase{Customer: x.cust, Product: "p", Order: strconv.Itoa(i),
			Time: advOutAsOf.Add(-time.Duration(i+1) * time.Hour), Quantity: x.qty, Price: x.price}))
		spend[x.cust] += int64(x.qty) * int64(x.price)
		if x.qty > 0 {
			orders[x.cust]++
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	var total int64
	for _, v := range spend {
		total += v
	}
	want := func(keys ...string) segment.Stats {
		s := segment.Stats{}
		var rev int64
		for _, k := range keys {
			s.Customers++
			rev += spend[k]
			s.Orders += orders[k]
		}
		s.Revenue = affinity.Money(rev)
		s.Share = float64(s.Customers) / 4
		s.RevenueShare = float64(rev) / float64(total)
		if s.Orders > 0 {
			s.AOV = affinity.Money(advOutRound(rev, s.Orders))
		}
		return s
	}
	set := func(keys ...string) *roaring.Bitmap {
		r := roaring.New()
		for _, k := range keys {
			id, ok := h.LookupCustomer(k)
			require.True(t, ok, k)
			r.Add(uint32(id))
		}
		return r
	}
	for _, keys := range [][]string{{"big"}, {"neg"}, {"big", "big2"}, {"big", "neg"}, {"big", "big2", "small"}, {"big", "neg", "big2", "small"}, {"neg", "small"}} {
		msg := strings.Join(keys, "+")
		advOutEqualStats(t, msg, want(keys...), x.Stats("", set(keys...)))
		cells := x.CrossTab([]*roaring.Bitmap{set(keys...)}, []*roaring.Bitmap{x.All()})
		advOutEqualStats(t, msg+" crosstab", want(keys...), cells[0][0])
	}
	for _, k := range []string{"big", "neg", "big2", "small"} {
		id, _ := h.LookupCustomer(k)
		f, ok := x.Features(id)
		require.True(t, ok)
		assert.Equal(t, affinity.Money(spend[k]), f.Monetary, k)
		assert.Equal(t, affinity.Money(advOutRound(spend[k], orders[k])), f.AOV, k)
	}
	var life, rfm affinity.Money
	for _, r := range x.LifecycleTable() {
		life += r.Revenue
	}
	for _, r := range x.RFMTable() {
		rfm += r.Revenue
	}
	assert.Equal(t, affinity.Money(total), life)
	assert.Equal(t, affinity.Money(total), rfm)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, x.All()))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	for _, row := range rows[1:] {
		m, err := affinity.ParseMoney(row[4], '.')
		require.NoError(t, err, row[4])
		assert.Equal(t, affinity.Money(spend[row[0]]), m, row[0])
	}
}

// With a half-life the population shares are decayed (2^(−age/HalfLife)
// per order) while monetary value and frequency are not; non-merchandise
// spend is in the denominator and in no category.
func TestAdvOutPopulationShareDecayAndNonMerchandise(t *testing.T) {
	c := advOutCases(t, 1)[0]
	cat := c.h.Catalog()
	p2, _ := cat.LookupProduct("p2")
	hl := 90 * 24 * time.Hour
	x, err := segment.Build(context.Background(), c.h, advOutAsOf,
		segment.Options{HalfLife: hl, NonMerchandise: roaring.BitmapOf(uint32(p2))})
	require.NoError(t, err)
	erased := map[string]bool{}
	for _, k := range c.w.erased {
		erased[k] = true
	}
	start := affinity.Months(24).Start(advOutAsOf)
	var den float64
	num := map[string]float64{}
	for _, o := range c.w.orders {
		if o.cust == "" || erased[o.cust] || o.at.After(advOutAsOf) || !o.at.After(start) {
			continue
		}
		w := math.Exp2(-float64(advOutAsOf.Sub(o.at)) / float64(hl))
		for _, l := range o.lines {
			if l.qty <= 0 {
				continue
			}
			v := float64(l.qty) * float64(l.price) * w
			den += v
			if l.prod == "p2" {
				continue
			}
			p, _ := cat.LookupProduct(l.prod)
			for _, s := range cat.Shares(p) {
				num[cat.CategoryPath(s.Category)] += v * float64(s.Weight)
			}
		}
	}
	for _, p := range x.Categories() {
		got, ok := x.PopulationShare(p)
		require.True(t, ok, p)
		assert.InDelta(t, num[p]/den, got, 2e-4, "PopulationShare(%q)", p)
	}
	// frequency, monetary and recency do not decay
	for _, id := range c.x.All().ToArray() {
		a, _ := c.x.Features(affinity.CustomerID(id))
		b, _ := x.Features(affinity.CustomerID(id))
		assert.Equal(t, [3]int{a.Recency, a.Tenure, a.Frequency}, [3]int{b.Recency, b.Tenure, b.Frequency}, a.Customer)
		assert.Equal(t, a.Monetary, b.Monetary, a.Customer)
	}
	assert.Equal(t, c.x.Stats("s", c.x.All()), x.Stats("s", x.All()))
}

// The lazily built columns and key order are safe to build from several
// goroutines at once, and give what a sequential first use gives.
func TestAdvOutConcurrentFirstUse(t *testing.T) {
	c := advOutCases(t, 1)[0]
	x, err := segment.Build(context.Background(), c.h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	small := roaring.BitmapOf(0, 2)
	all := c.x.All()
	wantStats := c.x.Stats("s", small)
	wantKeys := c.x.SortedKeys(all)
	wantIDs := c.x.SortedIDs(small)
	wantCells := c.x.CrossTab([]*roaring.Bitmap{small, all}, []*roaring.Bitmap{all})
	wantFs := c.x.FeaturesOf(all)
	k0 := c.h.CustomerKey(0)
	id0, ok0 := c.x.LookupCustomer(k0)
	type result struct {
		stats segment.Stats
		keys  []string
		ids   []affinity.CustomerID
		cells [][]segment.Stats
		fs    []segment.Features
		spend affinity.Money
		id    affinity.CustomerID
		ok    bool
	}
	res := make([]result, 4)
	done := make(chan struct{})
	for g := range res {
		go func() {
			defer func() { done <- struct{}{} }()
			r := &res[g]
			for i := range 4 {
				switch (g + i) % 4 {
				case 0:
					r.stats = x.Stats("s", small)
					r.spend = x.Spend(2)
				case 1:
					r.keys = x.SortedKeys(all)
				case 2:
					r.id, r.ok = x.LookupCustomer(k0)
					r.ids = x.SortedIDs(small)
				case 3:
					r.cells = x.CrossTab([]*roaring.Bitmap{small, all}, []*roaring.Bitmap{all})
					r.fs = x.FeaturesOf(all)
				}
			}
		}()
	}
	for range res {
		<-done
	}
	for g, r := range res {
		assert.Equal(t, wantStats, r.stats, "goroutine %d", g)
		assert.Equal(t, c.x.Spend(2), r.spend, "goroutine %d", g)
		assert.Equal(t, wantKeys, r.keys, "goroutine %d", g)
		assert.Equal(t, wantIDs, r.ids, "goroutine %d", g)
		assert.Equal(t, wantCells, r.cells, "goroutine %d", g)
		assert.Equal(t, wantFs, r.fs, "goroutine %d", g)
		assert.Equal(t, [2]any{id0, ok0}, [2]any{r.id, r.ok}, "goroutine %d", g)
	}
}

// Keys with a CR LF inside are written quoted with their bytes intact
// (RFC 4180), so that a reader that keeps CR LF in quoted fields gets
// the key back; the Stats name is kept as given.
func TestAdvOutCSVRawBytesAndNames(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	for i, k := range []string{"x\r\ny", "x\ny", "plain"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: "p", Order: strconv.Itoa(i),
			Time: advOutAsOf.Add(-time.Hour), Quantity: 1, Price: 10000}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, x.All()))
	out := buf.String()
	assert.Contains(t, out, "\"x\r\ny\",", out)
	assert.Contains(t, out, "\"x\ny\",", out)
	assert.Contains(t, out, "\nplain,", out)
	for _, name := range []string{"", "a\nb", "Champions"} {
		assert.Equal(t, name, x.Stats(name, x.All()).Name)
	}
	for _, p := range []string{"A", " A", "A/", "/A//"} {
		d, ok := x.CategoryDepth(p)
		_, ok2 := x.PopulationShare(p)
		assert.True(t, ok && ok2, "%q is cleaned like Catalog.LookupCategory", p)
		assert.Equal(t, 1, d, p)
	}
}

// Lifecycle stages and LifecycleTable under non-default thresholds and a
// one-month look-back (28 days before March 15, which caps LapseAfter's
// default).
func TestAdvOutLifecycleOptions(t *testing.T) {
	for seed := range uint64(3) {
		lb := affinity.Months(1)
		rng := rand.New(rand.NewPCG(seed, 0xad9))
		w := advOutRandomWorld(rng, lb)
		h := advOutHistory(t, w)
		for _, o := range []struct {
			opts                segment.Options
			lapse, churn, loyal int
		}{
			{segment.Options{Lookback: lb}, 28, 365, 4},
			{segment.Options{Lookback: lb, LoyalOrders: 2, LapseAfter: 10 * segment.Day, ChurnAfter: 40 * segment.Day}, 10, 40, 2},
			{segment.Options{Lookback: lb, LoyalOrders: 3, LapseAfter: 28 * segment.Day, ChurnAfter: 29 * segment.Day}, 28, 29, 3},
		} {
			msg := fmt.Sprintf("seed %d %+v", seed, o)
			x, err := segment.Build(context.Background(), h, advOutAsOf, o.opts)
			require.NoError(t, err, msg)
			m := advOutNewModel(w, h, lb, o.lapse)
			c := advOutCase{name: msg, h: h, x: x, m: m, w: w}
			sets := map[string]*roaring.Bitmap{}
			for _, st := range segment.Stages() {
				sets[st] = roaring.New()
			}
			for id := range h.NumCustomers() {
				mc := advOutModelCust(c, uint32(id))
				if mc == nil {
					continue
				}
				want := ""
				if mc.recency >= 0 {
					want = advOutStage(mc, o.lapse, o.churn, o.loyal)
					sets[want].Add(uint32(id))
				}
				f, _ := x.Features(affinity.CustomerID(id))
				assert.Equal(t, want, f.Stage, "%s %q recency %d freq %d", msg, f.Customer, mc.recency, mc.freq)
			}
			for i, st := range segment.Stages() {
				advOutEqualStats(t, msg+" "+st, advOutWant(h, m, x.Len(), st, sets[st]), x.LifecycleTable()[i])
			}
		}
	}
}

// Frequency counts orders: lines of one customer with one order id are
// one order, lines without an order id are one order per customer and
// second, and one order id of two customers is two orders.
func TestAdvOutOrderIdentity(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	at := advOutAsOf.Add(-48 * time.Hour).Truncate(time.Second)
	add := func(cust, order string, t0 time.Time, qty int32) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p", Order: order, Time: t0, Quantity: qty, Price: 10000}))
	}
	add("u", "", at, 1)
	add("u", "", at.Add(400*time.Millisecond), 2) // same second: same order
	add("u", "", at.Add(time.Second), 1)          // next second: another order
	add("u", "", at.Add(2*time.Second), -1)       // return only: no order counted
	add("v", "shared", at, 1)
	add("w", "shared", at, 1)
	add("v", "o2", at.Add(time.Hour), 1)
	add("v", "o2", at.Add(time.Hour), -1) // net zero, still a bought order
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	want := map[string][2]int64{"u": {2, 30000}, "v": {2, 10000}, "w": {1, 10000}}
	for k, v := range want {
		id, ok := h.LookupCustomer(k)
		require.True(t, ok, k)
		f, _ := x.Features(id)
		assert.Equal(t, v, [2]int64{int64(f.Frequency), int64(f.Monetary)}, k)
	}
	s := x.Stats("all", x.All())
	assert.Equal(t, int64(5), s.Orders)
	assert.Equal(t, affinity.Money(50000), s.Revenue)
	assert.Equal(t, affinity.Money(10000), s.AOV)
}

// A shop whose purchases all cost nothing (samples, giveaways) and whose
// only money is a return: no share is NaN.
func TestAdvOutZeroSpend(t *testing.T) {
	var b affinity.Builder
	for _, p := range advOutProducts {
		require.NoError(t, b.AddProduct(p))
	}
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "p3", Order: "1", Time: advOutAsOf.Add(-time.Hour), Quantity: 2, Price: 0}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "b", Product: "p0", Order: "2", Time: advOutAsOf.Add(-time.Hour), Quantity: 1, Price: 0}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "b", Product: "p0", Order: "3", Time: advOutAsOf.Add(-time.Minute), Quantity: -1, Price: 5000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advOutAsOf, segment.Options{})
	require.NoError(t, err)
	for _, p := range x.Categories() {
		v, ok := x.PopulationShare(p)
		assert.True(t, ok, p)
		assert.Zero(t, v, p)
	}
	s := x.Stats("s", x.All())
	assert.Equal(t, segment.Stats{Name: "s", Customers: 2, Share: 1, Revenue: -5000, Orders: 2, AOV: -2500}, s)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, nil))
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"), buf.String())
}
