package clv_test

import (
	"cmp"
	"context"
	"fmt"
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

// naiveOrder is an order assembled directly from purchase records.
type naiveOrder struct {
	unix   int64
	value  affinity.Money
	bought bool
}

// randomHistory builds a random History (explicit order ids, returns,
// return-only orders, lines of one order at different times, customers
// with events only, anonymous lines) and the same orders grouped naively
// per customer key, sorted by time.
func randomHistory(t *testing.T, seed uint64) (*affinity.History, map[string][]naiveOrder) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(3 * 365 * 24 * 3600)
	var b affinity.Builder
	type key struct{ cust, order string }
	orders := map[key]*naiveOrder{}
	for o := range 1500 {
		cust := fmt.Sprintf("c%d", rng.IntN(120))
		if rng.IntN(30) == 0 {
			cust = ""
		}
		unix := start.Unix() + rng.Int64N(span)
		if rng.IntN(4) == 0 {
			// bursts near the window edges used by the tests
			unix = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Unix() + rng.Int64N(3*24*3600) - 36*3600
		}
		id := fmt.Sprintf("o%d", o)
		returnsOnly := rng.IntN(12) == 0
		for l := range 1 + rng.IntN(3) {
			q := int32(1 + rng.IntN(3))
			if returnsOnly || rng.IntN(8) == 0 {
				q = -q
			}
			lt := unix + int64(l)*rng.Int64N(600)
			p := affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%d", rng.IntN(30)), Order: id,
				Time: time.Unix(lt, 0).UTC(), Quantity: q, Price: affinity.Money(rng.IntN(500_000))}
			require.NoError(t, b.Add(p))
			if cust == "" {
				continue
			}
			k := key{cust, id}
			no := orders[k]
			if no == nil {
				no = &naiveOrder{unix: lt}
				orders[k] = no
			}
			no.unix = min(no.unix, lt)
			no.value += p.Value()
			no.bought = no.bought || q > 0
		}
	}
	for i := range 5 {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprintf("viewer%d", i), Product: "p1",
			Time: start, Kind: affinity.View, Weight: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	per := map[string][]naiveOrder{}
	for k, o := range orders {
		per[k.cust] = append(per[k.cust], *o)
	}
	for _, os := range per {
		slices.SortFunc(os, func(a, b naiveOrder) int { return cmp.Compare(a.unix, b.unix) })
	}
	return h, per
}

