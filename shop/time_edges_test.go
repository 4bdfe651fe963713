package shop_test

// Time edges across packages: every build takes an explicit as-of time and
// look-backs in calendar months or durations (the seam contract of the
// root package's doc.go). These tests check what the packages count —
// segment features and queries, clv windows and summaries, similarity
// supports, shop audiences and profiles, campaign schedules — against a
// naive model written from the documentation alone, on small seeded
// histories whose lines sit at the edges: at as-of, a second (or a
// nanosecond) either side, at the start of a look-back, at the day
// boundaries of recency, in non-UTC as-of locations, at the extremes of
// the History's time range, and after as-of.

import (
	"cmp"
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
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

// edgeLine is one purchase line of an edge history.
type edgeLine struct {
	cust, prod, order string
	t                 time.Time
	qty               int32
	price             affinity.Money
}

func (l edgeLine) purchase() affinity.Purchase {
	return affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: l.t, Quantity: l.qty, Price: l.price}
}

// edgePurchases is the source of lines, for a refresh.
func edgePurchases(lines []edgeLine) shop.Source {
	ps := make([]affinity.Purchase, len(lines))
	for k, l := range lines {
		ps[k] = l.purchase()
	}
	return shop.Purchases(slices.Values(ps))
}

// naiveOrder is one order as the root package documents it: its time is
// the earliest of its lines' times in whole Unix seconds.
type naiveOrder struct {
	t      int64
	bought bool
	value  affinity.Money
	prods  map[string]bool // bought products
}

// naiveModel is the documented meaning of the features of customers as of
// asOf with look-back lb (defaults resolved), computed line by line.
type naiveModel struct {
	asOf   time.Time
	lb     affinity.Lookback
	custs  []string // sorted
	orders map[string][]naiveOrder
}

func newNaive(lines []edgeLine, asOf time.Time, lb affinity.Lookback) *naiveModel {
	type key struct{ c, o string }
	idx := map[key]int{}
	n := &naiveModel{asOf: asOf, lb: lb, orders: map[string][]naiveOrder{}}
	for _, l := range lines {
		k := key{l.cust, l.order}
		i, ok := idx[k]
		if !ok {
			i = len(n.orders[l.cust])
			idx[k] = i
			n.orders[l.cust] = append(n.orders[l.cust], naiveOrder{t: l.t.Unix(), prods: map[string]bool{}})
		}
		o := &n.orders[l.cust][i]
		o.t = min(o.t, l.t.Unix())
		o.value += l.price * affinity.Money(l.qty)
		if l.qty > 0 {
			o.bought = true
			o.prods[l.prod] = true
		}
	}
	for c := range n.orders {
		n.custs = append(n.custs, c)
	}
	slices.Sort(n.custs)
	return n
}

// upTo reports whether a stored time is at or before as-of.
func (n *naiveModel) upTo(u int64) bool { return !time.Unix(u, 0).After(n.asOf) }

// inLookback reports whether a stored time lies in (lb.Start(asOf), asOf],
// the start computed by the tests' reference.
func (n *naiveModel) inLookback(u int64) bool {
	if !n.upTo(u) {
		return false
	}
	return n.lb.All || time.Unix(u, 0).After(testdata.MonthsBefore(n.asOf, n.lb.Months).Add(-n.lb.Duration))
}

// daysAgo is the number of whole periods of 24 hours between u and as-of.
func (n *naiveModel) daysAgo(u int64) int {
	return int(n.asOf.Sub(time.Unix(u, 0)) / (24 * time.Hour))
}

type naiveFeatures struct {
	known             bool
	recency, tenure   int // -1: none
	frequency         int
	monetary          affinity.Money
	first, last       int64 // bought orders up to as-of (valid when recency >= 0)
	boughtWithin7Days map[string]bool
	boughtInLookback  map[string]bool
	stage             string
	activeDays        map[string]bool // UTC dates (YYYY-MM-DD) with a bought order at or before as-of
}

// lapseChurn returns the default LapseAfter and ChurnAfter in days
// (segment.Options): 180 days or the look-back's length in days (rounded
// up) when shorter, and 365 days or one more than LapseAfter.
func (n *naiveModel) lapseChurn() (lapse, churn int) {
	lapse = 180
	if !n.lb.All {
		span := n.asOf.Unix() - n.lb.Start(n.asOf).Unix()
		lapse = min(lapse, int((span+86399)/86400))
	}
	return lapse, max(365, lapse+1)
}

func (n *naiveModel) features(c string) naiveFeatures {
	f := naiveFeatures{recency: -1, tenure: -1, boughtWithin7Days: map[string]bool{}, boughtInLookback: map[string]bool{}, activeDays: map[string]bool{}}
	for _, o := range n.orders[c] {
		if !n.upTo(o.t) {
			continue
		}
		f.known = true
		in := n.inLookback(o.t)
		if in {
			f.monetary += o.value
		}
		if !o.bought {
			continue
		}
		if f.recency < 0 || o.t > f.last {
			f.last = o.t
		}
		if f.tenure < 0 || o.t < f.first {
			f.first = o.t
		}
		f.recency, f.tenure = n.daysAgo(f.last), n.daysAgo(f.first)
		f.activeDays[time.Unix(o.t, 0).UTC().Format(time.DateOnly)] = true
		if in {
			f.frequency++
			for p := range o.prods {
				f.boughtInLookback[p] = true
				if time.Unix(o.t, 0).After(n.asOf.Add(-7 * 24 * time.Hour)) {
					f.boughtWithin7Days[p] = true
				}
			}
		}
	}
	if f.recency >= 0 {
		// lifecycle stages: churned, lapsing (also a buyer without an
		// order in the look-back), loyal (4+ orders in the look-back),
		// repeat (2+), new (one)
		lapse, churn := n.lapseChurn()
		switch {
		case f.recency > churn:
			f.stage = segment.StageChurned
		case f.recency > lapse || f.frequency == 0:
			f.stage = segment.StageLapsing
		case f.frequency >= segment.DefaultLoyalOrders:
			f.stage = segment.StageLoyal
		case f.frequency >= 2:
			f.stage = segment.StageRepeat
		default:
			f.stage = segment.StageNew
		}
	}
	return f
}

