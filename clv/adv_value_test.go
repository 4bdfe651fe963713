package clv_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of the value side of clv (Summarize, Summary.Sort,
// Historical, CLV/Score/ExpectedValue, Quantiles/WinBack) against naive
// models written from the package documentation only.

var advValT0 = time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)

func advValDay(d int) time.Time { return advValT0.AddDate(0, 0, d) }

// advValLine is a purchase line with a money amount in ten-thousandths.
func advValLine(cust, order string, at time.Time, qty int32, price affinity.Money) affinity.Purchase {
	return affinity.Purchase{Customer: cust, Product: "p" + order, Order: order, Time: at, Quantity: qty, Price: price}
}

func advValBuild(t *testing.T, lines []affinity.Purchase, erase ...string) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range lines {
		require.NoError(t, b.Add(p))
	}
	for _, k := range erase {
		b.EraseCustomer(k)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advValRow finds customer key's row in s.
func advValRow(t *testing.T, h *affinity.History, s *clv.Summary, key string) (int, bool) {
	t.Helper()
	c, ok := h.LookupCustomer(key)
	if !ok {
		return -1, false
	}
	i := slices.Index(s.Customers, c)
	return i, i >= 0
}

func TestAdvValSummarizeHandComputed(t *testing.T) {
	ctx := context.Background()
	m := affinity.Money(affinity.MoneyScale)
	asOf := advValDay(30)
	hEnd := advValDay(44)
	lines := []affinity.Purchase{
		// a: one order only.
		advValLine("a", "a1", advValDay(2), 1, 5*m),
		// b: first order, a return-only order, a mixed order, a zero-price
		// order, an order exactly at asOf, one just after, one at the holdout
		// end and one after it.
		advValLine("b", "b1", advValDay(0), 2, 10*m),
		advValLine("b", "b2", advValDay(3), -1, 10*m),
		advValLine("b", "b3", advValDay(7), 3, 4*m),
		advValLine("b", "b3", advValDay(7), -1, 1*m),
		advValLine("b", "b4", advValDay(14), 1, 0),
		advValLine("b", "b5", asOf, 1, 7*m+1),
		advValLine("b", "b6", asOf.Add(time.Second), 1, 100*m),
		advValLine("b", "b7", hEnd, 1, 100*m),
		advValLine("b", "b8", hEnd.Add(time.Second), 1, 100*m),
		// c: two orders with distinct keys at the same second: two
		// transactions.
		advValLine("c", "c1", advValDay(5), 1, 3*m),
		advValLine("c", "c2", advValDay(5), 1, 4*m),
		// d: lines without order id at the same second merge into one order.
		advValLine("d", "", advValDay(6), 1, 3*m),
		advValLine("d", "", advValDay(6), 2, 4*m),
		advValLine("d", "", advValDay(9), 1, 1*m),
		// e: only returns: no transaction, no row.
		advValLine("e", "e1", advValDay(4), -1, 3*m),
		// f: first purchase after asOf, within the holdout: no row.
		advValLine("f", "f1", advValDay(31), 1, 3*m),
		// g: a return-only order before the first purchase counts in Spend.
		advValLine("g", "g1", advValDay(1), -2, 1*m),
		advValLine("g", "g2", advValDay(8), 1, 6*m),
		// x: erased.
		advValLine("x", "x1", advValDay(1), 1, 9*m),
		advValLine("x", "x2", advValDay(9), 1, 9*m),
		// anonymous.
		advValLine("", "n1", advValDay(3), 1, 9*m),
		// h: two orders exactly at asOf: T = 0.
		advValLine("h", "h1", asOf, 1, m),
		advValLine("h", "h2", asOf, 1, 2*m),
		// k: exact decimal sums: 0.1 + 0.2 + 0.1 − 0.1.
		advValLine("k", "k1", advValDay(0), 1, 1000),
		advValLine("k", "k2", advValDay(1), 1, 2000),
		advValLine("k", "k3", advValDay(2), 1, 1000),
		advValLine("k", "k4", advValDay(3), -1, 1000),
	}
	h := advValBuild(t, lines, "x")
	s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: hEnd})
	require.NoError(t, err)
	require.Len(t, s.Rows, len(s.Customers))
	require.Len(t, s.Spend, len(s.Customers))
	require.Len(t, s.Holdout, len(s.Customers))
	assert.True(t, slices.IsSorted(s.Customers), "ascending customer id order")
	assert.Equal(t, clv.Week, s.Unit)
	assert.True(t, s.CalibrationEnd.Equal(asOf))
	assert.InDelta(t, 2.0, s.HoldoutLength, 1e-12)

	w := clv.Week.Of
	type want struct {
		row     clv.RFT
		spend   float64
		holdout int
	}
	wants := map[string]want{
		"a": {clv.RFT{T: w(asOf.Sub(advValDay(2)))}, 5, 0},
		// b: transactions b1 (day 0), b3 (day 7, net 11), b4 (day 14, 0),
		// b5 (asOf, 7.0001); b2 only returns. Repeat values 11, 0, 7.0001.
		"b": {clv.RFT{Frequency: 3, Recency: w(asOf.Sub(advValDay(0))), T: w(asOf.Sub(advValDay(0))),
			MeanValue: (11 + 0 + 7.0001) / 3}, 20 - 10 + 11 + 0 + 7.0001, 2},
		"c": {clv.RFT{Frequency: 1, Recency: 0, T: w(asOf.Sub(advValDay(5))), MeanValue: 4}, 7, 0},
		"d": {clv.RFT{Frequency: 1, Recency: w(3 * 24 * time.Hour), T: w(asOf.Sub(advValDay(6))), MeanValue: 1}, 12, 0},
		"g": {clv.RFT{T: w(asOf.Sub(advValDay(8)))}, 6 - 2, 0},
		"h": {clv.RFT{Frequency: 1, MeanValue: 2}, 3, 0},
		"k": {clv.RFT{Frequency: 2, Recency: w(2 * 24 * time.Hour), T: w(asOf.Sub(advValDay(0))), MeanValue: 0.15}, 0.3, 0},
	}
	require.Len(t, s.Customers, len(wants), "rows: %v", s.Customers)
	for key, wt := range wants {
		i, ok := advValRow(t, h, s, key)
		if !assert.True(t, ok, "customer %s has no row", key) {
			continue
		}
		got := s.Rows[i]
		assert.Equal(t, wt.row.Frequency, got.Frequency, key)
		assert.InDelta(t, wt.row.Recency, got.Recency, 1e-12, key)
		assert.InDelta(t, wt.row.T, got.T, 1e-12, key)
		assert.InDelta(t, wt.row.MeanValue, got.MeanValue, 1e-9, key)
		assert.InDelta(t, wt.spend, s.Spend[i], 1e-9, key)
		assert.Equal(t, wt.holdout, s.Holdout[i], key)
	}
	// Money sums are exact: the float is that of the exact decimal sum.
	if i, ok := advValRow(t, h, s, "k"); assert.True(t, ok) {
		assert.Equal(t, affinity.Money(3000).Float(), s.Spend[i])
		assert.Equal(t, affinity.Money(3000).Float()/2, s.Rows[i].MeanValue)
	}
	// Every row of a Summary is valid model input, and scores finitely.
	sc, err := clv.Score(ctx, s.Rows, &clv.BGNBD{R: 0.5, Alpha: 6, A: 0.9, B: 2.5}, &clv.GammaGamma{P: 6, Q: 4, Gamma: 15}, clv.ScoreOptions{})
	require.NoError(t, err)
	for i := range s.Rows {
		for _, v := range []float64{sc.CLV[i], sc.ExpectedPurchases[i], sc.PAlive[i], sc.ExpectedValue[i]} {
			assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "row %d %+v", i, s.Rows[i])
		}
	}
	for _, key := range []string{"e", "f", "x"} {
		_, ok := advValRow(t, h, s, key)
		assert.False(t, ok, "customer %s must have no row", key)
	}
}