func TestSummarizeMatchesNaive(t *testing.T) {
	for seed := range uint64(4) {
		h, per := randomHistory(t, seed)
		end := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		hEnd := end.AddDate(0, 6, 0)
		for _, unit := range []clv.Unit{clv.Week, clv.Day} {
			s, err := clv.Summarize(context.Background(), h, end, clv.SummaryOptions{HoldoutEnd: hEnd, Unit: unit})
			require.NoError(t, err)
			u := unit.Duration().Seconds()
			got := map[string]int{}
			for i, c := range s.Customers {
				got[h.CustomerKey(c)] = i
				if i > 0 {
					assert.Less(t, s.Customers[i-1], c)
				}
			}
			n := 0
			for cust, os := range per {
				var tx []naiveOrder
				var spend affinity.Money
				holdout := 0
				for _, o := range os {
					if o.unix <= end.Unix() {
						spend += o.value
						if o.bought {
							tx = append(tx, o)
						}
					} else if o.unix <= hEnd.Unix() && o.bought {
						holdout++
					}
				}
				i, ok := got[cust]
				if len(tx) == 0 {
					assert.False(t, ok, cust)
					continue
				}
				n++
				require.True(t, ok, cust)
				row := s.Rows[i]
				x := len(tx) - 1
				assert.Equal(t, float64(x), row.Frequency, cust)
				assert.InDelta(t, float64(tx[x].unix-tx[0].unix)/u, row.Recency, 1e-9, cust)
				assert.InDelta(t, float64(end.Unix()-tx[0].unix)/u, row.T, 1e-9, cust)
				var rep affinity.Money
				for _, o := range tx[1:] {
					rep += o.value
				}
				if x > 0 {
					assert.InDelta(t, rep.Float()/float64(x), row.MeanValue, 1e-9, cust)
				} else {
					assert.Zero(t, row.MeanValue)
				}
				assert.InDelta(t, spend.Float(), s.Spend[i], 1e-9, cust)
				assert.Equal(t, holdout, s.Holdout[i], cust)
			}
			assert.Len(t, s.Rows, n)
			assert.Len(t, s.Spend, n)
			assert.InDelta(t, unit.Of(hEnd.Sub(end)), s.HoldoutLength, 1e-12)
		}
	}
	h, _ := randomHistory(t, 5)
	_, err := clv.Summarize(context.Background(), h, time.Time{}, clv.SummaryOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = clv.Summarize(context.Background(), h, time.Now(), clv.SummaryOptions{Unit: 7})
	require.ErrorIs(t, err, clv.ErrInvalid)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = clv.Summarize(cctx, h, time.Now(), clv.SummaryOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = clv.Retention(cctx, h, time.Now().AddDate(-1, 0, 0), time.Now(), clv.RetentionOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = clv.CohortRetention(cctx, h, time.Now())
	require.ErrorIs(t, err, context.Canceled)
}

func TestHistoricalMatchesNaive(t *testing.T) {
	for seed := range uint64(4) {
		h, per := randomHistory(t, seed)
		asOf := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		ws, err := clv.Historical(context.Background(), h, asOf, clv.HistoricalOptions{})
		require.NoError(t, err)
		require.Len(t, ws, 2)
		for k, months := range []int{12, 24} {
			w := ws[k]
			assert.Equal(t, months, w.Months)
			assert.Equal(t, testdata.MonthsBefore(asOf, months), w.Start)
			require.Len(t, w.Customers, h.NumCustomers())
			var orders, buyers, repeat int
			var spend affinity.Money
			for c := range h.NumCustomers() {
				id := affinity.CustomerID(c)
				var want clv.CustomerValue
				for _, o := range per[h.CustomerKey(id)] {
					if o.unix > w.Start.Unix() && o.unix <= asOf.Unix() {
						want.Spend += o.value
						if o.bought {
							want.Orders++
						}
					}
				}
				assert.Equal(t, want, w.Customers[c], "customer %s", h.CustomerKey(id))
				assert.Equal(t, want.Orders >= 1, w.Buyers.Contains(uint32(c)))
				assert.Equal(t, want.Orders >= 2, w.RepeatBuyers.Contains(uint32(c)))
				assert.InDelta(t, float64(want.Orders)/float64(months), w.Frequency(id), 1e-12)
				if want.Orders > 0 {
					assert.InDelta(t, want.Spend.Float()/float64(want.Orders), want.AOV().Float(), 0.00005+1e-12)
					buyers++
				}
				if want.Orders > 1 {
					repeat++
				}
				orders += want.Orders
				spend += want.Spend
			}
			assert.Equal(t, orders, w.Orders)
			assert.Equal(t, spend, w.Spend)
			assert.InDelta(t, spend.Float()/float64(orders), w.AOV().Float(), 0.00005+1e-12)
			assert.InDelta(t, float64(orders)/float64(buyers), w.PurchaseFrequency(), 1e-12)
			assert.InDelta(t, float64(repeat)/float64(buyers), w.RepeatRate(), 1e-12)
			assert.InDelta(t, spend.Float()/float64(buyers), w.SpendPerBuyer().Float(), 0.00005+1e-12)
		}
	}
	h, _ := randomHistory(t, 9)
	_, err := clv.Historical(context.Background(), h, time.Time{}, clv.HistoricalOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.Historical(context.Background(), h, time.Now(), clv.HistoricalOptions{Months: []int{0}})
	require.ErrorIs(t, err, clv.ErrInvalid)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = clv.Historical(cctx, h, time.Now(), clv.HistoricalOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestAOVRounding(t *testing.T) {
	for _, c := range []struct {
		spend affinity.Money
		n     int
		want  affinity.Money
	}{{10, 4, 3}, {-10, 4, -3}, {9, 4, 2}, {-9, 4, -2}, {7, 0, 0}, {6, 3, 2}} {
		assert.Equal(t, c.want, clv.CustomerValue{Orders: c.n, Spend: c.spend}.AOV(), "%+v", c)
	}
}

func TestRetentionMatchesNaive(t *testing.T) {
	for seed := range uint64(4) {
		h, per := randomHistory(t, seed)
		start := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
		end := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, months := range []int{0, 3, 12, -1} {
			p, err := clv.Retention(context.Background(), h, start, end, clv.RetentionOptions{ActiveMonths: months})
			require.NoError(t, err)
			active := months
			if active == 0 {
				active = 12
			}
			activeAt := func(os []naiveOrder, tau time.Time) bool {
				for _, o := range os {
					if o.bought && o.unix <= tau.Unix() && (active < 0 || o.unix > testdata.MonthsBefore(tau, active).Unix()) {
						return true
					}
				}
				return false
			}
			var atStart, atEnd, acquired, newAtEnd int
			for c := range h.NumCustomers() {
				os := per[h.CustomerKey(affinity.CustomerID(c))]
				first := int64(-1)
				for _, o := range os {
					if o.bought {
						first = o.unix
						break
					}
				}
				s, e := activeAt(os, start), activeAt(os, end)
				isNew := first > start.Unix() && first <= end.Unix()
				assert.Equal(t, s, p.AtStart.Contains(uint32(c)))
				assert.Equal(t, e, p.AtEnd.Contains(uint32(c)))
				assert.Equal(t, isNew, p.New.Contains(uint32(c)))
				if s {
					atStart++
				}
				if e {
					atEnd++
				}
				if isNew {
					acquired++
					if e {
						newAtEnd++
					}
				}
			}
			require.Positive(t, atStart)
			assert.InDelta(t, float64(atEnd-newAtEnd)/float64(atStart), p.Rate(), 1e-12, "months %d", months)
			if months == 0 || months == 12 || months < 0 {
				assert.Equal(t, acquired, newAtEnd, "window ≥ period: every new customer is a customer at end")
			}
		}
	}
	h, _ := randomHistory(t, 1)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := clv.Retention(context.Background(), h, now, now, clv.RetentionOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	p, err := clv.Retention(context.Background(), h, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1991, 1, 1, 0, 0, 0, 0, time.UTC), clv.RetentionOptions{})
	require.NoError(t, err)
	assert.Zero(t, p.Rate())
}

func TestCohortRetentionMatchesNaive(t *testing.T) {
	for seed := range uint64(4) {
		h, per := randomHistory(t, seed)
		asOf := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		co, err := clv.CohortRetention(context.Background(), h, asOf)
		require.NoError(t, err)
		month := func(u int64) int {
			tm := time.Unix(u, 0).UTC()
			return tm.Year()*12 + int(tm.Month()) - 1
		}
		first := -1
		size := map[int]int{}
		active := map[[2]int]int{}
		for _, os := range per {
			cohort := -1
			seen := map[int]bool{}
			for _, o := range os {
				if !o.bought || o.unix > asOf.Unix() {
					continue
				}
				m := month(o.unix)
				if cohort < 0 {
					cohort = m
					size[m]++
					if first < 0 || m < first {
						first = m
					}
				}
				if !seen[m] {
					seen[m] = true
					active[[2]int{cohort, m - cohort}]++
				}
			}
		}
		last := month(asOf.Unix())
		require.Len(t, co.Months, last-first+1)
		for i := range co.Months {
			m := first + i
			assert.Equal(t, time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC), co.Months[i])
			assert.Equal(t, size[m], co.Size[i])
			require.Len(t, co.Active[i], last-m+1)
			for k := range co.Active[i] {
				assert.Equal(t, active[[2]int{m, k}], co.Active[i][k], "cohort %d month %d", i, k)
			}
			if size[m] > 0 {
				assert.Equal(t, size[m], co.Active[i][0])
				assert.InDelta(t, 1, co.Rate(i, 0), 0)
			} else {
				assert.Zero(t, co.Rate(i, 0))
			}
		}
	}
	h, _ := randomHistory(t, 1)
	co, err := clv.CohortRetention(context.Background(), h, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Empty(t, co.Months)
}

func TestUnit(t *testing.T) {
	for _, c := range []struct {
		s    string
		want clv.Unit
	}{{"week", clv.Week}, {"weeks", clv.Week}, {"day", clv.Day}, {"days", clv.Day}} {
		u, err := clv.ParseUnit(c.s)
		require.NoError(t, err)
		assert.Equal(t, c.want, u)
	}
	_, err := clv.ParseUnit("month")
	require.ErrorIs(t, err, clv.ErrInvalid)
	assert.Equal(t, "week", clv.Week.String())
	assert.Equal(t, "day", clv.Day.String())
	assert.InDelta(t, 2, clv.Week.Of(14*24*time.Hour), 1e-15)
	assert.InDelta(t, 14, clv.Day.Of(14*24*time.Hour), 1e-15)
}