// edgeTimes returns the times a history for as-of asOf and look-back lb
// puts its orders at: as-of, its start and day boundaries, each with
// neighbours a second and a nanosecond away, and midnights in as-of's
// location and in UTC.
func edgeTimes(asOf time.Time, lb affinity.Lookback) []time.Time {
	var ts []time.Time
	near := func(t time.Time) {
		ts = append(ts, t, t.Add(-time.Second), t.Add(time.Second), t.Add(-time.Nanosecond), t.Add(time.Nanosecond))
	}
	near(asOf)
	if !lb.All {
		near(lb.Start(asOf))
		near(affinity.Months(lb.Months).Start(asOf)) // the months part alone
		near(lb.Start(asOf.UTC()))                   // the same calendar months counted in UTC
	}
	for _, k := range []int{1, 2, 7, 13, 14, 15, 27, 28, 29, 30, 31, 180, 181, 365, 366} {
		near(asOf.Add(-time.Duration(k) * 24 * time.Hour))
	}
	y, m, d := asOf.Date()
	near(time.Date(y, m, d, 0, 0, 0, 0, asOf.Location()))
	near(time.Date(y, m, d+1, 0, 0, 0, 0, asOf.Location()))
	yu, mu, du := asOf.UTC().Date()
	near(time.Date(yu, mu, du, 0, 0, 0, 0, time.UTC))
	near(time.Date(yu, mu, du-14, 0, 0, 0, 0, time.UTC))
	for _, k := range []int{1, 12, 24} {
		near(testdata.MonthsBefore(asOf, k)) // the look-back's start
		near(asOf.AddDate(0, -k, 0))         // the local calendar's, rolled over
	}
	return ts
}

// edgeHistory returns the lines of a random history of n customers whose
// orders lie mostly at the edge times around asOf (some after it), with
// returns, and the History built from them.
func edgeHistory(t testing.TB, r *rand.Rand, asOf time.Time, lb affinity.Lookback, n int) ([]edgeLine, *affinity.History) {
	t.Helper()
	edges := edgeTimes(asOf, lb)
	var lines []edgeLine
	order := 0
	for c := range n {
		cust := fmt.Sprintf("c%03d", c)
		for range 1 + r.IntN(4) {
			var at time.Time
			if r.IntN(10) < 7 {
				at = edges[r.IntN(len(edges))]
			} else {
				at = asOf.Add(time.Duration(r.Int64N(int64(810*24*time.Hour))) - 800*24*time.Hour)
			}
			if !affinity.ValidTime(at) {
				continue
			}
			order++
			qty := int32(1 + r.IntN(3))
			if r.IntN(10) == 0 {
				qty = -1 // a return-only order
			}
			for range 1 + r.IntN(2) {
				lines = append(lines, edgeLine{cust: cust, prod: fmt.Sprintf("p%d", r.IntN(6)), order: fmt.Sprintf("o%04d", order),
					t: at, qty: qty, price: affinity.Money(10_000 * (1 + r.IntN(50)))})
			}
		}
	}
	// c000 always bought 20 days before as-of and again after it
	for k, at := range []time.Time{asOf.Add(-20 * 24 * time.Hour), asOf.Add(time.Hour)} {
		if affinity.ValidTime(at) {
			lines = append(lines, edgeLine{cust: "c000", prod: "p0", order: fmt.Sprintf("late%d", k), t: at, qty: 1, price: 10_000})
		}
	}
	return lines, buildEdgeHistory(t, nil, lines)
}

func buildEdgeHistory(t testing.TB, base *affinity.History, lines []edgeLine) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	for _, l := range lines {
		require.NoError(t, b.Add(l.purchase()))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// keys returns the shop keys of the customers of set, sorted.
func edgeKeys(h *affinity.History, set *roaring.Bitmap) []string {
	var ks []string
	for it := set.Iterator(); it.HasNext(); {
		ks = append(ks, h.CustomerKey(affinity.CustomerID(it.Next())))
	}
	slices.Sort(ks)
	return ks
}

// edgeCase is an as-of time and a look-back.
type edgeCase struct {
	name string
	asOf time.Time
	lb   affinity.Lookback
}

func loc(t *testing.T, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v (no tzdata)", name, err)
	}
	return l
}

