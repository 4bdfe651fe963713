package clv_test

// Adversarial tests of the read-side tables of clv — Quantiles, WinBack,
// Historical and BGNBD.Holdout — against loops over the data as the
// package documentation describes them.

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tblRank orders positions by value, NaN strictly lowest (below −Inf),
// −0 equal to +0, ties by customer id, as the Quantiles doc describes.
func tblRank(ids []affinity.CustomerID, values []float64) []int {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		ni, nj := math.IsNaN(values[i]), math.IsNaN(values[j])
		switch {
		case ni && !nj:
			return -1
		case nj && !ni:
			return 1
		case !ni && values[i] != values[j]:
			return cmp.Compare(values[i], values[j])
		}
		return cmp.Compare(ids[i], ids[j])
	})
	return order
}

// tblValues draws values with many ties, ±0, ±Inf and NaN.
func tblValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch rng.IntN(10) {
		case 0:
			v[i] = math.NaN()
		case 1:
			v[i] = math.Inf(1 - 2*rng.IntN(2))
		case 2:
			v[i] = math.Copysign(0, -1)
		case 3:
			v[i] = 0
		case 4:
			v[i] = math.MaxFloat64 * float64(1-2*rng.IntN(2))
		default:
			v[i] = float64(rng.IntN(4)) - 1.5
		}
	}
	return v
}

// tblIDs returns n distinct ids in random order, some near the top of the
// uint32 range.
func tblIDs(rng *rand.Rand, n int) []affinity.CustomerID {
	seen := map[affinity.CustomerID]bool{}
	ids := make([]affinity.CustomerID, 0, n)
	for len(ids) < n {
		c := affinity.CustomerID(rng.IntN(4 * (n + 1)))
		if rng.IntN(6) == 0 {
			c = affinity.CustomerID(math.MaxUint32 - rng.IntN(3))
		}
		if !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	return ids
}

// TestTblQuantilesNaive: group k holds the customers ranked in
// [k·len/n, (k+1)·len/n), for n below, at and above len, with NaN below
// −Inf, −0 tied with +0 (by id), and the inputs left unchanged.
func TestTblQuantilesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 0x9a))
	for iter := range 300 {
		l := rng.IntN(25)
		ids, vals := tblIDs(rng, l), tblValues(rng, l)
		n := 1 + rng.IntN(l+4)
		idsCopy, valsCopy := slices.Clone(ids), slices.Clone(vals)
		qs := clv.Quantiles(ids, vals, n)
		require.Len(t, qs, n)
		order := tblRank(ids, vals)
		for k := range n {
			want := []uint32{}
			for _, i := range order[k*l/n : (k+1)*l/n] {
				want = append(want, uint32(ids[i]))
			}
			slices.Sort(want)
			require.NotNil(t, qs[k])
			assert.Equal(t, want, qs[k].ToArray(), "iter %d len %d n %d group %d: vals %v ids %v", iter, l, n, k, vals, ids)
		}
		assert.Equal(t, idsCopy, ids, "ids unchanged")
		for i := range vals {
			assert.True(t, math.Float64bits(valsCopy[i]) == math.Float64bits(vals[i]), "values unchanged")
		}
	}
}

// TestTblQuantilesPanics: the documented panics, with NaN and negative n.
func TestTblQuantilesPanics(t *testing.T) {
	ids := []affinity.CustomerID{1, 2}
	assert.Panics(t, func() { clv.Quantiles(ids, []float64{1}, 1) })
	assert.Panics(t, func() { clv.Quantiles(ids, []float64{1, 2}, -1) })
	assert.Panics(t, func() { clv.Quantiles(nil, nil, 0) })
	qs := clv.Quantiles(nil, nil, 2)
	require.Len(t, qs, 2)
	for _, q := range qs {
		require.NotNil(t, q)
		assert.True(t, q.IsEmpty())
	}
}