func TestAdvValSummarizeDaysAndZones(t *testing.T) {
	ctx := context.Background()
	m := affinity.Money(affinity.MoneyScale)
	h := advValBuild(t, []affinity.Purchase{
		advValLine("a", "1", advValDay(0).Add(90*time.Minute), 1, m),
		advValLine("a", "2", advValDay(10), 1, 3*m),
		advValLine("a", "3", advValDay(17).Add(12*time.Hour), 1, 5*m),
	})
	asOf := advValDay(21)
	wk, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{})
	require.NoError(t, err)
	zone := time.FixedZone("x", -7*3600)
	dy, err := clv.Summarize(ctx, h, asOf.In(zone), clv.SummaryOptions{Unit: clv.Day})
	require.NoError(t, err)
	require.Len(t, wk.Rows, 1)
	require.Len(t, dy.Rows, 1)
	assert.Nil(t, wk.Holdout, "no holdout without HoldoutEnd")
	assert.Equal(t, clv.Day, dy.Unit)
	a, b := wk.Rows[0], dy.Rows[0]
	assert.Equal(t, a.Frequency, b.Frequency)
	assert.InDelta(t, 7*a.Recency, b.Recency, 1e-9)
	assert.InDelta(t, 7*a.T, b.T, 1e-9)
	assert.InDelta(t, 17.5-1.0/16, b.Recency, 1e-12)
	assert.InDelta(t, 21-1.0/16, b.T, 1e-12)
	assert.Equal(t, a.MeanValue, b.MeanValue)
	assert.InDelta(t, 4, b.MeanValue, 1e-12)
	assert.Equal(t, wk.Spend, dy.Spend)
}

func TestAdvValSummarizeCDNOWConvention(t *testing.T) {
	// The doc's example: date-only data, asOf 1997-09-30 gives a customer
	// who first bought on 1997-01-01 a T of 272 days.
	m := affinity.Money(affinity.MoneyScale)
	d := func(mo time.Month, day int) time.Time { return time.Date(1997, mo, day, 0, 0, 0, 0, time.UTC) }
	h := advValBuild(t, []affinity.Purchase{
		{Customer: "1", Product: "x", Time: d(1, 1), Quantity: 1, Price: m},
		{Customer: "1", Product: "y", Time: d(1, 1), Quantity: 2, Price: m},
		{Customer: "1", Product: "x", Time: d(9, 30), Quantity: 1, Price: 2 * m},
		{Customer: "1", Product: "x", Time: d(10, 1), Quantity: 1, Price: 2 * m},
	})
	s, err := clv.Summarize(context.Background(), h, d(9, 30), clv.SummaryOptions{Unit: clv.Day, HoldoutEnd: d(12, 31)})
	require.NoError(t, err)
	require.Len(t, s.Rows, 1)
	assert.Equal(t, clv.RFT{Frequency: 1, Recency: 272, T: 272, MeanValue: 2}, s.Rows[0])
	assert.Equal(t, []int{1}, s.Holdout)
	assert.InDelta(t, 92, s.HoldoutLength, 1e-12)
	assert.InDelta(t, 5, s.Spend[0], 1e-12)
}

func TestAdvValSummarizeErrors(t *testing.T) {
	ctx := context.Background()
	h := advValBuild(t, []affinity.Purchase{advValLine("a", "1", advValDay(0), 1, 1)})
	_, err := clv.Summarize(ctx, h, time.Time{}, clv.SummaryOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = clv.Summarize(ctx, h, advValDay(1), clv.SummaryOptions{Unit: clv.Unit(9)})
	require.ErrorIs(t, err, clv.ErrInvalid)

	// asOf before every purchase: no rows, no error.
	s, err := clv.Summarize(ctx, h, advValDay(-1), clv.SummaryOptions{})
	require.NoError(t, err)
	assert.Empty(t, s.Rows)
	assert.Empty(t, s.Customers)

	// Empty History.
	var b affinity.Builder
	empty, err := b.Build(ctx)
	require.NoError(t, err)
	s, err = clv.Summarize(ctx, empty, advValDay(1), clv.SummaryOptions{HoldoutEnd: advValDay(2)})
	require.NoError(t, err)
	assert.Empty(t, s.Rows)
	s.Sort()

	// A HoldoutEnd at or before asOf is not "after the as-of time": it
	// must not count anything nor produce a negative holdout length.
	for _, he := range []time.Time{advValDay(1), advValDay(-5)} {
		s, err = clv.Summarize(ctx, h, advValDay(1), clv.SummaryOptions{HoldoutEnd: he})
		if err != nil {
			assert.ErrorIs(t, err, clv.ErrInvalid)
			continue
		}
		assert.GreaterOrEqual(t, s.HoldoutLength, 0.0)
		for _, n := range s.Holdout {
			assert.Zero(t, n)
		}
	}

	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clv.Summarize(cctx, h, advValDay(1), clv.SummaryOptions{})
	if err != nil {
		assert.ErrorIs(t, err, context.Canceled)
	}
}

// advValWorld builds a small random History: customers c0..c{n-1}, some
// orders with returns, zero prices, same-second orders, anonymous lines
// and erased customers.
func advValWorld(t *testing.T, seed uint64, n int) (*affinity.History, []affinity.Purchase, map[string]bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0xc1f))
	var lines []affinity.Purchase
	erased := map[string]bool{}
	for c := range n {
		key := "c" + string(rune('A'+c%26)) + string(rune('a'+c/26))
		if r.IntN(9) == 0 {
			erased[key] = true
		}
		orders := r.IntN(6)
		for o := range orders {
			at := advValT0.Add(time.Duration(r.IntN(400*24)) * time.Hour)
			if o > 0 && r.IntN(4) == 0 {
				at = lines[len(lines)-1].Time // same second as the previous order
			}
			ok := key + "-" + string(rune('0'+o))
			nl := 1 + r.IntN(3)
			for range nl {
				q := int32(1 + r.IntN(3))
				if r.IntN(4) == 0 {
					q = -q
				}
				price := affinity.Money(r.IntN(5) * r.IntN(30000))
				lines = append(lines, affinity.Purchase{Customer: key, Product: "p" + string(rune('a'+r.IntN(5))), Order: ok, Time: at, Quantity: q, Price: price})
			}
		}
	}
	for i := range 5 {
		lines = append(lines, affinity.Purchase{Product: "pa", Order: "anon" + string(rune('0'+i)), Time: advValT0.Add(time.Duration(r.IntN(400)) * 24 * time.Hour), Quantity: 1, Price: 12345})
	}
	keys := make([]string, 0, len(erased))
	for k := range erased {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return advValBuild(t, lines, keys...), lines, erased
}