func utc(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

// edgeCases are as-of times at calendar edges: month ends, leap days,
// non-midnight clocks, sub-second parts, fixed zones far from UTC.
func edgeCases() []edgeCase {
	plus14 := time.FixedZone("+14", 14*3600)
	minus11 := time.FixedZone("-11", -11*3600)
	plus0530 := time.FixedZone("+0530", 5*3600+1800)
	return []edgeCase{
		{"utc-midnight-mar1-leap-1m", utc(2024, 3, 1, 0, 0, 0), affinity.Months(1)},
		{"utc-midnight-mar1-leap-12m", utc(2024, 3, 1, 0, 0, 0), affinity.Months(12)},
		{"utc-midnight-mar1-leap-24m", utc(2024, 3, 1, 0, 0, 0), affinity.Months(24)},
		{"utc-mar1-2025-12m-after-leap", utc(2025, 3, 1, 9, 15, 0), affinity.Months(12)},
		{"utc-feb29-noon-12m", utc(2024, 2, 29, 12, 0, 0), affinity.Months(12)},
		{"utc-feb29-noon-48m", utc(2024, 2, 29, 12, 0, 0), affinity.Months(48)},
		{"utc-mar31-1m", utc(2024, 3, 31, 13, 45, 10), affinity.Months(1)},
		{"utc-mar30-2025-1m", utc(2025, 3, 30, 23, 59, 59), affinity.Months(1)},
		{"utc-mar29-2025-1m", utc(2025, 3, 29, 0, 0, 1), affinity.Months(1)},
		{"utc-may31-3m", utc(2024, 5, 31, 6, 0, 0), affinity.Months(3)},
		{"utc-subsecond-1m-36h", utc(2024, 3, 1, 0, 0, 0).Add(500 * time.Millisecond), affinity.Lookback{Months: 1, Duration: 36 * time.Hour}},
		{"utc-days30", utc(2024, 3, 10, 17, 30, 0), affinity.Days(30)},
		{"utc-default-24m", utc(2026, 1, 31, 8, 0, 0), affinity.Lookback{}},
		{"utc-alltime", utc(2024, 7, 4, 12, 0, 0), affinity.AllTime},
		{"plus14-mar1-1m", time.Date(2024, 3, 1, 5, 0, 0, 0, plus14), affinity.Months(1)},
		{"plus14-mar1-12m", time.Date(2024, 3, 1, 5, 0, 0, 0, plus14), affinity.Months(12)},
		{"minus11-feb28-1m", time.Date(2024, 2, 29, 20, 0, 0, 0, minus11), affinity.Months(1)},
		{"plus0530-mar31-1m", time.Date(2024, 3, 31, 2, 0, 0, 0, plus0530), affinity.Months(1)},
	}
}

// dstCases are as-of times in zones with daylight saving time, around
// the switches.
func dstCases(t *testing.T) []edgeCase {
	berlin, ny := loc(t, "Europe/Berlin"), loc(t, "America/New_York")
	return []edgeCase{
		{"berlin-mar31-dst-1m", time.Date(2024, 3, 31, 12, 0, 0, 0, berlin), affinity.Months(1)},
		{"berlin-mar31-0030-1m", time.Date(2024, 3, 31, 0, 30, 0, 0, berlin), affinity.Months(1)},
		{"berlin-oct27-dst-end-1m", time.Date(2024, 10, 27, 1, 30, 0, 0, berlin), affinity.Months(1)},
		{"newyork-nov3-dst-end-24m", time.Date(2024, 11, 3, 23, 0, 0, 0, ny), affinity.Months(24)},
		{"newyork-mar10-dst-start-1m", time.Date(2024, 3, 10, 21, 0, 0, 0, ny), affinity.Months(1)},
	}
}

// segmentQueries are the queries compared with the naive model.
var segmentQueries = []struct {
	q  string
	in func(f naiveFeatures) bool
}{
	{`recency between 14d and 28d`, func(f naiveFeatures) bool { return f.recency >= 14 && f.recency <= 28 }},
	{`recency < 1d`, func(f naiveFeatures) bool { return f.recency == 0 }},
	{`recency <= 1d`, func(f naiveFeatures) bool { return f.recency >= 0 && f.recency <= 1 }},
	{`not recency <= 30d`, func(f naiveFeatures) bool { return f.known && (f.recency < 0 || f.recency > 30) }},
	{`tenure >= 365d`, func(f naiveFeatures) bool { return f.tenure >= 365 }},
	{`frequency >= 2`, func(f naiveFeatures) bool { return f.frequency >= 2 }},
	{`monetary < 0`, func(f naiveFeatures) bool { return f.monetary < 0 }},
	{`bought("p1")`, func(f naiveFeatures) bool { return f.boughtInLookback["p1"] }},
	{`bought("p2" within 7d)`, func(f naiveFeatures) bool { return f.boughtWithin7Days["p2"] }},
	{`all`, func(f naiveFeatures) bool { return f.known }},
}

// checkSegment compares the index x of h with the naive model n:
// features of every customer (one line each, so that a failure shows the
// customers that differ) and the answers of segmentQueries.
func checkSegment(t *testing.T, x *segment.Index, h *affinity.History, n *naiveModel) {
	t.Helper()
	var want, got []string
	for _, c := range n.custs {
		id, ok := h.LookupCustomer(c)
		require.True(t, ok, c)
		f := n.features(c)
		if f.known {
			want = append(want, fmt.Sprintf("%s recency=%d tenure=%d frequency=%d monetary=%v stage=%s", c, f.recency, f.tenure, f.frequency, f.monetary, f.stage))
		}
		if g, known := x.Features(id); known {
			got = append(got, fmt.Sprintf("%s recency=%d tenure=%d frequency=%d monetary=%v stage=%s", c, g.Recency, g.Tenure, g.Frequency, g.Monetary, g.Stage))
		}
	}
	assert.Equal(t, want, got, "features as of %v, look-back %v from %v", n.asOf, n.lb, n.lb.Start(n.asOf))
	for _, sq := range segmentQueries {
		set, err := x.Query(sq.q)
		require.NoError(t, err, sq.q)
		var want []string
		for _, c := range n.custs {
			if sq.in(n.features(c)) {
				want = append(want, c)
			}
		}
		assert.Equal(t, want, edgeKeys(h, set), "query %s as of %v (%v)", sq.q, n.asOf, n.lb)
	}
	// daily activity: UTC days, bought orders at or before as-of only
	today := n.asOf.UTC()
	for _, r := range [][2]time.Time{
		{today, today},
		{today.AddDate(0, 0, -1), today.AddDate(0, 0, -1)},
		{today.AddDate(0, 0, -14), today.AddDate(0, 0, -1)},
	} {
		q := fmt.Sprintf(`active between %q and %q`, r[0].Format(time.DateOnly), r[1].Format(time.DateOnly))
		set, err := x.Query(q)
		if !assert.NoError(t, err, q) {
			continue
		}
		var want []string
		for _, c := range n.custs {
			f := n.features(c)
			for d := r[0]; !d.After(r[1]); d = d.AddDate(0, 0, 1) {
				if f.activeDays[d.Format(time.DateOnly)] {
					want = append(want, c)
					break
				}
			}
		}
		assert.Equal(t, want, edgeKeys(h, set), "query %s as of %v", q, n.asOf)
	}
}

func edgeRounds() int { return testdata.Scale(12, 2) }

// TestTimeEdgesSegment checks segment.Build's features and queries against
// the documented meaning: recency and tenure in whole 24-hour periods back
// from as-of, look-back (Lookback.Start(asOf), asOf], nothing after asOf.
func TestTimeEdgesSegment(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, cs []edgeCase) {
		for i, ec := range cs {
			t.Run(ec.name, func(t *testing.T) {
				for round := range edgeRounds() {
					r := rand.New(rand.NewPCG(uint64(i), uint64(round)))
					lines, h := edgeHistory(t, r, ec.asOf, ec.lb, 40)
					x, err := segment.Build(ctx, h, ec.asOf, segment.Options{Lookback: ec.lb, Workers: 1})
					require.NoError(t, err)
					checkSegment(t, x, h, newNaive(lines, ec.asOf, ec.lb.Or(affinity.Months(segment.DefaultLookbackMonths))))
				}
			})
		}
	}
	t.Run("calendar", func(t *testing.T) { run(t, edgeCases()) })
	t.Run("dst", func(t *testing.T) { run(t, dstCases(t)) })
}