// TestTblWinBackNaive: the top round(Top·len) by value (ranked as in
// Quantiles) whose P(alive) is below MaxPAlive; a NaN P(alive) is not
// below anything; ±0 and ±Inf values.
func TestTblWinBackNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 0x9b))
	for iter := range 300 {
		l := rng.IntN(25)
		ids, vals := tblIDs(rng, l), tblValues(rng, l)
		pa := make([]float64, l)
		for i := range pa {
			pa[i] = []float64{0, 0.1, 0.5, 0.5 - 1e-16, 1, math.NaN(), math.Nextafter(0.5, 1)}[rng.IntN(7)]
		}
		opts := clv.WinBackOptions{Top: []float64{0, 1, 0.5, 0.3, 0.05, math.Nextafter(0, 1)}[rng.IntN(6)], MaxPAlive: []float64{0, 1, 0.5, 0.1, math.Nextafter(0, 1)}[rng.IntN(5)]}
		top, maxP := cmp.Or(opts.Top, 0.2), cmp.Or(opts.MaxPAlive, 0.5)
		order := tblRank(ids, vals)
		k := int(math.Round(top * float64(l)))
		want := []uint32{}
		for _, i := range order[l-k:] {
			if pa[i] < maxP {
				want = append(want, uint32(ids[i]))
			}
		}
		slices.Sort(want)
		got := clv.WinBack(ids, vals, pa, opts)
		require.NotNil(t, got)
		assert.Equal(t, want, got.ToArray(), "iter %d opts %+v vals %v pa %v", iter, opts, vals, pa)
	}
	ids, v := []affinity.CustomerID{1}, []float64{1}
	for _, o := range []clv.WinBackOptions{{Top: -0.1}, {Top: 1.01}, {Top: math.NaN()}, {Top: math.Inf(1)},
		{MaxPAlive: -1}, {MaxPAlive: 1.5}, {MaxPAlive: math.NaN()}} {
		assert.Panics(t, func() { clv.WinBack(ids, v, v, o) }, "%+v", o)
	}
	assert.Panics(t, func() { clv.WinBack(ids, v, nil, clv.WinBackOptions{}) })
}

// tblOrder is one order as the naive model sees it.
type tblOrder struct {
	cust   string
	at     time.Time
	value  affinity.Money
	bought bool
}

// tblHistory builds a History of orders on and around window edges, with
// one-purchase customers, returns-only orders, anonymous orders, events-only
// customers and (when erase) erased ones in a second build.
func tblHistory(t *testing.T, seed uint64, asOf time.Time, erase bool) (*affinity.History, []tblOrder, map[string]bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x9c))
	edges := []time.Time{asOf, testdata.MonthsBefore(asOf, 1), testdata.MonthsBefore(asOf, 12), testdata.MonthsBefore(asOf, 24),
		asOf.AddDate(0, -1, 0), asOf.UTC().AddDate(0, -1, 0)} // and where the local calendar or AddDate's roll-over would start
	pick := func() time.Time {
		if rng.IntN(2) == 0 {
			return edges[rng.IntN(len(edges))].Add(time.Duration(rng.IntN(3)-1) * time.Second)
		}
		return asOf.Add(-time.Duration(rng.Int64N(int64(30 * 30 * 24 * time.Hour)))).Add(40 * 24 * time.Hour)
	}
	var b affinity.Builder
	var orders []tblOrder
	for o := range 60 {
		cust := fmt.Sprint("c", rng.IntN(15))
		if rng.IntN(12) == 0 {
			cust = ""
		}
		at := pick().Truncate(time.Second)
		od := tblOrder{cust: cust, at: at}
		retOnly := rng.IntN(5) == 0
		for l := range 1 + rng.IntN(2) {
			q := int32(1 + rng.IntN(2))
			if retOnly || rng.IntN(5) == 0 {
				q = -q
			}
			p := affinity.Purchase{Customer: cust, Product: fmt.Sprint("p", l), Order: fmt.Sprint("o", o), Time: at, Quantity: q, Price: affinity.Money(rng.IntN(5) * 1_2345)}
			require.NoError(t, b.Add(p))
			od.value += p.Value()
			od.bought = od.bought || q > 0
		}
		orders = append(orders, od)
	}
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "viewer", Product: "p0", Time: asOf.AddDate(0, -2, 0), Kind: affinity.View, Weight: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	erased := map[string]bool{}
	if erase {
		b2 := affinity.NewBuilder(h)
		for c := range 15 {
			if rng.IntN(4) == 0 {
				k := fmt.Sprint("c", c)
				b2.EraseCustomer(k)
				erased[k] = true
			}
		}
		h, err = b2.Build(context.Background())
		require.NoError(t, err)
	}
	return h, orders, erased
}