type advValOrder struct {
	key    string
	at     time.Time
	value  affinity.Money
	bought bool
}

// advValOrders groups the lines by customer and order key (every line in
// advValWorld has an order key) into orders with their net value.
func advValOrders(lines []affinity.Purchase, erased map[string]bool) map[string][]advValOrder {
	type k struct{ c, o string }
	idx := map[k]int{}
	out := map[string][]advValOrder{}
	for _, p := range lines {
		if p.Customer == "" || erased[p.Customer] {
			continue
		}
		kk := k{p.Customer, p.Order}
		i, ok := idx[kk]
		if !ok {
			i = len(out[p.Customer])
			idx[kk] = i
			out[p.Customer] = append(out[p.Customer], advValOrder{key: p.Order, at: p.Time})
		}
		o := &out[p.Customer][i]
		o.value += p.Value()
		if p.Time.Before(o.at) {
			o.at = p.Time
		}
		if p.Quantity > 0 {
			o.bought = true
		}
	}
	for _, os := range out {
		// History orders ties by shop order id.
		slices.SortFunc(os, func(a, b advValOrder) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return strings.Compare(a.key, b.key)
		})
	}
	return out
}

func TestAdvValSummarizeMatchesNaiveRandom(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		h, lines, erased := advValWorld(t, seed, 60)
		orders := advValOrders(lines, erased)
		asOf := advValT0.Add(time.Duration(200+seed*30) * 24 * time.Hour)
		hEnd := asOf.Add(90 * 24 * time.Hour)
		s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: hEnd, Unit: clv.Day})
		require.NoError(t, err)
		got := map[string]int{}
		for i, c := range s.Customers {
			got[h.CustomerKey(c)] = i
		}
		nrows := 0
		for key, os := range orders {
			var tx []advValOrder
			spend := affinity.Money(0)
			hold := 0
			for _, o := range os {
				if !o.at.After(asOf) {
					spend += o.value
					if o.bought {
						tx = append(tx, o)
					}
				} else if o.bought && !o.at.After(hEnd) {
					hold++
				}
			}
			i, ok := got[key]
			if len(tx) == 0 {
				assert.False(t, ok, "seed %d: %s has no transaction but a row", seed, key)
				continue
			}
			nrows++
			if !assert.True(t, ok, "seed %d: %s has no row", seed, key) {
				continue
			}
			row := s.Rows[i]
			first, last := tx[0].at, tx[len(tx)-1].at
			assert.Equal(t, float64(len(tx)-1), row.Frequency, "seed %d %s", seed, key)
			assert.InDelta(t, clv.Day.Of(last.Sub(first)), row.Recency, 1e-9, "seed %d %s", seed, key)
			assert.InDelta(t, clv.Day.Of(asOf.Sub(first)), row.T, 1e-9, "seed %d %s", seed, key)
			mean := 0.0
			if len(tx) > 1 {
				var sum affinity.Money
				for _, o := range tx[1:] {
					sum += o.value
				}
				mean = sum.Float() / float64(len(tx)-1)
			}
			assert.InDelta(t, mean, row.MeanValue, 1e-9, "seed %d %s", seed, key)
			assert.InDelta(t, spend.Float(), s.Spend[i], 1e-9, "seed %d %s", seed, key)
			assert.Equal(t, hold, s.Holdout[i], "seed %d %s", seed, key)
		}
		assert.Len(t, s.Rows, nrows, "seed %d", seed)
	}
}

func TestAdvValSummarySort(t *testing.T) {
	ctx := context.Background()
	h, _, _ := advValWorld(t, 11, 80)
	asOf := advValT0.Add(250 * 24 * time.Hour)
	s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: asOf.Add(60 * 24 * time.Hour)})
	require.NoError(t, err)
	require.NotEmpty(t, s.Rows)
	type rec struct {
		row   clv.RFT
		spend float64
		hold  int
	}
	before := map[affinity.CustomerID]rec{}
	for i, c := range s.Customers {
		before[c] = rec{s.Rows[i], s.Spend[i], s.Holdout[i]}
	}
	s.Sort()
	require.Len(t, s.Customers, len(before))
	require.Len(t, s.Rows, len(before))
	require.Len(t, s.Spend, len(before))
	require.Len(t, s.Holdout, len(before))
	for i, c := range s.Customers {
		assert.Equal(t, before[c], rec{s.Rows[i], s.Spend[i], s.Holdout[i]}, "row %d moved apart from its columns", i)
	}
	cmpRow := func(a, b clv.RFT) int {
		for _, d := range [][2]float64{{a.Frequency, b.Frequency}, {a.Recency, b.Recency}, {a.T, b.T}, {a.MeanValue, b.MeanValue}} {
			if d[0] < d[1] {
				return -1
			}
			if d[0] > d[1] {
				return 1
			}
		}
		return 0
	}
	assert.True(t, slices.IsSortedFunc(s.Rows, cmpRow), "rows sorted by F, R, T, M")

	// Sorting twice changes nothing; a Summary without holdout sorts too.
	rows := slices.Clone(s.Rows)
	s.Sort()
	assert.Equal(t, rows, s.Rows)
	s2, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{})
	require.NoError(t, err)
	s2.Sort()
	assert.Nil(t, s2.Holdout)
	assert.Equal(t, rows, s2.Rows)
}