// TestTimeEdgesLookbackAcrossPackages checks that clv.Historical,
// clv.Summarize and similarity.Count count the same lines for the same
// as-of time and look-back as the documented window, and as the segment
// index does.
func TestTimeEdgesLookbackAcrossPackages(t *testing.T) {
	ctx := context.Background()
	cases := append(edgeCases(), dstCases(t)...)
	for i, ec := range cases {
		lb := ec.lb.Or(affinity.Months(segment.DefaultLookbackMonths))
		for round := range edgeRounds() {
			t.Run(fmt.Sprintf("%s/round=%d", ec.name, round), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(i), uint64(round)))
				lines, h := edgeHistory(t, r, ec.asOf, ec.lb, 40)
				n := newNaive(lines, ec.asOf, lb)

				t.Run("similarity", func(t *testing.T) {
					counts, err := similarity.Count(ctx, h, ec.asOf, similarity.CountOptions{Lookback: lb, Workers: 1})
					require.NoError(t, err)
					support := map[string]int{}
					total := 0
					for _, c := range n.custs {
						for _, o := range n.orders[c] {
							if !o.bought || !n.inLookback(o.t) {
								continue
							}
							total++
							for p := range o.prods {
								support[p]++
							}
						}
					}
					assert.Equal(t, total, counts.Total(), "orders in %v before %v", lb, ec.asOf)
					cat := h.Catalog()
					for p := range cat.NumProducts() {
						key := cat.ProductKey(affinity.ProductID(p))
						assert.Equal(t, support[key], counts.Support(affinity.ProductID(p)), "support of %s in %v before %v", key, lb, ec.asOf)
					}
				})

				t.Run("similarity-sequential", func(t *testing.T) {
					// b within 30 days after a: strictly later, at most 30 days
					counts, err := similarity.Count(ctx, h, ec.asOf, similarity.CountOptions{Scope: similarity.Sequential, Lookback: lb, Workers: 1})
					require.NoError(t, err)
					cat := h.Catalog()
					var want, got []string
					for a := range cat.NumProducts() {
						for b := range cat.NumProducts() {
							if a == b {
								continue
							}
							ka, kb := cat.ProductKey(affinity.ProductID(a)), cat.ProductKey(affinity.ProductID(b))
							pairs := 0
							for _, c := range n.custs {
								found := false
								for _, oa := range n.orders[c] {
									for _, ob := range n.orders[c] {
										if oa.prods[ka] && ob.prods[kb] && n.inLookback(oa.t) && n.inLookback(ob.t) &&
											ob.t > oa.t && ob.t-oa.t <= int64(similarity.DefaultWindow/time.Second) {
											found = true
										}
									}
								}
								if found {
									pairs++
								}
							}
							want = append(want, fmt.Sprintf("%s→%s %d", ka, kb, pairs))
							got = append(got, fmt.Sprintf("%s→%s %d", ka, kb, counts.Pair(affinity.ProductID(a), affinity.ProductID(b))))
						}
					}
					assert.Equal(t, want, got, "sequential pairs in %v before %v", lb, ec.asOf)
				})

				t.Run("clv-retention", func(t *testing.T) {
					months := 12
					if !lb.All && lb.Duration == 0 {
						months = lb.Months
					}
					start := ec.asOf.AddDate(0, 0, -30)
					p, err := clv.Retention(ctx, h, start, ec.asOf, clv.RetentionOptions{ActiveMonths: months})
					require.NoError(t, err)
					active := func(c string, tau time.Time) bool {
						for _, o := range n.orders[c] {
							if o.bought && time.Unix(o.t, 0).After(testdata.MonthsBefore(tau, months)) && !time.Unix(o.t, 0).After(tau) {
								return true
							}
						}
						return false
					}
					var atStart, atEnd, acquired []string
					for _, c := range n.custs {
						f := n.features(c)
						if active(c, start) {
							atStart = append(atStart, c)
						}
						if active(c, ec.asOf) {
							atEnd = append(atEnd, c)
						}
						if f.recency >= 0 && time.Unix(f.first, 0).After(start) {
							acquired = append(acquired, c)
						}
					}
					assert.Equal(t, atStart, edgeKeys(h, p.AtStart), "customers at %v (%d months)", start, months)
					assert.Equal(t, atEnd, edgeKeys(h, p.AtEnd), "customers at %v (%d months)", ec.asOf, months)
					assert.Equal(t, acquired, edgeKeys(h, p.New), "customers acquired in (%v, %v]", start, ec.asOf)
				})

				t.Run("clv-holdout", func(t *testing.T) {
					sum, err := clv.Summarize(ctx, h, ec.asOf.Add(-14*24*time.Hour), clv.SummaryOptions{HoldoutEnd: ec.asOf, Unit: clv.Day})
					require.NoError(t, err)
					cal := ec.asOf.Add(-14 * 24 * time.Hour)
					for k, id := range sum.Customers {
						c := h.CustomerKey(id)
						want := 0
						for _, o := range n.orders[c] {
							if o.bought && time.Unix(o.t, 0).After(cal) && !time.Unix(o.t, 0).After(ec.asOf) {
								want++
							}
						}
						assert.Equal(t, want, sum.Holdout[k], "customer %s holdout transactions in (%v, %v]", c, cal, ec.asOf)
					}
				})

				t.Run("clv-historical", func(t *testing.T) {
					if lb.All || lb.Duration != 0 || lb.Months < 1 {
						t.Skip("clv windows are whole calendar months")
					}
					ws, err := clv.Historical(ctx, h, ec.asOf, clv.HistoricalOptions{Months: []int{lb.Months}})
					require.NoError(t, err)
					require.Len(t, ws, 1)
					w := ws[0]
					assert.True(t, w.Start.Equal(lb.Start(ec.asOf)), "window start %v, want %v", w.Start, lb.Start(ec.asOf))
					x, err := segment.Build(ctx, h, ec.asOf, segment.Options{Lookback: ec.lb, Workers: 1})
					require.NoError(t, err)
					var want, got, seg []string
					for _, c := range n.custs {
						id, _ := h.LookupCustomer(c)
						f := n.features(c)
						cv := w.Customers[id]
						want = append(want, fmt.Sprintf("%s orders=%d spend=%v", c, f.frequency, f.monetary))
						got = append(got, fmt.Sprintf("%s orders=%d spend=%v", c, cv.Orders, cv.Spend))
						// the same customer and window in the segment index
						if sf, ok := x.Features(id); ok {
							seg = append(seg, fmt.Sprintf("%s orders=%d spend=%v", c, sf.Frequency, sf.Monetary))
						} else {
							seg = append(seg, fmt.Sprintf("%s orders=%d spend=%v", c, 0, affinity.Money(0)))
						}
					}
					assert.Equal(t, want, got, "clv.Historical: orders and spend in %v before %v", lb, ec.asOf)
					assert.Equal(t, got, seg, "clv.Historical (expected) and segment (actual) disagree on the %v before %v", lb, ec.asOf)
				})

				t.Run("clv-summary-vs-segment", func(t *testing.T) {
					sum, err := clv.Summarize(ctx, h, ec.asOf, clv.SummaryOptions{Unit: clv.Day})
					require.NoError(t, err)
					x, err := segment.Build(ctx, h, ec.asOf, segment.Options{Lookback: ec.lb, Workers: 1})
					require.NoError(t, err)
					rows := map[string]clv.RFT{}
					for k, id := range sum.Customers {
						rows[h.CustomerKey(id)] = sum.Rows[k]
					}
					end := ec.asOf.Unix()
					for _, c := range n.custs {
						f := n.features(c)
						row, ok := rows[c]
						if !assert.Equal(t, f.recency >= 0, ok, "customer %s has a clv row as of %v", c, ec.asOf) || !ok {
							continue
						}
						assert.InDelta(t, float64(end-f.first)/86400, row.T, 1e-9, "customer %s T (days)", c)
						assert.InDelta(t, float64(f.last-f.first)/86400, row.Recency, 1e-9, "customer %s clv recency (days)", c)
						// the same customer's last purchase, as whole days
						// before as-of, is the segment recency
						id, _ := h.LookupCustomer(c)
						sf, _ := x.Features(id)
						assert.Equal(t, int((end-f.last)/86400), sf.Recency, "customer %s: clv T−recency and segment recency disagree", c)
					}
				})
			})
		}
	}
}

