package clv_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// advOrder is one order of the adversarial retention fixtures, as the
// naive model sees it: its customer's key, its time and whether it holds
// a bought line (positive quantity).
type advOrder struct {
	t      time.Time
	bought bool
}

// advInstants are order times chosen to sit on the edges the retention
// windows are made of: month starts (and one second either side), leap
// days, month ends whose "one month earlier" does not exist.
func advInstants() []time.Time {
	var out []time.Time
	for y := 2019; y <= 2025; y++ {
		for m := time.January; m <= time.December; m++ {
			ms := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			out = append(out, ms, ms.Add(-time.Second), ms.Add(time.Second))
		}
	}
	for _, s := range []string{
		"2020-02-29T00:00:00Z", "2020-02-29T23:59:59Z", "2024-02-29T12:00:00Z",
		"2020-03-29T00:00:00Z", "2020-03-30T00:00:00Z", "2020-03-31T00:00:00Z",
		"2021-03-29T00:00:00Z", "2021-03-31T00:00:00Z", "2024-03-31T00:00:00Z",
		"2024-03-30T10:00:00Z", "2021-02-28T00:00:00Z", "2023-02-28T23:59:59Z",
		"2024-01-31T00:00:00Z", "2020-12-31T23:59:59Z", "2025-05-31T00:00:00Z",
	} {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		out = append(out, ts)
	}
	return out
}

// advRetentionHistory builds a random History whose order times are mostly
// edge instants, with returns, returns-only orders, anonymous orders and
// customers with events only, and the same orders per customer key.
func advRetentionHistory(t *testing.T, seed uint64) (*affinity.History, map[string][]advOrder, []time.Time) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xadd))
	inst := advInstants()
	pick := func() time.Time {
		if rng.IntN(3) == 0 {
			lo := inst[0].Unix()
			return time.Unix(lo+rng.Int64N(inst[len(inst)-1].Unix()-lo), 0).UTC()
		}
		return inst[rng.IntN(len(inst))]
	}
	// records are staged, then built from scratch or on one or two base
	// Histories (NewBuilder), which renumber changed customers' orders
	var adds []func(b *affinity.Builder) error
	orders := map[string][]advOrder{}
	nc := 8 + rng.IntN(40)
	for c := range nc {
		cust := fmt.Sprint("c", c)
		no := rng.IntN(7)
		for o := range no {
			ot := pick()
			key := fmt.Sprint(cust, "-o", o)
			nl := 1 + rng.IntN(3)
			returnsOnly := rng.IntN(4) == 0
			bought := false
			for range nl {
				q := int32(1 + rng.IntN(3))
				if returnsOnly || rng.IntN(5) == 0 {
					q = -q
				}
				bought = bought || q > 0
				pur := affinity.Purchase{Customer: cust, Product: fmt.Sprint("p", rng.IntN(9)), Order: key, Time: ot, Quantity: q, Price: affinity.MoneyScale}
				adds = append(adds, func(b *affinity.Builder) error { return b.Add(pur) })
			}
			orders[cust] = append(orders[cust], advOrder{t: ot, bought: bought})
		}
		if no == 0 || rng.IntN(4) == 0 {
			ev := affinity.Event{Customer: cust, Product: "p0", Time: pick(), Kind: affinity.View, Weight: 1}
			adds = append(adds, func(b *affinity.Builder) error { return b.AddEvent(ev) })
		}
	}
	for a := range rng.IntN(4) {
		pur := affinity.Purchase{Product: "p1", Order: fmt.Sprint("anon", a), Time: pick(), Quantity: 1, Price: affinity.MoneyScale}
		adds = append(adds, func(b *affinity.Builder) error { return b.Add(pur) })
	}
	rng.Shuffle(len(adds), func(i, j int) { adds[i], adds[j] = adds[j], adds[i] })
	var h *affinity.History
	for _, part := range advStages(rng, len(adds)) {
		b := affinity.NewBuilder(h)
		for _, add := range adds[part[0]:part[1]] {
			require.NoError(t, add(b))
		}
		var err error
		h, err = b.Build(context.Background())
		require.NoError(t, err)
	}
	return h, orders, inst
}