func TestAdvValHistoricalBoundaries(t *testing.T) {
	ctx := context.Background()
	m := affinity.Money(affinity.MoneyScale)
	asOf := time.Date(2024, 3, 31, 10, 0, 0, 0, time.UTC)
	start1 := affinity.Months(1).Start(asOf)
	h := advValBuild(t, []affinity.Purchase{
		advValLine("a", "a0", start1, 1, 100*m),                  // exactly at Start: out
		advValLine("a", "a1", start1.Add(time.Second), 1, 3*m+1), // in
		advValLine("a", "a2", asOf, 2, 2*m),                      // exactly at End: in
		advValLine("a", "a3", asOf.Add(time.Second), 1, 50*m),    // after: ignored
		advValLine("b", "b1", asOf.Add(-time.Hour), -1, 5*m),     // returns only
		advValLine("c", "c1", asOf.Add(-2*time.Hour), 1, 0),      // zero spend
		advValLine("c", "c2", asOf.Add(-2*time.Hour), 1, 1),      // same second, other order
		advValLine("x", "x1", asOf.Add(-time.Hour), 1, 9*m),      // erased
		advValLine("", "n1", asOf.Add(-time.Hour), 1, 9*m),       // anonymous
	}, "x")
	ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: []int{1}})
	require.NoError(t, err)
	require.Len(t, ws, 1)
	w := ws[0]
	assert.Equal(t, 1, w.Months)
	assert.True(t, w.Start.Equal(start1))
	assert.True(t, w.End.Equal(asOf))
	require.Len(t, w.Customers, h.NumCustomers())
	id := func(k string) affinity.CustomerID {
		c, ok := h.LookupCustomer(k)
		require.True(t, ok, k)
		return c
	}
	assert.Equal(t, clv.CustomerValue{Orders: 2, Spend: 7*m + 1}, w.Customers[id("a")])
	assert.Equal(t, clv.CustomerValue{Orders: 0, Spend: -5 * m}, w.Customers[id("b")])
	assert.Equal(t, clv.CustomerValue{Orders: 2, Spend: 1}, w.Customers[id("c")])
	for c := range w.Customers {
		k := h.CustomerKey(affinity.CustomerID(c))
		if k != "a" && k != "b" && k != "c" {
			assert.Zero(t, w.Customers[c], "customer %d (%q)", c, k)
		}
	}
	assert.Equal(t, []uint32{uint32(id("a")), uint32(id("c"))}, w.Buyers.ToArray())
	assert.Equal(t, []uint32{uint32(id("a")), uint32(id("c"))}, w.RepeatBuyers.ToArray())
	assert.Equal(t, 4, w.Orders)
	assert.Equal(t, 2*m+2, w.Spend)
	assert.InDelta(t, 5000.5, float64(w.AOV()), 0.5)
	assert.Equal(t, m+1, w.SpendPerBuyer())
	assert.InDelta(t, 2.0, w.PurchaseFrequency(), 1e-12)
	assert.InDelta(t, 1.0, w.RepeatRate(), 1e-12)
	assert.InDelta(t, 2.0, w.Frequency(id("a")), 1e-12)
	assert.InDelta(t, 0.0, w.Frequency(id("b")), 1e-12)
	assert.Equal(t, affinity.Money(0), w.Customers[id("b")].AOV())
	assert.Equal(t, (7*m+2)/2, w.Customers[id("a")].AOV(), "half away from zero")
}

func TestAdvValHistoricalMatchesNaiveRandom(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		h, lines, erased := advValWorld(t, 100+seed, 60)
		orders := advValOrders(lines, erased)
		zone := time.FixedZone("y", 5*3600+1800)
		asOf := advValT0.Add(time.Duration(300+seed*17)*24*time.Hour + 7*time.Hour).In(zone)
		months := []int{24, 1, 3, 12}
		ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: months})
		require.NoError(t, err)
		require.Len(t, ws, len(months))
		for wi, mo := range months {
			w := ws[wi]
			assert.Equal(t, mo, w.Months)
			start := affinity.Months(mo).Start(asOf)
			assert.True(t, w.Start.Equal(start), "seed %d months %d start %v want %v", seed, mo, w.Start, start)
			require.Len(t, w.Customers, h.NumCustomers())
			totalOrders, totalSpend := 0, affinity.Money(0)
			buyers, repeat := roaring.New(), roaring.New()
			for c := range h.NumCustomers() {
				key := h.CustomerKey(affinity.CustomerID(c))
				var want clv.CustomerValue
				for _, o := range orders[key] {
					if o.at.After(start) && !o.at.After(asOf) {
						want.Spend += o.value
						if o.bought {
							want.Orders++
						}
					}
				}
				if key == "" {
					want = clv.CustomerValue{}
				}
				assert.Equal(t, want, w.Customers[c], "seed %d months %d customer %q", seed, mo, key)
				totalOrders += want.Orders
				totalSpend += want.Spend
				if want.Orders >= 1 {
					buyers.Add(uint32(c))
				}
				if want.Orders >= 2 {
					repeat.Add(uint32(c))
				}
				assert.InDelta(t, float64(want.Orders)/float64(mo), w.Frequency(affinity.CustomerID(c)), 1e-12)
			}
			assert.Equal(t, totalOrders, w.Orders)
			assert.Equal(t, totalSpend, w.Spend)
			assert.True(t, buyers.Equals(w.Buyers), "seed %d months %d buyers", seed, mo)
			assert.True(t, repeat.Equals(w.RepeatBuyers), "seed %d months %d repeat buyers", seed, mo)
			if nb := buyers.GetCardinality(); nb > 0 {
				assert.InDelta(t, float64(totalOrders)/float64(nb), w.PurchaseFrequency(), 1e-12)
				assert.InDelta(t, float64(repeat.GetCardinality())/float64(nb), w.RepeatRate(), 1e-12)
				assert.InDelta(t, totalSpend.Float()/float64(nb), w.SpendPerBuyer().Float(), 1e-4)
			}
			if totalOrders > 0 {
				assert.InDelta(t, totalSpend.Float()/float64(totalOrders), w.AOV().Float(), 1e-4)
			}
		}
	}
}

func TestAdvValHistoricalOptions(t *testing.T) {
	ctx := context.Background()
	h := advValBuild(t, []affinity.Purchase{
		advValLine("a", "1", advValDay(0), 1, 10),
		advValLine("a", "2", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), 1, 7),
	})
	asOf := advValDay(1)
	ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{})
	require.NoError(t, err)
	require.Len(t, ws, 2)
	assert.Equal(t, 12, ws[0].Months)
	assert.Equal(t, 24, ws[1].Months)

	same, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: []int{12, 24, 12}})
	require.NoError(t, err)
	require.Len(t, same, 3)
	assert.Equal(t, ws[0], same[0])
	assert.Equal(t, ws[1], same[1])
	assert.Equal(t, ws[0], same[2])

	for _, bad := range [][]int{{0}, {-1}, {12, 0}, {math.MinInt}} {
		_, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: bad})
		assert.ErrorIs(t, err, clv.ErrInvalid, "months %v", bad)
	}
	_, err = clv.Historical(ctx, h, time.Time{}, clv.HistoricalOptions{})
	assert.ErrorIs(t, err, clv.ErrInvalid)

	// A window reaching back beyond the whole history holds everything,
	// however long it is: never a Start after End, never a panic.
	for _, mo := range []int{1200, 120000, 1 << 20, math.MaxInt32, 1 << 50, math.MaxInt} {
		ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: []int{mo}})
		if err != nil {
			assert.ErrorIs(t, err, clv.ErrInvalid, "months %d", mo)
			continue
		}
		require.Len(t, ws, 1)
		w := ws[0]
		assert.False(t, w.Start.After(w.End), "months %d: start %v after end %v", mo, w.Start, w.End)
		assert.Equal(t, 2, w.Orders, "months %d", mo)
		assert.Equal(t, affinity.Money(17), w.Spend, "months %d", mo)
	}
}