// TestTimeEdgesExtremes puts lines at the ends of the range a History
// accepts (Unix 0 and affinity.MaxUnix) and builds as of those times.
func TestTimeEdgesExtremes(t *testing.T) {
	ctx := context.Background()
	lo, hi := time.Unix(affinity.MinUnix, 0).UTC(), time.Unix(affinity.MaxUnix, 0).UTC()
	var lines []edgeLine
	add := func(c string, at time.Time, qty int32) {
		lines = append(lines, edgeLine{cust: c, prod: "p1", order: fmt.Sprintf("o%d", len(lines)), t: at, qty: qty, price: 10_000})
	}
	add("c000", lo, 1)
	add("c000", lo.Add(time.Second), 1)
	add("c001", lo.Add(24*time.Hour), 2)
	add("c002", hi, 1)
	add("c002", hi.Add(-time.Second), 1)
	add("c003", hi.Add(-24*time.Hour), 1)
	add("c003", hi.Add(-14*24*time.Hour), 1)
	add("c004", testdata.MonthsBefore(hi, 24), 1)
	add("c004", testdata.MonthsBefore(hi, 24).Add(time.Second), 1)
	add("c005", testdata.MonthsBefore(hi, 1), -1)
	h := buildEdgeHistory(t, nil, lines)
	require.Equal(t, hi, h.Latest())
	for _, at := range []time.Time{lo.Add(-time.Second), hi.Add(time.Second)} {
		var b affinity.Builder
		err := b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: 1, Price: 1})
		require.ErrorIs(t, err, affinity.ErrInvalid, "a line at %v is outside the History's range", at)
	}

	for _, ec := range []edgeCase{
		{"at-max", hi, affinity.Months(24)},
		{"at-max-1m", hi, affinity.Months(1)},
		{"at-max-alltime", hi, affinity.AllTime},
		{"before-max", hi.Add(-time.Second), affinity.Months(24)},
		{"at-min-plus-day", lo.Add(24 * time.Hour), affinity.Months(1)},
		{"at-min", lo, affinity.Days(1)},
		{"after-max", hi.Add(400 * 24 * time.Hour), affinity.Months(24)},
	} {
		t.Run(ec.name, func(t *testing.T) {
			n := newNaive(lines, ec.asOf, ec.lb)
			x, err := segment.Build(ctx, h, ec.asOf, segment.Options{Lookback: ec.lb, Workers: 1})
			require.NoError(t, err)
			for _, c := range n.custs {
				id, _ := h.LookupCustomer(c)
				want := n.features(c)
				got, known := x.Features(id)
				if !assert.Equal(t, want.known, known, c) || !known {
					continue
				}
				assert.Equal(t, want.recency, got.Recency, "%s recency", c)
				assert.Equal(t, want.tenure, got.Tenure, "%s tenure", c)
				assert.Equal(t, want.frequency, got.Frequency, "%s frequency", c)
				assert.Equal(t, want.monetary, got.Monetary, "%s monetary", c)
			}
			if !ec.lb.All {
				counts, err := similarity.Count(ctx, h, ec.asOf, similarity.CountOptions{Lookback: ec.lb, Workers: 1})
				require.NoError(t, err)
				total := 0
				for _, c := range n.custs {
					for _, o := range n.orders[c] {
						if o.bought && n.inLookback(o.t) {
							total++
						}
					}
				}
				assert.Equal(t, total, counts.Total(), "similarity orders in %v before %v", ec.lb, ec.asOf)
			}
			sum, err := clv.Summarize(ctx, h, ec.asOf, clv.SummaryOptions{Unit: clv.Day})
			require.NoError(t, err)
			for k, id := range sum.Customers {
				f := n.features(h.CustomerKey(id))
				assert.InDelta(t, float64(ec.asOf.Unix()-f.first)/86400, sum.Rows[k].T, 1e-9, "%s T", h.CustomerKey(id))
			}
		})
	}
}

// naiveLastBuy returns the time of c's last bought order at or before
// as-of, and whether there is one.
func (n *naiveModel) lastBuy(c string) (time.Time, bool) {
	f := n.features(c)
	if f.recency < 0 {
		return time.Time{}, false
	}
	return time.Unix(f.last, 0).UTC(), true
}

// checkAudience compares an audience's members by recency and their last
// purchases with the naive model: most recent buyers first, those who
// never bought (by as-of) last, ties by key.
func checkAudience(t *testing.T, aud *shop.Audience, n *naiveModel, members []string) {
	t.Helper()
	want := slices.Clone(members)
	slices.SortStableFunc(want, func(a, b string) int {
		ta, oka := n.lastBuy(a)
		tb, okb := n.lastBuy(b)
		switch {
		case oka && okb:
			return cmp.Or(tb.Compare(ta), cmp.Compare(a, b))
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	page, err := aud.Page(shop.ByRecency, 0, shop.MaxPage)
	require.NoError(t, err)
	got := make([]string, len(page))
	for i, m := range page {
		got[i] = m.Customer
		last, ok := n.lastBuy(m.Customer)
		if !ok {
			last = time.Time{}
		}
		assert.True(t, last.Equal(m.LastPurchase), "member %s LastPurchase %v, want %v (last purchase at or before as-of %v)", m.Customer, m.LastPurchase, last, n.asOf)
	}
	assert.Equal(t, want, got, "audience %q by recency", aud.Query())
}

// scheduleNaive returns the customers due for a Schedule of minDays to
// maxDays as of asOf as campaign.Schedule documents it: the whole days
// between their last purchase and the plan's as-of time.
func scheduleNaive(n *naiveModel, minDays, maxDays int) []string {
	var due []string
	for _, c := range n.custs {
		f := n.features(c)
		if f.recency >= minDays && f.recency <= maxDays {
			due = append(due, c)
		}
	}
	return due
}

func planCustomers(p *campaign.Plan) []string {
	var cs []string
	for _, m := range p.Messages {
		cs = append(cs, m.Customer)
	}
	slices.Sort(cs)
	return cs
}

var edgeShopOptions = shop.Options{Model: "neighbours", NextBasket: shop.Off, Workers: 1, RefreshWorkers: 1}

// TestTimeEdgesShopAsOfBeforeLatest opens shops with Options.AsOf set
// before the data's latest lines: the lines after as-of must be ignored by
// the segment queries, the audiences' recency order and last purchases,
// the profiles and the campaign schedule alike.
func TestTimeEdgesShopAsOfBeforeLatest(t *testing.T) {
	ctx := context.Background()
	cases := append(edgeCases(), dstCases(t)...)
	for i, ec := range cases {
		t.Run(ec.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 77))
			lines, h := edgeHistory(t, r, ec.asOf, ec.lb, 40)
			require.True(t, h.Latest().After(ec.asOf), "the history has lines after as-of")
			opts := edgeShopOptions
			opts.AsOf, opts.Lookback = ec.asOf, ec.lb
			s, err := shop.OpenHistory(ctx, h, opts)
			require.NoError(t, err)
			defer s.Close()
			snap := s.Snapshot()
			require.True(t, snap.AsOf().Equal(ec.asOf))
			n := newNaive(lines, ec.asOf, ec.lb.Or(shop.DefaultLookback))

			aud, err := snap.Segment(`recency between 14d and 28d`)
			require.NoError(t, err)
			assert.Equal(t, scheduleNaive(n, 14, 28), edgeKeys(h, aud.Bitmap()), "shop segment recency between 14d and 28d")

			all, err := snap.Segment(`all`)
			require.NoError(t, err)
			checkAudience(t, all, n, edgeKeys(h, all.Bitmap()))

			for _, c := range n.custs[:10] {
				p, err := snap.Profile(ctx, c)
				require.NoError(t, err)
				f := n.features(c)
				var first, last time.Time
				if f.recency >= 0 {
					first, last = time.Unix(f.first, 0).UTC(), time.Unix(f.last, 0).UTC()
				}
				assert.True(t, first.Equal(p.FirstPurchase), "profile %s FirstPurchase %v, want %v", c, p.FirstPurchase, first)
				assert.True(t, last.Equal(p.LastPurchase), "profile %s LastPurchase %v, want %v", c, p.LastPurchase, last)
			}

			plan, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{
				{Name: "coupon", Schedule: campaign.Schedule{MinDays: 14, MaxDays: 28}, Content: campaign.NoProducts, Control: -1},
			}, campaign.Options{Cap: -1})
			require.NoError(t, err)
			assert.Equal(t, scheduleNaive(n, 14, 28), planCustomers(plan), "campaign due 14–28 whole days after the last purchase")
		})
	}
}