// TestTblHistoricalNaive: per-customer orders and spend in (asOf − months,
// asOf] against a loop over the orders, for as-of times at month ends, in
// a time zone other than UTC, after erasures, with duplicate window
// lengths and windows before every order; the shop's ratios against their
// definitions.
func TestTblHistoricalNaive(t *testing.T) {
	zone := time.FixedZone("UTC+10", 10*3600)
	for seed := range uint64(8) {
		asOf := []time.Time{
			time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 1, 5, 0, 0, 0, zone), // 29 Feb 19:00 UTC
			time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC),
			time.Date(2024, 5, 31, 3, 0, 0, 0, zone),
		}[seed%4]
		h, orders, erased := tblHistory(t, seed, asOf, seed%2 == 1)
		months := []int{1, 1, 12, 24, 600}
		ws, err := clv.Historical(context.Background(), h, asOf, clv.HistoricalOptions{Months: months})
		require.NoError(t, err)
		require.Len(t, ws, len(months))
		for k, m := range months {
			w := ws[k]
			msg := fmt.Sprintf("seed %d, %d months as of %v", seed, m, asOf)
			assert.Equal(t, m, w.Months, msg)
			assert.True(t, w.End.Equal(asOf), msg)
			// the Window doc: Start = affinity.Months(m).Start(End), UTC calendar
			start := testdata.MonthsBefore(asOf, m)
			assert.True(t, start.Equal(w.Start), "%s: Start %v, want %v (UTC calendar)", msg, w.Start, start)
			require.Len(t, w.Customers, h.NumCustomers(), msg)
			per := map[string]*clv.CustomerValue{}
			for _, o := range orders {
				if o.cust == "" || erased[o.cust] || !o.at.After(start) || o.at.After(asOf) {
					continue
				}
				cv := per[o.cust]
				if cv == nil {
					cv = &clv.CustomerValue{}
					per[o.cust] = cv
				}
				cv.Spend += o.value
				if o.bought {
					cv.Orders++
				}
			}
			var orders, buyers, repeat int
			var spend affinity.Money
			for c := range h.NumCustomers() {
				id := affinity.CustomerID(c)
				var want clv.CustomerValue
				if key := h.CustomerKey(id); key != "" && per[key] != nil {
					want = *per[key]
				}
				assert.Equal(t, want, w.Customers[c], "%s: customer %q", msg, h.CustomerKey(id))
				assert.Equal(t, want.Orders >= 1, w.Buyers.Contains(uint32(c)), msg)
				assert.Equal(t, want.Orders >= 2, w.RepeatBuyers.Contains(uint32(c)), msg)
				assert.InDelta(t, float64(want.Orders)/float64(m), w.Frequency(id), 1e-12, msg)
				orders += want.Orders
				spend += want.Spend
				if want.Orders > 0 {
					buyers++
				}
				if want.Orders > 1 {
					repeat++
				}
			}
			assert.Equal(t, orders, w.Orders, msg)
			assert.Equal(t, spend, w.Spend, msg)
			if buyers == 0 {
				assert.Zero(t, w.PurchaseFrequency(), msg)
				assert.Zero(t, w.RepeatRate(), msg)
				assert.Zero(t, w.SpendPerBuyer(), msg)
			} else {
				assert.InDelta(t, float64(orders)/float64(buyers), w.PurchaseFrequency(), 1e-12, msg)
				assert.InDelta(t, float64(repeat)/float64(buyers), w.RepeatRate(), 1e-12, msg)
				assert.LessOrEqual(t, math.Abs(float64(w.SpendPerBuyer())-float64(spend)/float64(buyers)), 0.5, msg)
			}
			if orders == 0 {
				assert.Zero(t, w.AOV(), msg)
			} else {
				assert.LessOrEqual(t, math.Abs(float64(w.AOV())-float64(spend)/float64(orders)), 0.5, msg)
			}
		}
		// a window ending before every order is empty, not an error
		early, err := clv.Historical(context.Background(), h, asOf.AddDate(-10, 0, 0), clv.HistoricalOptions{Months: []int{1}})
		require.NoError(t, err)
		assert.Zero(t, early[0].Orders)
		assert.True(t, early[0].Buyers.IsEmpty())
		assert.Zero(t, early[0].AOV())
		assert.Zero(t, early[0].RepeatRate())
	}
	h, _, _ := tblHistory(t, 1, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), false)
	for _, m := range [][]int{{-1}, {12, 0}} {
		_, err := clv.Historical(context.Background(), h, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), clv.HistoricalOptions{Months: m})
		require.ErrorIs(t, err, clv.ErrInvalid, "%v", m)
	}
	ws, err := clv.Historical(context.Background(), h, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), clv.HistoricalOptions{Months: []int{}})
	if err == nil {
		assert.Empty(t, ws, "an empty (non-nil) list of windows gives no windows")
	}
	var eb affinity.Builder
	empty, err := eb.Build(context.Background())
	require.NoError(t, err)
	ws, err = clv.Historical(context.Background(), empty, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), clv.HistoricalOptions{})
	require.NoError(t, err)
	require.Len(t, ws, 2)
	assert.Empty(t, ws[0].Customers)
	assert.Zero(t, ws[0].SpendPerBuyer())
}