func TestAdvValHistoricalMoneyExact(t *testing.T) {
	// Large and fractional amounts sum exactly in Money.
	ctx := context.Background()
	big := affinity.MaxMoney / 8
	h := advValBuild(t, []affinity.Purchase{
		advValLine("a", "1", advValDay(0), 1, big),
		advValLine("a", "2", advValDay(1), 1, big),
		advValLine("a", "3", advValDay(2), 1, 1),
		advValLine("b", "1", advValDay(2), 3, 3333),
		advValLine("b", "2", advValDay(3), -1, big),
	})
	ws, err := clv.Historical(ctx, h, advValDay(5), clv.HistoricalOptions{Months: []int{1}})
	require.NoError(t, err)
	w := ws[0]
	a, _ := h.LookupCustomer("a")
	b, _ := h.LookupCustomer("b")
	assert.Equal(t, 2*big+1, w.Customers[a].Spend)
	assert.Equal(t, 9999-big, w.Customers[b].Spend)
	assert.Equal(t, big+10000, w.Spend)
	near := func(want, got affinity.Money) bool { return got-want <= 1 && want-got <= 1 }
	assert.True(t, near((big+10000)/4, w.AOV()), "AOV %v", w.AOV())
	assert.Equal(t, (2*big+1+1)/3, w.Customers[a].AOV(), "rounded half away from zero")
	assert.True(t, near((big+10000)/2, w.SpendPerBuyer()), "spend per buyer %v", w.SpendPerBuyer())
	s, err := clv.Summarize(ctx, h, advValDay(5), clv.SummaryOptions{})
	require.NoError(t, err)
	i := slices.Index(s.Customers, a)
	require.GreaterOrEqual(t, i, 0)
	assert.InEpsilon(t, (2 * big).Float(), s.Spend[i], 1e-15)
}

func TestAdvValCLVOptions(t *testing.T) {
	bg := clv.BGNBD{R: 0.5, Alpha: 6, A: 0.9, B: 2.5}
	gg := clv.GammaGamma{P: 6, Q: 4, Gamma: 15}
	c := clv.RFT{Frequency: 2, Recency: 20, T: 30, MeanValue: 30}
	month := 365.2425 / 12
	defaults, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{})
	require.NoError(t, err)
	explicit, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{Unit: clv.Week, Period: time.Duration(month * 24 * float64(time.Hour)), Periods: 12, Margin: 1})
	require.NoError(t, err)
	assert.InEpsilon(t, defaults, explicit, 1e-9)
	// No discounting: the increments telescope.
	assert.InEpsilon(t, gg.ExpectedValue(c)*bg.ExpectedPurchases(c, 12*month/7), defaults, 1e-9)

	// Margin scales linearly.
	half, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{Margin: 0.5})
	require.NoError(t, err)
	assert.InEpsilon(t, defaults/2, half, 1e-12)

	// Day model units: the same customer measured in days, model with α
	// in days, gives the same CLV.
	bgDay := bg
	bgDay.Alpha *= 7
	cDay := clv.RFT{Frequency: c.Frequency, Recency: 7 * c.Recency, T: 7 * c.T, MeanValue: c.MeanValue}
	dayV, err := clv.CLV(&bgDay, &gg, cDay, clv.CLVOptions{Unit: clv.Day, DiscountRate: 0.02})
	require.NoError(t, err)
	wkV, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{DiscountRate: 0.02})
	require.NoError(t, err)
	assert.InEpsilon(t, wkV, dayV, 1e-9)

	// Two periods by hand, with the per-period increments discounted once.
	step := 14.0 / 7
	e1, e2 := bg.ExpectedPurchases(c, step), bg.ExpectedPurchases(c, 2*step)
	want := 0.7 * gg.ExpectedValue(c) * (e1/1.1 + (e2-e1)/1.21)
	got, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{Period: 14 * 24 * time.Hour, Periods: 2, DiscountRate: 0.1, Margin: 0.7})
	require.NoError(t, err)
	assert.InEpsilon(t, want, got, 1e-12)

	// Discounting lowers the value, monotonically.
	prev := defaults
	for _, d := range []float64{0.001, 0.01, 0.1, 1, 10} {
		v, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{DiscountRate: d})
		require.NoError(t, err)
		assert.Less(t, v, prev, "rate %v", d)
		prev = v
	}
	// A negative rate above −1 is allowed and raises the value.
	v, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{DiscountRate: -0.5})
	require.NoError(t, err)
	assert.Greater(t, v, defaults)

	bad := map[string]clv.CLVOptions{
		"rate -1":      {DiscountRate: -1},
		"rate -2":      {DiscountRate: -2},
		"rate NaN":     {DiscountRate: math.NaN()},
		"margin < 0":   {Margin: -0.1},
		"margin NaN":   {Margin: math.NaN()},
		"rate Inf":     {DiscountRate: math.Inf(1)},
		"periods < 0":  {Periods: -1},
		"period < 0":   {Period: -time.Hour},
		"unit unknown": {Unit: clv.Unit(9)},
	}
	for name, o := range bad {
		t.Run(name, func(t *testing.T) {
			v, err := clv.CLV(&bg, &gg, c, o)
			if name == "rate Inf" && err == nil {
				// Infinite discounting is a limit, not an error, if finite.
				assert.False(t, math.IsNaN(v))
				return
			}
			assert.ErrorIs(t, err, clv.ErrInvalid, "got value %v", v)
		})
	}
}