// TestTimeEdgesShopLatestAsOf opens shops without Options.AsOf: the
// snapshot is as of the data's latest line, and its segment index, as the
// shop documents, as of the end of that day (UTC). A campaign planned as
// of the snapshot's time is due by the whole days between the last
// purchase and that time (campaign.Schedule).
func TestTimeEdgesShopLatestAsOf(t *testing.T) {
	ctx := context.Background()
	for i, latest := range []time.Time{
		utc(2024, 3, 1, 9, 0, 0),
		utc(2024, 3, 1, 0, 0, 0),
		utc(2024, 2, 29, 23, 59, 59),
	} {
		t.Run(latest.Format(time.RFC3339), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 5))
			lines, _ := edgeHistory(t, r, latest, affinity.Months(24), 40)
			var kept []edgeLine
			for _, l := range lines {
				if l.t.Unix() <= latest.Unix() {
					kept = append(kept, l)
				}
			}
			// the latest line sits exactly at latest; a customer bought
			// 14 days minus an hour before it: 13 whole days
			kept = append(kept,
				edgeLine{cust: "c900", prod: "p1", order: "x1", t: latest, qty: 1, price: 10_000},
				edgeLine{cust: "c901", prod: "p1", order: "x2", t: latest.Add(-14*24*time.Hour + time.Hour), qty: 1, price: 10_000},
				edgeLine{cust: "c902", prod: "p1", order: "x3", t: latest.Add(-28*24*time.Hour - time.Second), qty: 1, price: 10_000})
			h := buildEdgeHistory(t, nil, kept)
			require.Equal(t, latest, h.Latest())
			s, err := shop.OpenHistory(ctx, h, edgeShopOptions)
			require.NoError(t, err)
			defer s.Close()
			snap := s.Snapshot()
			require.True(t, snap.AsOf().Equal(latest))

			// the segment index is as of the end of the day (shop.Options.AsOf)
			eod := latest.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
			nEOD := newNaive(kept, eod, shop.DefaultLookback)
			aud, err := snap.Segment(`recency between 14d and 28d`)
			require.NoError(t, err)
			assert.Equal(t, scheduleNaive(nEOD, 14, 28), edgeKeys(h, aud.Bitmap()), "shop segment as of the end of the day")

			// the campaign plan is as of the snapshot's time, and its
			// schedule counts days as the segment index does: from the end
			// of the day (campaign.Schedule)
			plan, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{
				{Name: "coupon", Schedule: campaign.Schedule{MinDays: 14, MaxDays: 28}, Content: campaign.NoProducts, Control: -1},
			}, campaign.Options{Cap: -1})
			require.NoError(t, err)
			assert.Equal(t, scheduleNaive(nEOD, 14, 28), planCustomers(plan),
				"campaign.Schedule: whole days between the last purchase and the end of the plan's day %v", eod)
		})
	}
}

// TestTimeEdgesShopRefresh refreshes shops with lines near the edges —
// at the new as-of, a second either side of day boundaries and of the
// look-back's start, after a fixed as-of — and compares the refreshed
// snapshot's segment answers and audiences with the naive model.
func TestTimeEdgesShopRefresh(t *testing.T) {
	ctx := context.Background()
	t.Run("fixed-asof", func(t *testing.T) {
		for i, ec := range edgeCases()[:6] {
			t.Run(ec.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(i), 99))
				lines, h := edgeHistory(t, r, ec.asOf, ec.lb, 30)
				opts := edgeShopOptions
				opts.AsOf, opts.Lookback = ec.asOf, ec.lb
				s, err := shop.OpenHistory(ctx, h, opts)
				require.NoError(t, err)
				defer s.Close()
				for round := range 2 {
					more, _ := edgeHistory(t, rand.New(rand.NewPCG(uint64(i), uint64(round+100))), ec.asOf, ec.lb, 45)
					for k := range more {
						more[k].order = fmt.Sprintf("r%d-%s", round, more[k].order)
					}
					require.NoError(t, s.Refresh(ctx, edgePurchases(more)))
					lines = append(lines, more...)
					snap := s.Snapshot()
					require.True(t, snap.AsOf().Equal(ec.asOf))
					n := newNaive(lines, ec.asOf, ec.lb.Or(shop.DefaultLookback))
					checkSegment(t, snap.Segments(), snap.History(), n)
					all, err := snap.Segment(`all`)
					require.NoError(t, err)
					checkAudience(t, all, n, edgeKeys(snap.History(), all.Bitmap()))
				}
			})
		}
	})
	t.Run("latest-asof", func(t *testing.T) {
		start := utc(2024, 2, 27, 22, 0, 0)
		r := rand.New(rand.NewPCG(3, 3))
		lines, _ := edgeHistory(t, r, start, affinity.Months(24), 30)
		var kept []edgeLine
		for _, l := range lines {
			if l.t.Unix() <= start.Unix() {
				kept = append(kept, l)
			}
		}
		steps := []time.Duration{time.Hour, 2*time.Hour - time.Second, time.Second, 24 * time.Hour, 36*time.Hour + time.Second, 3 * time.Second}
		// old orders at the edges of the look-back and of the lifecycle
		// stages of every later index (the end of each refresh's day),
		// so that each update to a later day moves some across an edge
		latest := slices.MaxFunc(kept, func(a, b edgeLine) int { return a.t.Compare(b.t) }).t
		at := latest
		for k, step := range steps {
			at = at.Add(step)
			eod := at.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
			for j, edge := range []time.Time{testdata.MonthsBefore(eod, 24), eod.Add(-180 * 24 * time.Hour), eod.Add(-365 * 24 * time.Hour), eod.Add(-366 * 24 * time.Hour)} {
				for d, off := range []time.Duration{-time.Second, 0, time.Second} {
					kept = append(kept, edgeLine{cust: fmt.Sprintf("c%03d", r.IntN(40)), prod: fmt.Sprintf("p%d", r.IntN(6)),
						order: fmt.Sprintf("e%d-%d-%d", k, j, d), t: edge.Add(off), qty: 1, price: 30_000})
				}
			}
		}
		h := buildEdgeHistory(t, nil, kept)
		require.Equal(t, latest, h.Latest())
		s, err := shop.OpenHistory(ctx, h, edgeShopOptions)
		require.NoError(t, err)
		defer s.Close()
		at = h.Latest()
		for round, step := range steps {
			at = at.Add(step)
			eod := at.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
			var more []edgeLine
			for k, back := range []time.Duration{0, 14 * 24 * time.Hour, 28*24*time.Hour + time.Second, 29 * 24 * time.Hour, 0} {
				cust := fmt.Sprintf("c%03d", r.IntN(40))
				when := at.Add(-back)
				if k == 4 { // exactly 14 whole days before the index's as-of
					when = eod.Add(-14 * 24 * time.Hour)
				}
				more = append(more, edgeLine{cust: cust, prod: fmt.Sprintf("p%d", k), order: fmt.Sprintf("f%d-%d", round, k), t: when, qty: 1, price: 20_000})
			}
			require.NoError(t, s.Refresh(ctx, edgePurchases(more)))
			kept = append(kept, more...)
			snap := s.Snapshot()
			require.True(t, snap.AsOf().Equal(at), "snapshot as of %v, want %v", snap.AsOf(), at)
			n := newNaive(kept, eod, shop.DefaultLookback)
			checkSegment(t, snap.Segments(), snap.History(), n)
			all, err := snap.Segment(`all`)
			require.NoError(t, err)
			checkAudience(t, all, newNaive(kept, at, shop.DefaultLookback), edgeKeys(snap.History(), all.Bitmap()))
		}
	})
}

