package campaign_test

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/require"
)

// everyone is one campaign over every customer of the demo with a large
// control group, for power: built once for the tests that only read it
// (Measure and Respond do not change their arguments).
func everyone(t *testing.T) (*shop.Snapshot, *campaign.Plan, []string, []string) {
	snap := demo(t)
	p, err := everyonePlan()
	require.NoError(t, err)
	var treated, control []string
	for _, m := range p.Messages {
		if m.Control {
			control = append(control, m.Customer)
		} else {
			treated = append(treated, m.Customer)
		}
	}
	return snap, p, treated, control
}

var everyonePlan = sync.OnceValues(func() (*campaign.Plan, error) {
	snap := demoSnap // set: everyone calls demo first
	c := campaign.Campaign{Name: "all", Control: 0.3}
	return campaign.Build(context.Background(), snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{})
})

// responses builds the History of the demo extended by the planted
// responses.
func responses(t *testing.T, snap *shop.Snapshot, ps []affinity.Purchase) *affinity.History {
	b := affinity.NewBuilder(snap.History())
	for _, p := range ps {
		if err := b.Add(p); err != nil { // require only on a failure: t.Helper costs more than Add
			require.NoError(t, err)
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestMeasureRecoversPlantedUplift plants a 5-point conversion uplift
// (10 % → 15 %) on the demo's 3,523 treated and 1,477 control customers
// and measures it on the demo's History extended by the responses: seeds
// 7 and 8, and 9 and 10 under testdata.Long.
//
// Each estimate must be within four standard errors of what was planted,
// not inside its 95 % interval, which misses one sample in 20 by design:
// on seeds 1–40 the uplift was within 2.5 of its standard errors, the
// incremental revenue within 2.6, and one of the two intervals missed on
// 2 of the 40. The uplift's interval must exclude 0 on each seed — it is
// 5 standard errors above 0 on average, 3.3 at least on seeds 1–40 — but
// the incremental revenue's (Significant) on the seeds together only: it
// is noisier, 4 standard errors above 0 on average, and its interval
// held 0 on 2 of seeds 1–40, while two seeds together put it 5.7 above
// on average.
// With the responses' treated and control groups swapped the uplift is
// 8.6 standard errors below the planted (seed 7), and 80 % or 90 %
// intervals miss 42 and 27 times in TestMeasureCoverage's 200 runs.
func TestMeasureRecoversPlantedUplift(t *testing.T) {
	snap, p, treated, control := everyone(t)
	start := snap.AsOf()
	const z95 = 1.959963984540054
	var inc, incVar float64 // over the seeds
	for _, seed := range []uint64{7, 8, 9, 10}[:testdata.Scale(4, 2)] {
		ps, truth := dataset.Demo().Respond(treated, control, dataset.ResponseOptions{Start: start, Days: 14, BaseRate: 0.1, Uplift: 0.05, Seed: seed})
		h := responses(t, snap, ps)
		res, err := campaign.Measure(context.Background(), h, p.Messages, start, start.AddDate(0, 0, 14), campaign.MeasureOptions{})
		require.NoError(t, err)
		require.Len(t, res, 1)
		r := res[0]
		require.Equal(t, len(treated), r.Treated.Customers)
		require.Equal(t, len(control), r.Control.Customers)
		require.InDelta(t, 0.15, r.Treated.Conversion, 4*sqrtShare(0.15, len(treated)), "seed %d", seed)
		require.InDelta(t, 0.10, r.Control.Conversion, 4*sqrtShare(0.10, len(control)), "seed %d", seed)
		seUplift := (r.UpliftCI[1] - r.UpliftCI[0]) / (2 * z95)
		seInc := (r.IncrementalCI[1] - r.IncrementalCI[0]) / (2 * z95)
		t.Logf("seed %d: uplift %.4f (%+.2f standard errors from the planted), incremental %.0f (%+.2f)", seed, r.Uplift, (r.Uplift-truth.Uplift)/seUplift, r.Incremental, (r.Incremental-truth.Incremental)/seInc)
		require.InDelta(t, truth.Uplift, r.Uplift, 4*seUplift, "seed %d: uplift", seed)
		require.InDelta(t, truth.Incremental, r.Incremental, 4*seInc, "seed %d: incremental revenue", seed)
		require.Positive(t, r.UpliftCI[0], "seed %d: a 5-point uplift on 5,000 customers should show: %+v", seed, r)
		// AOV of one-line response orders is the mean price, on both sides.
		require.InDelta(t, truth.MeanOrderValue, r.Treated.AOV, truth.MeanOrderValue*0.3, "seed %d", seed)
		inc, incVar = inc+r.Incremental, incVar+seInc*seInc
	}
	t.Logf("incremental revenue over the seeds: %.0f, %.2f standard errors above 0", inc, inc/math.Sqrt(incVar))
	require.Greater(t, inc, z95*math.Sqrt(incVar), "the incremental revenue of the seeds together is significant")
}

// TestMeasureCoverage runs many planted experiments: the 95 % intervals
// cover the planted effect about 95 % of the time, and with no effect (A/A)
// about 5 % of them are significant: 200 runs, 40 in the quick suite and
// under the race detector.
func TestMeasureCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("200 experiments")
	}
	snap, p, treated, control := everyone(t)
	start := snap.AsOf()
	end := start.AddDate(0, 0, 14)
	// Measure needs only the customers' keys and the period's orders: a
	// History of the responses alone answers the same.
	hist := func(ps []affinity.Purchase) *affinity.History {
		var b affinity.Builder
		for _, x := range ps {
			if err := b.Add(x); err != nil { // require only on a failure: t.Helper costs more than Add
				require.NoError(t, err)
			}
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		return h
	}
	runs := testdata.Scale(200, 40)
	if raceEnabled {
		runs = 40
	}
	covered, falsePos := 0, 0
	for seed := range uint64(runs) {
		ps, truth := dataset.Demo().Respond(treated, control, dataset.ResponseOptions{Start: start, Uplift: 0.03, Seed: seed + 1})
		res, err := campaign.Measure(context.Background(), hist(ps), p.Messages, start, end, campaign.MeasureOptions{})
		require.NoError(t, err)
		if r := res[0]; r.IncrementalCI[0] <= truth.Incremental && truth.Incremental <= r.IncrementalCI[1] {
			covered++
		}
		ps, _ = dataset.Demo().Respond(treated, control, dataset.ResponseOptions{Start: start, Seed: seed + 1001})
		res, err = campaign.Measure(context.Background(), hist(ps), p.Messages, start, end, campaign.MeasureOptions{})
		require.NoError(t, err)
		if res[0].Significant() {
			falsePos++
		}
	}
	// Misses and false positives are Binomial(runs, 0.05): mean 2 and sd
	// 1.4 for 40 runs, 10 and 3.1 for 200. Both bounds are 4.5 sd above
	// the mean, 8 and 23 misses, as a tenth of the runs (3 sd) failed
	// about one set of 40 runs in 20 (5 misses or more: probability
	// 0.048). Over seeds 1–200 the intervals missed 11 times (5.5 %) and
	// 6 A/A tests were significant (3 %); with Welch's normal interval
	// alone, which covers a little less than 95 % on skewed revenue, they
	// missed 27 times in 400 runs (6.75 %) and 18 A/A tests were
	// significant.
	limit := int(0.05*float64(runs) + 4.5*math.Sqrt(float64(runs)*0.05*0.95))
	t.Logf("coverage %d/%d, A/A significant %d/%d, at most %d misses of each", covered, runs, falsePos, runs, limit)
	require.LessOrEqual(t, runs-covered, limit)
	require.LessOrEqual(t, falsePos, limit)
}

// TestMeasureExact checks the figures on a hand-made history.
func TestMeasureExact(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	add := func(c, o string, days int, qty int32, price float64) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Order: o, Time: t0.AddDate(0, 0, days), Quantity: qty, Price: affinity.MoneyFromFloat(price)}))
	}
	add("a", "o1", -5, 1, 100) // before the period: not counted
	add("a", "o2", 1, 2, 10)   // 20
	add("a", "o3", 2, 1, 30)   // 30
	add("b", "o4", 3, 1, 40)   // 40
	add("b", "o5", 4, -1, 40)  // return: −40, not an order
	add("c", "o6", 20, 1, 99)  // after the period
	add("d", "o7", 5, 1, 10)   // control, 10
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	msgs := []campaign.Message{
		{Campaign: "x", Customer: "a"}, {Campaign: "x", Customer: "b"}, {Campaign: "x", Customer: "c"},
		{Campaign: "x", Customer: "unknown"},
		{Campaign: "x", Customer: "d", Control: true}, {Campaign: "x", Customer: "e", Control: true},
	}
	res, err := campaign.Measure(context.Background(), h, msgs, t0, t0.AddDate(0, 0, 14), campaign.MeasureOptions{})
	require.NoError(t, err)
	r := res[0]
	require.Equal(t, campaign.Group{Customers: 4, Converted: 2, Orders: 3, Revenue: affinity.MoneyFromFloat(50),
		Conversion: 0.5, RevenuePerCustomer: 12.5, AOV: 50.0 / 3}, r.Treated)
	require.Equal(t, campaign.Group{Customers: 2, Converted: 1, Orders: 1, Revenue: affinity.MoneyFromFloat(10),
		Conversion: 0.5, RevenuePerCustomer: 5, AOV: 10}, r.Control)
	require.InDelta(t, 0, r.Uplift, 1e-12)
	require.InDelta(t, (12.5-5)*4, r.Incremental, 1e-9)
	// revenue per treated customer 50, 0, 0, 0 (variance 625), control
	// 10, 0 (variance 50). Welch: √(625/4 + 50/2) = 13.46 at 3.75
	// degrees of freedom (t = 2.83); pooled: the variance (3·625 +
	// 50)/4 = 481.25, √(481.25·(1/4 + 1/2)) = 19.00 at 4 (t = 2.776,
	// the 97.5 % quantile of Student's t with 4 degrees of freedom), the
	// wider of the two
	half := 2.7764451051977987 * math.Sqrt(481.25*(1.0/4+1.0/2)) * 4
	require.InDelta(t, r.Incremental-half, r.IncrementalCI[0], 1e-6)
	require.InDelta(t, r.Incremental+half, r.IncrementalCI[1], 1e-6)
	// conversion 2 of 4 against 1 of 2; Agresti–Caffo: 3/6 against 2/4,
	// ± 1.96·√(0.25/6 + 0.25/4)
	uh := 1.959963984540054 * math.Sqrt(0.25/6+0.25/4)
	require.InDelta(t, -uh, r.UpliftCI[0], 1e-9)
	require.InDelta(t, uh, r.UpliftCI[1], 1e-9)

	// JSON: snake_case, the period, money as exact decimal text
	js0, err := json.Marshal(r)
	require.NoError(t, err)
	var js map[string]any
	require.NoError(t, json.Unmarshal(js0, &js))
	require.Equal(t, "2025-01-01T00:00:00Z", js["from"])
	require.Equal(t, "2025-01-15T00:00:00Z", js["to"])
	require.Equal(t, "50.00", js["treated"].(map[string]any)["revenue"])
	require.Equal(t, "10.00", js["control"].(map[string]any)["revenue"])
	var back campaign.Result
	require.NoError(t, json.Unmarshal(js0, &back))
	require.Equal(t, r.Treated.Revenue, back.Treated.Revenue)
	require.True(t, r.To.Equal(back.To))

	_, err = campaign.Measure(context.Background(), h, msgs, t0, t0, campaign.MeasureOptions{})
	require.Error(t, err)
	_, err = campaign.Measure(context.Background(), h, msgs, t0, t0.AddDate(0, 0, 1), campaign.MeasureOptions{Confidence: 1})
	require.Error(t, err)
}