func TestAdvValScoreMatchesPerCustomer(t *testing.T) {
	ctx := context.Background()
	h, _, _ := advValWorld(t, 7, 70)
	asOf := advValT0.Add(260 * 24 * time.Hour)
	s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{Unit: clv.Day})
	require.NoError(t, err)
	require.NotEmpty(t, s.Rows)
	bg := clv.BGNBD{R: 0.6, Alpha: 40, A: 0.8, B: 2.2}
	gg := clv.GammaGamma{P: 3, Q: 5, Gamma: 9}
	opts := clv.ScoreOptions{Horizon: 90 * 24 * time.Hour, CLV: clv.CLVOptions{Unit: clv.Day, Period: 7 * 24 * time.Hour, Periods: 5, DiscountRate: 0.005, Margin: 0.3}}
	one, err := clv.Score(ctx, s.Rows, &bg, &gg, opts)
	require.NoError(t, err)
	opts.Workers = 3
	three, err := clv.Score(ctx, s.Rows, &bg, &gg, opts)
	require.NoError(t, err)
	assert.Equal(t, one, three, "results do not depend on Workers")
	require.Len(t, one.CLV, len(s.Rows))
	require.Len(t, one.ExpectedPurchases, len(s.Rows))
	require.Len(t, one.PAlive, len(s.Rows))
	require.Len(t, one.ExpectedValue, len(s.Rows))
	for i, c := range s.Rows {
		v, err := clv.CLV(&bg, &gg, c, opts.CLV)
		require.NoError(t, err)
		assert.InDelta(t, v, one.CLV[i], 1e-9*math.Max(1, math.Abs(v)), "row %d", i)
		assert.InDelta(t, bg.ExpectedPurchases(c, 90), one.ExpectedPurchases[i], 1e-12, "row %d", i)
		assert.Equal(t, bg.PAlive(c), one.PAlive[i], "row %d", i)
		assert.Equal(t, gg.ExpectedValue(c), one.ExpectedValue[i], "row %d", i)
	}
	// Default horizon: Periods × Period.
	opts.Horizon = 0
	def, err := clv.Score(ctx, s.Rows[:3], &bg, nil, opts)
	require.NoError(t, err)
	assert.Nil(t, def.CLV)
	assert.Nil(t, def.ExpectedValue)
	for i, c := range s.Rows[:3] {
		assert.InDelta(t, bg.ExpectedPurchases(c, 35), def.ExpectedPurchases[i], 1e-12)
	}
	// Empty input.
	e, err := clv.Score(ctx, nil, &bg, &gg, opts)
	require.NoError(t, err)
	assert.Empty(t, e.CLV)
	// Bad rows.
	for name, row := range map[string]clv.RFT{
		"negative frequency": {Frequency: -1, T: 1},
		"recency beyond T":   {Frequency: 1, Recency: 2, T: 1},
		"NaN T":              {T: math.NaN()},
		"Inf T":              {T: math.Inf(1)},
		"negative T":         {T: -1},
	} {
		_, err := clv.Score(ctx, []clv.RFT{{Frequency: 1, Recency: 1, T: 2, MeanValue: 3}, row}, &bg, &gg, opts)
		assert.ErrorIs(t, err, clv.ErrInvalid, name)
	}
	_, err = clv.Score(ctx, s.Rows, &bg, &gg, clv.ScoreOptions{Horizon: -time.Hour})
	assert.ErrorIs(t, err, clv.ErrInvalid, "negative horizon")
	_, err = clv.Score(ctx, s.Rows, &bg, &gg, clv.ScoreOptions{CLV: clv.CLVOptions{DiscountRate: -1}})
	assert.ErrorIs(t, err, clv.ErrInvalid, "bad CLV options")
}

func TestAdvValExpectedValue(t *testing.T) {
	gg := clv.GammaGamma{P: 2, Q: 3, Gamma: 10}
	assert.InDelta(t, 2*10/2.0, gg.ExpectedValue(clv.RFT{T: 5}), 1e-12)
	// MeanValue is ignored without repeat purchases.
	assert.InDelta(t, 10, gg.ExpectedValue(clv.RFT{T: 5, MeanValue: 1000}), 1e-12)
	c := clv.RFT{Frequency: 3, Recency: 2, T: 5, MeanValue: 40}
	assert.InDelta(t, 2*(10+3*40)/(2*3+3-1.0), gg.ExpectedValue(c), 1e-12)
	// px + q ≤ 1 gives +Inf.
	inf := clv.GammaGamma{P: 0.5, Q: 0.5, Gamma: 1}
	assert.True(t, math.IsInf(inf.ExpectedValue(clv.RFT{T: 1}), 1))
	assert.True(t, math.IsInf(inf.ExpectedValue(clv.RFT{Frequency: 1, T: 1, MeanValue: 3}), 1))
	assert.False(t, math.IsInf(inf.ExpectedValue(clv.RFT{Frequency: 2, T: 1, MeanValue: 3}), 0))
}

func TestAdvValQuantilesEdges(t *testing.T) {
	ids := []affinity.CustomerID{9, 3, 7, 1, 5}
	nan := math.NaN()
	values := []float64{nan, math.Inf(-1), 2, 2, nan}
	qs := clv.Quantiles(ids, values, 5)
	require.Len(t, qs, 5)
	// ranking: NaN lowest (ties by id: 5, 9), then −Inf (3), then 2 (1, 7)
	want := [][]uint32{{5}, {9}, {3}, {1}, {7}}
	for k := range qs {
		assert.Equal(t, want[k], qs[k].ToArray(), "group %d", k)
	}
	// More groups than customers: groups hold [k·len/n, (k+1)·len/n).
	qs = clv.Quantiles(ids, values, 12)
	require.Len(t, qs, 12)
	all := roaring.New()
	total := uint64(0)
	for k, q := range qs {
		lo, hi := k*len(ids)/12, (k+1)*len(ids)/12
		assert.Equal(t, uint64(hi-lo), q.GetCardinality(), "group %d", k)
		total += q.GetCardinality()
		all.Or(q)
	}
	assert.Equal(t, uint64(len(ids)), total)
	assert.Equal(t, uint64(len(ids)), all.GetCardinality())
	// Empty input.
	qs = clv.Quantiles(nil, nil, 3)
	require.Len(t, qs, 3)
	for _, q := range qs {
		assert.True(t, q.IsEmpty())
	}
	// Returned bitmaps belong to the caller: modifying one leaves the next
	// call's result alone.
	a := clv.Quantiles(ids, values, 1)
	a[0].Add(1000)
	b := clv.Quantiles(ids, values, 1)
	assert.False(t, b[0].Contains(1000))
}

func TestAdvValWinBackEdges(t *testing.T) {
	ids := []affinity.CustomerID{4, 2, 8, 6}
	value := []float64{math.NaN(), 10, 10, 1}
	pAlive := []float64{0.1, 0.2, 0.9, 0.3}
	// Top 1: everyone counts as high value; below 0.5: 4, 2, 6.
	got := clv.WinBack(ids, value, pAlive, clv.WinBackOptions{Top: 1})
	assert.Equal(t, []uint32{2, 4, 6}, got.ToArray())
	// MaxPAlive 1: every customer with P(alive) < 1.
	got = clv.WinBack(ids, value, pAlive, clv.WinBackOptions{Top: 1, MaxPAlive: 1})
	assert.Equal(t, []uint32{2, 4, 6, 8}, got.ToArray())
	// Top half by value: ranks (ascending) NaN(4), 1(6), 10(2), 10(8) →
	// top two are 2 and 8; of these only 2 has P(alive) < 0.5.
	got = clv.WinBack(ids, value, pAlive, clv.WinBackOptions{Top: 0.5})
	assert.Equal(t, []uint32{2}, got.ToArray())
	assert.True(t, clv.WinBack(nil, nil, nil, clv.WinBackOptions{}).IsEmpty())

	for name, o := range map[string]clv.WinBackOptions{
		"top > 1":        {Top: 1.5},
		"top < 0":        {Top: -0.1},
		"top NaN":        {Top: math.NaN()},
		"max pAlive > 1": {MaxPAlive: 1.01},
		"max pAlive NaN": {MaxPAlive: math.NaN()},
		"max pAlive < 0": {MaxPAlive: -1},
	} {
		assert.Panics(t, func() { clv.WinBack(ids, value, pAlive, o) }, name)
	}
	assert.Panics(t, func() { clv.WinBack(ids, value[:3], pAlive, clv.WinBackOptions{}) })
	assert.Panics(t, func() { clv.WinBack(ids, value, pAlive[:3], clv.WinBackOptions{}) })
}