// TestTimeEdgesLifecycleNew builds indexes whose look-back is a whole
// number of days (the default LapseAfter is then the look-back's length)
// with customers whose last purchase lies exactly at the look-back's start
// or just before it: outside the look-back, so with no order in it, and
// not beyond LapseAfter in whole days. segment documents "new" as one
// order in the look-back (segment.StageNew: "one order in the
// look-back"), and the stages as a partition of the buyers.
func TestTimeEdgesLifecycleNew(t *testing.T) {
	ctx := context.Background()
	asOf := utc(2024, 3, 10, 12, 0, 0)
	for _, lb := range []affinity.Lookback{affinity.Days(30), affinity.Months(1), {Duration: 36 * time.Hour}} {
		t.Run(lb.String(), func(t *testing.T) {
			start := lb.Start(asOf)
			lines := []edgeLine{
				{cust: "c000", prod: "p0", order: "o0", t: start, qty: 1, price: 10_000},                           // at the start: outside
				{cust: "c001", prod: "p0", order: "o1", t: start.Add(-time.Second), qty: 1, price: 10_000},         // just before it
				{cust: "c001", prod: "p0", order: "o2", t: asOf.AddDate(-1, 0, 0), qty: 1, price: 10_000},          // a year earlier
				{cust: "c002", prod: "p0", order: "o3", t: start.Add(time.Second), qty: 1, price: 10_000},          // inside: new
				{cust: "c003", prod: "p0", order: "o4", t: asOf.Add(-time.Hour), qty: 1, price: 10_000},            // inside: new
				{cust: "c004", prod: "p0", order: "o5", t: start.Add(-12 * time.Hour), qty: 1, price: 10_000},      // half a day before it
				{cust: "c005", prod: "p0", order: "o6", t: start.Add(-24 * time.Hour), qty: 1, price: 10_000},      // a day before it
				{cust: "c006", prod: "p0", order: "o7", t: asOf.Add(-400 * 24 * time.Hour), qty: 1, price: 10_000}, // churned
			}
			h := buildEdgeHistory(t, nil, lines)
			x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: lb, Workers: 1})
			require.NoError(t, err)
			n := newNaive(lines, asOf, lb)
			var got []string
			for _, c := range n.custs {
				id, _ := h.LookupCustomer(c)
				f, ok := x.Features(id)
				require.True(t, ok, c)
				got = append(got, fmt.Sprintf("%s recency=%d frequency=%d stage=%s", c, f.Recency, f.Frequency, f.Stage))
				assert.NotEmpty(t, f.Stage, "%s bought at or before as-of: every buyer has a stage", c)
				if f.Stage == segment.StageNew {
					assert.Equal(t, 1, f.Frequency, "%s is %q with %d orders in the look-back (%v, %v]; LapseAfter %v",
						c, f.Stage, f.Frequency, start, asOf, x.Options().LapseAfter)
				}
			}
			t.Log(got)
		})
	}
}

// TestTimeEdgesCampaignCap checks the frequency cap's window: a past send
// at time t counts when t is in (asOf − CapWindow, asOf].
func TestTimeEdgesCampaignCap(t *testing.T) {
	ctx := context.Background()
	asOf := utc(2024, 3, 1, 10, 0, 0)
	var lines []edgeLine
	for c := range 6 {
		lines = append(lines, edgeLine{cust: fmt.Sprintf("c%03d", c), prod: "p0", order: fmt.Sprintf("o%d", c), t: asOf.Add(-20 * 24 * time.Hour), qty: 1, price: 10_000})
	}
	h := buildEdgeHistory(t, nil, lines)
	opts := edgeShopOptions
	opts.AsOf = asOf
	s, err := shop.OpenHistory(ctx, h, opts)
	require.NoError(t, err)
	defer s.Close()
	week := 7 * 24 * time.Hour
	sent := map[string]time.Time{
		"c000": asOf.Add(-week),                      // at the window's open start: not counted
		"c001": asOf.Add(-week + time.Second),        // counted
		"c002": asOf,                                 // counted
		"c003": asOf.Add(time.Second),                // after as-of: not counted
		"c004": asOf.Add(-week - time.Second),        // not counted
		"c005": asOf.Add(-week).Add(time.Nanosecond), // counted
	}
	var past []campaign.Message
	for c, at := range sent {
		past = append(past, campaign.Message{Campaign: "earlier", Customer: c, Time: at})
	}
	plan, err := campaign.Build(ctx, s.Snapshot(), asOf, []campaign.Campaign{{Name: "coupon", Content: campaign.NoProducts, Control: -1}}, campaign.Options{Sent: past})
	require.NoError(t, err)
	assert.Equal(t, []string{"c000", "c003", "c004"}, planCustomers(plan), "customers not capped by sends in (asOf − 7d, asOf]")
}