// TestTblHoldoutNaive: groups of calibration frequency min(x, groups−1)
// with the customers' holdout transactions summed and their
// ExpectedPurchases over HoldoutLength summed, for groups above the
// largest frequency (empty groups) and a Summary from Summarize.
func TestTblHoldoutNaive(t *testing.T) {
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	rng := rand.New(rand.NewPCG(3, 0x9d))
	for iter := range 60 {
		n := rng.IntN(20)
		s := &clv.Summary{HoldoutLength: float64(1 + rng.IntN(50)), Holdout: make([]int, n), Rows: make([]clv.RFT, n)}
		for i := range n {
			x := rng.IntN(7)
			T := float64(1 + rng.IntN(60))
			s.Rows[i] = clv.RFT{Frequency: float64(x), T: T}
			if x > 0 {
				s.Rows[i].Recency = T * rng.Float64()
			}
			s.Holdout[i] = rng.IntN(5)
		}
		groups := 1 + rng.IntN(9)
		got, err := m.Holdout(context.Background(), s, groups)
		require.NoError(t, err)
		require.Len(t, got, groups)
		want := make([]clv.HoldoutGroup, groups)
		for g := range want {
			want[g].Frequency = g
		}
		for i, r := range s.Rows {
			g := min(int(r.Frequency), groups-1)
			want[g].Customers++
			want[g].Actual += float64(s.Holdout[i])
			want[g].Predicted += m.ExpectedPurchases(r, s.HoldoutLength)
		}
		for g := range want {
			msg := fmt.Sprintf("iter %d group %d", iter, g)
			assert.Equal(t, want[g].Frequency, got[g].Frequency, msg)
			assert.Equal(t, want[g].Customers, got[g].Customers, msg)
			assert.Equal(t, want[g].Actual, got[g].Actual, msg)
			assert.InDelta(t, want[g].Predicted, got[g].Predicted, 1e-9*(1+want[g].Predicted), msg)
			if want[g].Customers == 0 {
				assert.Zero(t, got[g].MeanActual(), msg)
				assert.Zero(t, got[g].MeanPredicted(), msg)
			}
		}
	}
	// a Summary from Summarize with a holdout end
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	h, _, _ := tblHistory(t, 4, asOf, false)
	s, err := clv.Summarize(context.Background(), h, asOf.AddDate(0, -6, 0), clv.SummaryOptions{HoldoutEnd: asOf})
	require.NoError(t, err)
	got, err := m.Holdout(context.Background(), s, 3)
	require.NoError(t, err)
	total, actual := 0, 0.0
	for _, g := range got {
		total += g.Customers
		actual += g.Actual
	}
	want := 0
	for _, x := range s.Holdout {
		want += x
	}
	assert.Equal(t, len(s.Rows), total)
	assert.Equal(t, float64(want), actual)
}