func TestAdvValSegmentsFromSummary(t *testing.T) {
	// Values computed per customer and for all agree: Quantiles of
	// Summary.Spend partition the Summary's customers, and sorting the
	// Summary first does not change the groups.
	ctx := context.Background()
	h, _, _ := advValWorld(t, 21, 80)
	asOf := advValT0.Add(300 * 24 * time.Hour)
	s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{})
	require.NoError(t, err)
	q1 := clv.Quantiles(s.Customers, s.Spend, 4)
	s.Sort()
	q2 := clv.Quantiles(s.Customers, s.Spend, 4)
	union := roaring.New()
	for k := range q1 {
		assert.True(t, q1[k].Equals(q2[k]), "group %d depends on row order", k)
		assert.Zero(t, union.AndCardinality(q1[k]), "groups overlap")
		union.Or(q1[k])
	}
	want := roaring.New()
	for _, c := range s.Customers {
		want.Add(uint32(c))
	}
	assert.True(t, want.Equals(union))
	// Every member of a higher group spent at least as much as every
	// member of a lower one.
	spend := map[uint32]float64{}
	for i, c := range s.Customers {
		spend[uint32(c)] = s.Spend[i]
	}
	for k := 1; k < len(q1); k++ {
		lo := math.Inf(-1)
		q1[k-1].Iterate(func(x uint32) bool { lo = math.Max(lo, spend[x]); return true })
		q1[k].Iterate(func(x uint32) bool {
			assert.GreaterOrEqual(t, spend[x], lo, "group %d", k)
			return true
		})
	}
}

func TestAdvValConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	h, _, _ := advValWorld(t, 33, 40)
	asOf := advValT0.Add(200 * 24 * time.Hour)
	ref, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: asOf.Add(30 * 24 * time.Hour)})
	require.NoError(t, err)
	refW, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	same := make([]bool, 4)
	for g := range 4 {
		wg.Go(func() {
			s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: asOf.Add(30 * 24 * time.Hour)})
			if err != nil {
				errs[g] = err
				return
			}
			ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{})
			if err != nil {
				errs[g] = err
				return
			}
			same[g] = slices.Equal(s.Rows, ref.Rows) && slices.Equal(s.Spend, ref.Spend) &&
				slices.Equal(s.Holdout, ref.Holdout) && slices.Equal(ws[0].Customers, refW[0].Customers) &&
				ws[1].Buyers.Equals(refW[1].Buyers)
		})
	}
	wg.Wait()
	for g := range 4 {
		assert.NoError(t, errs[g])
		assert.True(t, same[g], "goroutine %d differs", g)
	}
}

func TestAdvValRefreshedHistoryAgrees(t *testing.T) {
	// A History refreshed on a base (new order ids, unused old ids, a
	// deleted order, an erased customer) and one built anew from the same
	// surviving lines give the same summary, windows and retention, per
	// customer key.
	ctx := context.Background()
	_, lines, _ := advValWorld(t, 55, 50)
	var named []affinity.Purchase
	for _, p := range lines {
		if p.Customer != "" {
			named = append(named, p)
		}
	}
	half := len(named) / 2
	base := advValBuild(t, named[:half])
	delOrder := named[0].Order
	eraseKey := named[half-1].Customer
	require.NotEqual(t, eraseKey, named[0].Customer, "the world must erase someone else than the deleted order's customer")
	b := affinity.NewBuilder(base)
	for _, p := range named[half:] {
		require.NoError(t, b.Add(p))
	}
	require.NoError(t, b.DeleteOrder(delOrder, 1))
	b.EraseCustomer(eraseKey)
	refreshed, err := b.Build(ctx)
	require.NoError(t, err)
	var kept []affinity.Purchase
	for _, p := range named {
		if p.Order == delOrder || p.Customer == eraseKey {
			continue
		}
		kept = append(kept, p)
	}
	anew := advValBuild(t, kept)

	asOf := advValT0.Add(220 * 24 * time.Hour)
	hEnd := asOf.Add(80 * 24 * time.Hour)
	type sumRow struct {
		row   clv.RFT
		spend float64
		hold  int
	}
	summarize := func(h *affinity.History) map[string]sumRow {
		s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: hEnd})
		require.NoError(t, err)
		out := map[string]sumRow{}
		for i, c := range s.Customers {
			out[h.CustomerKey(c)] = sumRow{s.Rows[i], s.Spend[i], s.Holdout[i]}
		}
		return out
	}
	assert.Equal(t, summarize(anew), summarize(refreshed))

	windows := func(h *affinity.History) (map[string]clv.CustomerValue, []int, []affinity.Money, []int) {
		ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: []int{2, 6}})
		require.NoError(t, err)
		out := map[string]clv.CustomerValue{}
		var orders, buyers []int
		var spend []affinity.Money
		for k, w := range ws {
			for c, v := range w.Customers {
				if key := h.CustomerKey(affinity.CustomerID(c)); key != "" && v != (clv.CustomerValue{}) {
					out[string(rune('0'+k))+key] = v
				}
			}
			orders = append(orders, w.Orders)
			spend = append(spend, w.Spend)
			buyers = append(buyers, int(w.Buyers.GetCardinality()))
		}
		return out, orders, spend, buyers
	}
	v1, o1, s1, b1 := windows(anew)
	v2, o2, s2, b2 := windows(refreshed)
	assert.Equal(t, v1, v2)
	assert.Equal(t, o1, o2)
	assert.Equal(t, s1, s2)
	assert.Equal(t, b1, b2)

	keys := func(h *affinity.History, bm *roaring.Bitmap) []string {
		var out []string
		bm.Iterate(func(x uint32) bool { out = append(out, h.CustomerKey(affinity.CustomerID(x))); return true })
		slices.Sort(out)
		return out
	}
	p1, err := clv.Retention(ctx, anew, asOf.AddDate(0, -3, 0), asOf, clv.RetentionOptions{ActiveMonths: 2})
	require.NoError(t, err)
	p2, err := clv.Retention(ctx, refreshed, asOf.AddDate(0, -3, 0), asOf, clv.RetentionOptions{ActiveMonths: 2})
	require.NoError(t, err)
	assert.Equal(t, keys(anew, p1.AtStart), keys(refreshed, p2.AtStart))
	assert.Equal(t, keys(anew, p1.AtEnd), keys(refreshed, p2.AtEnd))
	assert.Equal(t, keys(anew, p1.New), keys(refreshed, p2.New))
	c1, err := clv.CohortRetention(ctx, anew, asOf)
	require.NoError(t, err)
	c2, err := clv.CohortRetention(ctx, refreshed, asOf)
	require.NoError(t, err)
	assert.Equal(t, c1, c2)
}