// advStages cuts n staged records into one to three consecutive builds.
func advStages(rng *rand.Rand, n int) [][2]int {
	cuts := []int{0}
	for range rng.IntN(3) {
		cuts = append(cuts, rng.IntN(n+1))
	}
	cuts = append(cuts, n)
	slices.Sort(cuts)
	var out [][2]int
	for i := 1; i < len(cuts); i++ {
		out = append(out, [2]int{cuts[i-1], cuts[i]})
	}
	return out
}

// advKeys returns the sorted customer keys of the ids in bm.
func advKeys(h *affinity.History, bm *roaring.Bitmap) []string {
	var out []string
	it := bm.Iterator()
	for it.HasNext() {
		out = append(out, h.CustomerKey(affinity.CustomerID(it.Next())))
	}
	slices.Sort(out)
	return out
}

// advNaivePeriod computes the customer sets of (start, end] from the doc:
// a customer at τ bought in (τ − m calendar months (UTC, the day clamped
// to the month's last: testdata.MonthsBefore), τ]; any time up
// to τ when m < 0; m = 0 means 12. New: first bought order in (start, end].
func advNaivePeriod(orders map[string][]advOrder, start, end time.Time, months int) (atStart, atEnd, acquired []string) {
	if months == 0 {
		months = 12
	}
	active := func(os []advOrder, tau time.Time) bool {
		for _, o := range os {
			if !o.bought || o.t.After(tau) {
				continue
			}
			if months < 0 || o.t.After(testdata.MonthsBefore(tau, months)) {
				return true
			}
		}
		return false
	}
	for cust, os := range orders {
		var first time.Time
		for _, o := range os {
			if o.bought && (first.IsZero() || o.t.Before(first)) {
				first = o.t
			}
		}
		if first.IsZero() {
			continue
		}
		if first.After(start) && !first.After(end) {
			acquired = append(acquired, cust)
		}
		if active(os, start) {
			atStart = append(atStart, cust)
		}
		if active(os, end) {
			atEnd = append(atEnd, cust)
		}
	}
	slices.Sort(atStart)
	slices.Sort(atEnd)
	slices.Sort(acquired)
	return atStart, atEnd, acquired
}

func TestAdversarialRetentionMatchesNaive(t *testing.T) {
	ctx := context.Background()
	zones := []*time.Location{time.UTC, time.FixedZone("east", 14*3600), time.FixedZone("west", -11*3600)}
	var nStart, nEnd, nNew, nAbove1 int // the fixtures must reach every case
	for seed := range uint64(testdata.Scale(60, 12)) {
		h, orders, inst := advRetentionHistory(t, seed)
		rng := rand.New(rand.NewPCG(seed, 7))
		for trial := range 12 {
			start := inst[rng.IntN(len(inst))]
			end := inst[rng.IntN(len(inst))]
			if !start.Before(end) {
				start, end = end, start
			}
			if !start.Before(end) {
				continue
			}
			if rng.IntN(4) == 0 { // a sub-second offset: the period is exact instants
				start = start.Add(time.Duration(1 + rng.IntN(999_999_999)))
			}
			if rng.IntN(3) == 0 {
				z := zones[rng.IntN(len(zones))]
				start, end = start.In(z), end.In(z)
			}
			months := []int{-5, -1, 0, 1, 2, 3, 12, 13, 25}[rng.IntN(9)]
			name := fmt.Sprintf("seed%d/trial%d/%v..%v/months%d", seed, trial, start, end, months)
			p, err := clv.Retention(ctx, h, start, end, clv.RetentionOptions{ActiveMonths: months})
			require.NoError(t, err, name)
			wantStart, wantEnd, wantNew := advNaivePeriod(orders, start, end, months)
			assert.Equal(t, wantStart, advKeys(h, p.AtStart), "%s: AtStart", name)
			assert.Equal(t, wantEnd, advKeys(h, p.AtEnd), "%s: AtEnd", name)
			assert.Equal(t, wantNew, advKeys(h, p.New), "%s: New", name)
			// the rate from the doc's formula on the naive sets
			var want float64
			if len(wantStart) > 0 {
				retained := 0
				for _, c := range wantEnd {
					if !slices.Contains(wantNew, c) {
						retained++
					}
				}
				want = float64(retained) / float64(len(wantStart))
			}
			assert.Equal(t, want, p.Rate(), "%s: Rate", name)
			nStart, nEnd, nNew = nStart+len(wantStart), nEnd+len(wantEnd), nNew+len(wantNew)
			if want > 1 {
				nAbove1++
			}
			assert.True(t, p.Start.Equal(start) && p.End.Equal(end), "%s: Start/End echo", name)
		}
	}
	assert.Positive(t, nStart)
	assert.Positive(t, nEnd)
	assert.Positive(t, nNew)
	t.Logf("customers at start %d, at end %d, new %d; periods with a rate above 1: %d", nStart, nEnd, nNew, nAbove1)
}