// TestTblHoldoutEmptySummary: Summarize with a holdout end but no customer
// yet at the calibration end is still a summary "from Summarize with a
// HoldoutEnd"; its holdout table has empty groups, not an error.
func TestTblHoldoutEmptySummary(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	h, _, _ := tblHistory(t, 5, asOf, false)
	s, err := clv.Summarize(context.Background(), h, asOf.AddDate(-20, 0, 0), clv.SummaryOptions{HoldoutEnd: asOf.AddDate(-19, 0, 0)})
	require.NoError(t, err)
	require.Empty(t, s.Rows)
	assert.NotNil(t, s.Holdout, "Holdout is nil only without HoldoutEnd")
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	got, err := m.Holdout(context.Background(), s, 2)
	require.NoError(t, err)
	assert.Equal(t, []clv.HoldoutGroup{{Frequency: 0}, {Frequency: 1}}, got)
}

// TestTblHoldoutMismatchedLengths: a hand-built Summary (plain slices work
// as well, says the package doc) whose Holdout and Rows differ in length
// is an error, not a panic.
func TestTblHoldoutMismatchedLengths(t *testing.T) {
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	for _, s := range []*clv.Summary{
		{Rows: []clv.RFT{{T: 1}, {T: 2}}, Holdout: []int{1}, HoldoutLength: 1},
		{Rows: []clv.RFT{{T: 1}}, Holdout: []int{1, 2}, HoldoutLength: 1},
	} {
		var err error
		require.NotPanics(t, func() { _, err = m.Holdout(context.Background(), s, 3) })
		assert.Error(t, err, "%+v", s)
	}
}

// TestTblHoldoutBadLength: a holdout period of NaN or infinite length is
// no holdout period.
func TestTblHoldoutBadLength(t *testing.T) {
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	for _, l := range []float64{math.NaN(), math.Inf(1)} {
		s := &clv.Summary{Rows: []clv.RFT{{T: 1}}, Holdout: []int{1}, HoldoutLength: l}
		got, err := m.Holdout(context.Background(), s, 2)
		assert.Error(t, err, "length %v: got %+v", l, got)
	}
}

// TestTblHoldoutBadFrequency: rows no Summarize gives (a frequency that is
// negative, NaN or infinite) must be an error wrapping ErrInvalid, as for
// FitBGNBD, not a panic or a group out of range; a finite frequency beyond
// int is valid and goes to the last group.
func TestTblHoldoutBadFrequency(t *testing.T) {
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	for _, x := range []float64{-1, 1e20, math.NaN(), math.Inf(1), math.Inf(-1)} {
		s := &clv.Summary{Rows: []clv.RFT{{T: 2}, {Frequency: x, Recency: 1, T: 1}}, Holdout: []int{0, 1}, HoldoutLength: 1}
		var err error
		var out []clv.HoldoutGroup
		assert.NotPanics(t, func() { out, err = m.Holdout(context.Background(), s, 3) }, "frequency %v", x)
		if x == 1e20 {
			if assert.NoError(t, err) {
				assert.Equal(t, 1, out[2].Customers, "the last group")
			}
			continue
		}
		assert.ErrorIs(t, err, clv.ErrInvalid, "frequency %v", x)
	}
}