func TestAdvValHistoricalEmptyWindow(t *testing.T) {
	ctx := context.Background()
	h := advValBuild(t, []affinity.Purchase{
		advValLine("a", "1", advValDay(10), 1, 10),
		advValLine("b", "1", advValDay(5), -3, 7),
	})
	ws, err := clv.Historical(ctx, h, advValDay(1), clv.HistoricalOptions{Months: []int{1}})
	require.NoError(t, err)
	w := ws[0]
	assert.Zero(t, w.Orders)
	assert.Zero(t, w.Spend)
	assert.True(t, w.Buyers.IsEmpty())
	assert.True(t, w.RepeatBuyers.IsEmpty())
	assert.Zero(t, w.AOV())
	assert.Zero(t, w.SpendPerBuyer())
	assert.Zero(t, w.PurchaseFrequency())
	assert.Zero(t, w.RepeatRate())
	// Returns only: spend without buyers.
	ws, err = clv.Historical(ctx, h, advValDay(6), clv.HistoricalOptions{Months: []int{1}})
	require.NoError(t, err)
	w = ws[0]
	assert.Equal(t, affinity.Money(-21), w.Spend)
	assert.Zero(t, w.Orders)
	assert.Zero(t, w.AOV())
	assert.Zero(t, w.SpendPerBuyer())
	// Negative AOV rounds half away from zero.
	assert.Equal(t, affinity.Money(-3), clv.CustomerValue{Orders: 2, Spend: -5}.AOV())
	assert.Equal(t, affinity.Money(3), clv.CustomerValue{Orders: 2, Spend: 5}.AOV())
	assert.Equal(t, affinity.Money(0), clv.CustomerValue{Spend: 5}.AOV())
}

func TestAdvValOrderStraddlesAsOf(t *testing.T) {
	// An order whose lines carry different times has the time of its
	// earliest line: lines dated after asOf belong to it all the same.
	// Sub-second as-of times: an order at second S is after S−1ns.
	ctx := context.Background()
	m := affinity.Money(affinity.MoneyScale)
	asOf := advValDay(20)
	var b affinity.Builder
	for _, p := range []affinity.Purchase{
		advValLine("a", "1", advValDay(1), 1, 2*m),
		advValLine("a", "2", advValDay(19), 1, 3*m),
		advValLine("a", "2", advValDay(25), 1, 4*m), // joins order 2 (day 19)
		advValLine("a", "3", advValDay(30), 1, 5*m),
		advValLine("s", "1", advValDay(2), 1, m),
		advValLine("s", "2", asOf, 1, m), // at S; asOf−1ns is before it
	} {
		require.NoError(t, b.Add(p))
	}
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "v", Product: "p1", Time: advValDay(3), Kind: affinity.View, Weight: 1}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	a, _ := h.LookupCustomer("a")
	sc, _ := h.LookupCustomer("s")
	v, ok := h.LookupCustomer("v")
	require.True(t, ok)

	sum, err := clv.Summarize(ctx, h, asOf.Add(-time.Nanosecond), clv.SummaryOptions{HoldoutEnd: advValDay(29)})
	require.NoError(t, err)
	assert.NotContains(t, sum.Customers, v, "events only: no row")
	ia := slices.Index(sum.Customers, a)
	is := slices.Index(sum.Customers, sc)
	require.GreaterOrEqual(t, ia, 0)
	require.GreaterOrEqual(t, is, 0)
	assert.Equal(t, 1.0, sum.Rows[ia].Frequency)
	assert.InDelta(t, 7, sum.Rows[ia].MeanValue, 1e-12, "order 2 is worth 3+4")
	assert.InDelta(t, 9, sum.Spend[ia], 1e-12)
	assert.Equal(t, 0, sum.Holdout[ia], "order 3 is after HoldoutEnd")
	assert.Equal(t, 0.0, sum.Rows[is].Frequency, "order at S is after S−1ns")
	assert.Equal(t, 1, sum.Holdout[is])
	assert.InDelta(t, 1, sum.Spend[is], 1e-12)

	ws, err := clv.Historical(ctx, h, asOf.Add(-time.Nanosecond), clv.HistoricalOptions{Months: []int{1}})
	require.NoError(t, err)
	w := ws[0]
	assert.Equal(t, clv.CustomerValue{Orders: 2, Spend: 9 * m}, w.Customers[a])
	assert.Equal(t, clv.CustomerValue{Orders: 1, Spend: m}, w.Customers[sc])
	assert.Zero(t, w.Customers[v])
	assert.False(t, w.Buyers.Contains(uint32(v)))
}

func TestAdvValSegmentTies(t *testing.T) {
	// −0 and +0 are equal values: ties broken by id.
	qs := clv.Quantiles([]affinity.CustomerID{2, 1}, []float64{math.Copysign(0, -1), 0}, 2)
	assert.Equal(t, []uint32{1}, qs[0].ToArray())
	assert.Equal(t, []uint32{2}, qs[1].ToArray())
	qs = clv.Quantiles([]affinity.CustomerID{1, 2}, []float64{0, math.Copysign(0, -1)}, 2)
	assert.Equal(t, []uint32{1}, qs[0].ToArray())
	// A NaN P(alive) is not below any threshold.
	got := clv.WinBack([]affinity.CustomerID{1, 2}, []float64{5, 6}, []float64{math.NaN(), 0.1}, clv.WinBackOptions{Top: 1})
	assert.Equal(t, []uint32{2}, got.ToArray())
}

func TestAdvValScoreRejectsBadMeanValue(t *testing.T) {
	ctx := context.Background()
	bg := clv.BGNBD{R: 0.5, Alpha: 6, A: 0.9, B: 2.5}
	gg := clv.GammaGamma{P: 6, Q: 4, Gamma: 15}
	for _, mv := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		rows := []clv.RFT{{Frequency: 1, Recency: 1, T: 2, MeanValue: 3}, {Frequency: 2, Recency: 1, T: 2, MeanValue: mv}}
		sc, err := clv.Score(ctx, rows, &bg, &gg, clv.ScoreOptions{})
		if err != nil {
			assert.ErrorIs(t, err, clv.ErrInvalid, "MeanValue %v", mv)
			continue
		}
		assert.Fail(t, "bad row accepted", "MeanValue %v gave ExpectedValue %v, CLV %v", mv, sc.ExpectedValue[1], sc.CLV[1])
	}
}