func TestAdversarialRetentionEdges(t *testing.T) {
	ctx := context.Background()
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	var b affinity.Builder
	add := func(cust, order, when string, q int32) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p", Order: order, Time: at(when), Quantity: q, Price: affinity.MoneyScale}))
	}
	// "edge": first purchase exactly at the start: not new, at start.
	add("edge", "e1", "2024-02-29T00:00:00Z", 1)
	// "after": first purchase one second after the start: new.
	add("after", "a1", "2024-02-29T00:00:01Z", 1)
	// "ret": a returns-only order inside the period is not a purchase.
	add("ret", "r1", "2023-06-01T00:00:00Z", 1)
	add("ret", "r2", "2024-03-15T00:00:00Z", -1)
	// "leap": bought on 2024-01-29, inside the month before 2024-02-29.
	add("leap", "l1", "2024-01-29T00:00:00Z", 1)
	add("leap", "l2", "2024-03-29T00:00:00Z", 1)
	h, err := b.Build(ctx)
	require.NoError(t, err)
	id := func(k string) uint32 {
		c, ok := h.LookupCustomer(k)
		require.True(t, ok, k)
		return uint32(c)
	}
	p, err := clv.Retention(ctx, h, at("2024-02-29T00:00:00Z"), at("2024-03-29T00:00:00Z"), clv.RetentionOptions{ActiveMonths: 1})
	require.NoError(t, err)
	assert.True(t, p.AtStart.Contains(id("edge")), "first purchase at Start is a customer at Start")
	assert.False(t, p.New.Contains(id("edge")), "first purchase at Start is not new")
	assert.True(t, p.New.Contains(id("after")))
	assert.False(t, p.AtStart.Contains(id("leap")), "the window (2024-01-29, 2024-02-29] is open at its start")
	assert.False(t, p.AtEnd.Contains(id("ret")), "returns-only order does not make a customer")
	assert.True(t, p.AtEnd.Contains(id("leap")))

	_, err = clv.Retention(ctx, h, at("2024-03-01T00:00:00Z"), at("2024-03-01T00:00:00Z"), clv.RetentionOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid, "empty period")
}

// advNaiveCohorts computes the cohort matrix from the doc.
func advNaiveCohorts(orders map[string][]advOrder, asOf time.Time) (months []time.Time, size []int, active [][]int) {
	mi := func(t time.Time) int { u := t.UTC(); return u.Year()*12 + int(u.Month()) - 1 }
	first := map[string]time.Time{}
	var m0 int
	found := false
	for cust, os := range orders {
		for _, o := range os {
			if o.bought && !o.t.After(asOf) && (first[cust].IsZero() || o.t.Before(first[cust])) {
				first[cust] = o.t
			}
		}
		if f, ok := first[cust]; ok && (!found || mi(f) < m0) {
			m0, found = mi(f), true
		}
	}
	if !found {
		return nil, nil, nil
	}
	n := mi(asOf) - m0 + 1
	size = make([]int, n)
	active = make([][]int, n)
	for i := range n {
		months = append(months, time.Date((m0+i)/12, time.Month((m0+i)%12+1), 1, 0, 0, 0, 0, time.UTC))
		active[i] = make([]int, n-i)
	}
	for cust, f := range first {
		ci := mi(f) - m0
		size[ci]++
		seen := map[int]bool{}
		for _, o := range orders[cust] {
			if o.bought && !o.t.After(asOf) {
				seen[mi(o.t)-m0-ci] = true
			}
		}
		for k := range seen {
			active[ci][k]++
		}
	}
	return months, size, active
}

func TestAdversarialCohortRetentionMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(60, 12)) {
		h, orders, inst := advRetentionHistory(t, seed)
		rng := rand.New(rand.NewPCG(seed, 11))
		for trial := range 6 {
			asOf := inst[rng.IntN(len(inst))]
			if trial%3 == 1 {
				asOf = asOf.Add(time.Duration(1 + rng.IntN(999_999_999)))
			}
			if trial%3 == 2 {
				asOf = asOf.In(time.FixedZone("west", -11*3600))
			}
			name := fmt.Sprintf("seed%d/asOf %v", seed, asOf)
			c, err := clv.CohortRetention(ctx, h, asOf)
			require.NoError(t, err, name)
			months, size, active := advNaiveCohorts(orders, asOf)
			require.Len(t, c.Months, len(months), name)
			for i := range months {
				assert.True(t, months[i].Equal(c.Months[i]), "%s: month %d: %v, want %v", name, i, c.Months[i], months[i])
			}
			assert.Equal(t, size, c.Size, "%s: Size", name)
			assert.Equal(t, active, c.Active, "%s: Active", name)
			for i := range size {
				if len(c.Active) > i && len(c.Active[i]) > 0 {
					assert.Equal(t, c.Size[i], c.Active[i][0], "%s: Active[%d][0] == Size", name, i)
					if size[i] == 0 {
						assert.Zero(t, c.Rate(i, 0), name)
					}
				}
			}
		}
	}
}

func TestAdversarialCohortRetentionEdges(t *testing.T) {
	ctx := context.Background()
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	var b affinity.Builder
	add := func(cust, order, when string, q int32) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p", Order: order, Time: at(when), Quantity: q, Price: affinity.MoneyScale}))
	}
	add("jan", "j1", "2024-01-31T23:59:59Z", 1)  // January cohort, last second
	add("jan", "j2", "2024-02-29T23:59:59Z", 1)  // leap day: month 1
	add("jan", "j3", "2024-03-01T00:00:00Z", -1) // a return is not a purchase
	add("feb", "f0", "2024-01-15T00:00:00Z", -1) // returns before the first purchase
	add("feb", "f1", "2024-02-01T00:00:00Z", 1)  // February cohort, first second
	add("feb", "f2", "2024-02-01T00:00:00Z", 1)  // two orders in one month count once
	add("feb", "f3", "2024-03-31T23:59:59Z", 1)
	add("ret", "r1", "2024-02-10T00:00:00Z", -1) // never bought: no cohort
	h, err := b.Build(ctx)
	require.NoError(t, err)

	c, err := clv.CohortRetention(ctx, h, at("2024-03-31T23:59:59Z"))
	require.NoError(t, err)
	require.Len(t, c.Months, 3)
	assert.True(t, c.Months[0].Equal(at("2024-01-01T00:00:00Z")))
	assert.Equal(t, []int{1, 1, 0}, c.Size)
	assert.Equal(t, [][]int{{1, 1, 0}, {1, 1}, {0}}, c.Active)
	assert.Zero(t, c.Rate(2, 0), "empty cohort")
	assert.Equal(t, 1.0, c.Rate(0, 1))

	// asOf one second earlier: the March order is after asOf
	c, err = clv.CohortRetention(ctx, h, at("2024-03-31T23:59:58Z"))
	require.NoError(t, err)
	assert.Equal(t, [][]int{{1, 1, 0}, {1, 0}, {0}}, c.Active)

	// asOf before every purchase: an empty matrix
	c, err = clv.CohortRetention(ctx, h, at("2024-01-31T23:59:58Z"))
	require.NoError(t, err)
	assert.Empty(t, c.Months)
	assert.Empty(t, c.Size)

	_, err = clv.CohortRetention(ctx, h, time.Time{})
	require.ErrorIs(t, err, clv.ErrInvalid, "zero asOf")
}