// TestTimeEdgesRecommendAfterAsOf opens a shop as of a time before some of
// its lines: co-purchases after as-of must not become neighbours, a
// product the customer buys only after as-of is not yet bought, and a
// customer whose every line is after as-of has no evidence of their own
// (the seam contract: nothing after asOf is read).
func TestTimeEdgesRecommendAfterAsOf(t *testing.T) {
	ctx := context.Background()
	asOf := utc(2024, 3, 1, 12, 0, 0)
	b := &affinity.Builder{}
	for p := range 6 {
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%d", p), Name: fmt.Sprintf("Product %d", p),
			Categories: []string{"A"}, Price: 10_000, InStock: true}))
	}
	add := func(c, o string, at time.Time, prods ...string) {
		for _, p := range prods {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: at, Quantity: 1, Price: 10_000}))
		}
	}
	for i := range 10 {
		add(fmt.Sprintf("a%02d", i), fmt.Sprintf("a%02d", i), asOf.Add(-10*24*time.Hour), "p1", "p2")
		add(fmt.Sprintf("z%02d", i), fmt.Sprintf("z%02d", i), asOf.Add(time.Second), "p1", "p3") // after as-of
		add(fmt.Sprintf("q%02d", i), fmt.Sprintf("q%02d", i), asOf.Add(-20*24*time.Hour), "p5")
	}
	add("target", "t1", asOf.Add(-5*24*time.Hour), "p1")
	add("target", "t2", asOf.Add(time.Second), "p2") // not yet bought as of asOf
	add("late", "l1", asOf.Add(time.Hour), "p1")     // every line after as-of
	h, err := b.Build(ctx)
	require.NoError(t, err)
	opts := edgeShopOptions
	opts.AsOf = asOf
	s, err := shop.OpenHistory(ctx, h, opts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()

	res, err := snap.Recommend(ctx, shop.Request{Customer: "target", K: 5})
	require.NoError(t, err)
	var got []string
	for _, r := range res.Recs {
		got = append(got, fmt.Sprintf("%s/%v", r.Product, r.Source))
		assert.NotEqual(t, "p1", r.Product, "p1 was bought before as-of (explore mode)")
		if r.Product == "p3" {
			assert.True(t, r.Source.Fallback(), "p3 is co-purchased with p1 only after as-of, yet recommended from %v", r.Source)
		}
	}
	assert.NotEmpty(t, recommendSourceOf(t, res, "p2"), "p2, bought with p1 before as-of and by target only after it, is recommended: %v", got)
	assert.False(t, res.ColdStart, "target bought p1 before as-of: %v", got)

	late, err := snap.Recommend(ctx, shop.Request{Customer: "late", K: 5})
	require.NoError(t, err)
	var lateGot []string
	for _, r := range late.Recs {
		lateGot = append(lateGot, fmt.Sprintf("%s/%v", r.Product, r.Source))
	}
	assert.True(t, late.ColdStart, "a customer whose lines are all after as-of has no evidence as of it: %v", lateGot)
	t.Log("target:", got, "late:", lateGot)
}

// recommendSourceOf returns the source of product p in res ("" when absent).
func recommendSourceOf(t *testing.T, res shop.Result, p string) string {
	t.Helper()
	for _, r := range res.Recs {
		if r.Product == p {
			return fmt.Sprint(r.Source)
		}
	}
	return ""
}

// TestTimeEdgesLookbackLocation is the smallest case of a calendar-month
// look-back ending at an as-of time outside UTC. Months follow the UTC
// calendar (affinity.Lookback.Start): 2024-03-01 05:00 at UTC+14 is
// 2024-02-29 15:00 UTC, one month before is 2024-01-29 15:00 UTC, so an
// order on 2024-01-30 is inside the window for every package, as it is
// for the same instant in UTC. (Counted in the as-of's own zone the
// month would start on 2024-01-31 15:00 UTC and leave it out.)
func TestTimeEdgesLookbackLocation(t *testing.T) {
	ctx := context.Background()
	lb := affinity.Months(1)
	lines := []edgeLine{
		{cust: "c000", prod: "p0", order: "o1", t: utc(2024, 1, 30, 12, 0, 0), qty: 1, price: 10_000},
		{cust: "c000", prod: "p0", order: "o2", t: utc(2024, 2, 20, 12, 0, 0), qty: 1, price: 10_000},
	}
	h := buildEdgeHistory(t, nil, lines)
	local := time.Date(2024, 3, 1, 5, 0, 0, 0, time.FixedZone("+14", 14*3600))
	for _, asOf := range []time.Time{local, local.UTC()} {
		require.True(t, lb.Start(asOf).Equal(utc(2024, 1, 29, 15, 0, 0)), "%v", lb.Start(asOf))
		require.True(t, lb.Contains(asOf, lines[0].t), "the first order is inside %v before %v (from %v)", lb, asOf, lb.Start(asOf))

		ws, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: []int{1}})
		require.NoError(t, err)
		counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Lookback: lb, Workers: 1})
		require.NoError(t, err)
		x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: lb, Workers: 1})
		require.NoError(t, err)
		f, ok := x.Features(0)
		require.True(t, ok)

		assert.Equal(t, 2, ws[0].Customers[0].Orders, "clv.Historical orders in the month")
		assert.Equal(t, 2, counts.Total(), "similarity.Count orders in the month")
		assert.Equal(t, 2, f.Frequency, "segment frequency in the month (window (%v, %v])", lb.Start(asOf), asOf.UTC())
		assert.Equal(t, affinity.Money(20_000), f.Monetary, "segment monetary in the month")
	}
}

// TestTimeEdgesAudienceLastPurchase is the smallest case of a customer
// who bought before a shop's fixed as-of and again after it: as of then,
// their last purchase is the earlier one (the segment index's recency
// says 20 days), for the audience's member, its recency order and the
// profile alike.
func TestTimeEdgesAudienceLastPurchase(t *testing.T) {
	ctx := context.Background()
	asOf := utc(2024, 3, 1, 12, 0, 0)
	lines := []edgeLine{
		{cust: "c000", prod: "p0", order: "o1", t: asOf.Add(-20 * 24 * time.Hour), qty: 1, price: 10_000},
		{cust: "c000", prod: "p0", order: "o2", t: asOf.Add(time.Second), qty: 1, price: 10_000}, // after as-of
		{cust: "c001", prod: "p0", order: "o3", t: asOf.Add(-30 * 24 * time.Hour), qty: 1, price: 10_000},
	}
	h := buildEdgeHistory(t, nil, lines)
	opts := edgeShopOptions
	opts.AsOf = asOf
	s, err := shop.OpenHistory(ctx, h, opts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()

	aud, err := snap.Segment(`recency = 20d`)
	require.NoError(t, err)
	assert.Equal(t, []string{"c000"}, edgeKeys(h, aud.Bitmap()), "segment recency as of %v", asOf)

	all, err := snap.Segment(`all`)
	require.NoError(t, err)
	ms, err := all.All(shop.ByRecency)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	want := map[string]time.Time{"c000": asOf.Add(-20 * 24 * time.Hour), "c001": asOf.Add(-30 * 24 * time.Hour)}
	assert.Equal(t, []string{"c000", "c001"}, []string{ms[0].Customer, ms[1].Customer}, "the most recent buyer as of %v first", asOf)
	for _, m := range ms {
		assert.Equal(t, want[m.Customer], m.LastPurchase, "member %s LastPurchase", m.Customer)
	}

	p, err := snap.Profile(ctx, "c000")
	require.NoError(t, err)
	assert.Equal(t, asOf.Add(-20*24*time.Hour), p.LastPurchase, "profile LastPurchase")
}
