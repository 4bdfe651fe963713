package clv_test

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	paperBG = clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	paperGG = clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
)

func TestExpectedValue(t *testing.T) {
	g := paperGG
	pop := g.P * g.Gamma / (g.Q - 1)
	assert.InDelta(t, pop, g.ExpectedValue(clv.RFT{T: 10}), 1e-12)
	c := clv.RFT{Frequency: 4, Recency: 20, T: 30, MeanValue: 50}
	got := g.ExpectedValue(c)
	assert.InDelta(t, g.P*(g.Gamma+4*50)/(g.P*4+g.Q-1), got, 1e-12)
	// between the population mean and the customer's own mean, nearer to
	// the latter as x grows
	assert.True(t, got > pop && got < 50)
	c.Frequency = 400
	assert.InDelta(t, 50, g.ExpectedValue(c), 1)
	assert.True(t, math.IsInf((&clv.GammaGamma{P: 1, Q: 0.5, Gamma: 1}).ExpectedValue(clv.RFT{T: 1}), 1))
}

// naiveCLV discounts the increments of the cumulative expected purchases,
// using only the public per-customer methods.
func naiveCLV(bg *clv.BGNBD, gg *clv.GammaGamma, c clv.RFT, step float64, periods int, rate, margin float64) float64 {
	var sum, prev float64
	for i := 1; i <= periods; i++ {
		e := bg.ExpectedPurchases(c, float64(i)*step)
		sum += (e - prev) / math.Pow(1+rate, float64(i))
		prev = e
	}
	return margin * gg.ExpectedValue(c) * sum
}

func TestCLV(t *testing.T) {
	bg, gg := paperBG, paperGG
	month := 365.2425 / 12 / 7 // weeks
	c := clv.RFT{Frequency: 3, Recency: 30, T: 38, MeanValue: 40}

	got, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{DiscountRate: 0.01})
	require.NoError(t, err)
	assert.InEpsilon(t, naiveCLV(&bg, &gg, c, month, 12, 0.01, 1), got, 1e-12)

	// Without discounting the increments telescope to E[Y(horizon)].
	flat, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{})
	require.NoError(t, err)
	assert.InEpsilon(t, gg.ExpectedValue(c)*bg.ExpectedPurchases(c, 12*month), flat, 1e-12)
	assert.Less(t, got, flat)

	// Discounting the cumulative expectation of each period (a common
	// mistake) counts early purchases again in every later period.
	var wrong float64
	for i := 1; i <= 12; i++ {
		wrong += bg.ExpectedPurchases(c, float64(i)*month) / math.Pow(1.01, float64(i))
	}
	wrong *= gg.ExpectedValue(c)
	assert.Greater(t, wrong, 5*got)

	// Options: daily model, quarterly periods over two years, margin.
	daily := clv.BGNBD{R: bg.R, Alpha: bg.Alpha * 7, A: bg.A, B: bg.B}
	cd := clv.RFT{Frequency: c.Frequency, Recency: c.Recency * 7, T: c.T * 7, MeanValue: c.MeanValue}
	quarter := 91 * 24 * time.Hour
	q, err := clv.CLV(&daily, &gg, cd, clv.CLVOptions{Unit: clv.Day, Period: quarter, Periods: 8, DiscountRate: 0.03, Margin: 0.3})
	require.NoError(t, err)
	assert.InEpsilon(t, naiveCLV(&daily, &gg, cd, 91, 8, 0.03, 0.3), q, 1e-12)
	// the same customer in weeks gives the same value
	qw, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{Period: quarter, Periods: 8, DiscountRate: 0.03, Margin: 0.3})
	require.NoError(t, err)
	assert.InEpsilon(t, qw, q, 1e-9)

	for _, bad := range []clv.CLVOptions{{DiscountRate: -1}, {Margin: -0.1}, {Periods: -1}, {Period: -time.Hour}, {Unit: 9}, {DiscountRate: math.NaN()}} {
		_, err := clv.CLV(&bg, &gg, c, bad)
		require.ErrorIs(t, err, clv.ErrInvalid, "%+v", bad)
	}
}

func TestScoreMatchesPerCustomerMethods(t *testing.T) {
	rows := simulate(testdata.Scale(30_000, 6_000), cdnowLike, 21)
	rows = append(rows, clv.RFT{Frequency: 3000, Recency: 50, T: 51, MeanValue: 20}, clv.RFT{T: 0})
	bg, gg := paperBG, paperGG
	ctx := context.Background()
	for _, opts := range []clv.ScoreOptions{
		{CLV: clv.CLVOptions{DiscountRate: 0.01}},
		{Horizon: 39 * 7 * 24 * time.Hour, CLV: clv.CLVOptions{Periods: 24, DiscountRate: 0.02, Margin: 0.25}},
		{Horizon: 10 * 24 * time.Hour, CLV: clv.CLVOptions{Unit: clv.Week, Period: 7 * 24 * time.Hour, Periods: 52}},
	} {
		s, err := clv.Score(ctx, rows, &bg, &gg, opts)
		require.NoError(t, err)
		require.Len(t, s.CLV, len(rows))
		horizon := opts.Horizon
		if horizon == 0 {
			horizon = 12 * time.Duration(365.2425/12*24*float64(time.Hour))
		}
		h := clv.Week.Of(horizon)
		for i, c := range rows {
			if i%5 != 0 && i < len(rows)-2 {
				// a fifth of the simulated rows, and the two edge cases,
				// against the per-customer methods: those are slow
				continue
			}
			assert.InDelta(t, bg.PAlive(c), s.PAlive[i], 1e-15)
			e := bg.ExpectedPurchases(c, h)
			assert.InDelta(t, e, s.ExpectedPurchases[i], 1e-11*math.Max(1, e))
			v, err := clv.CLV(&bg, &gg, c, opts.CLV)
			require.NoError(t, err)
			assert.InDelta(t, v, s.CLV[i], 1e-10*math.Max(1, v), "row %d %+v", i, c)
			assert.Equal(t, gg.ExpectedValue(c), s.ExpectedValue[i])
		}
		par := opts
		par.Workers = 3
		s3, err := clv.Score(ctx, rows, &bg, &gg, par)
		require.NoError(t, err)
		assert.Equal(t, s, s3, "results must not depend on Workers")
	}
	s, err := clv.Score(ctx, rows, &bg, nil, clv.ScoreOptions{})
	require.NoError(t, err)
	assert.Nil(t, s.CLV)
	assert.Nil(t, s.ExpectedValue)
	assert.Len(t, s.PAlive, len(rows))

	_, err = clv.Score(ctx, []clv.RFT{{Recency: 2, T: 1}}, &bg, nil, clv.ScoreOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clv.Score(cctx, rows, &bg, &gg, clv.ScoreOptions{Workers: 2})
	require.ErrorIs(t, err, context.Canceled)
}

func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	n := 1001
	ids := make([]affinity.CustomerID, n)
	values := make([]float64, n)
	for i := range ids {
		ids[i] = affinity.CustomerID(3 * i)
		values[i] = float64(rng.IntN(50)) // many ties
	}
	values[7] = math.NaN()
	for _, k := range []int{1, 4, 10} {
		qs := clv.Quantiles(ids, values, k)
		require.Len(t, qs, k)
		// naive: rank by (value, id) with NaN lowest and cut into k parts
		type pair struct {
			v  float64
			id affinity.CustomerID
		}
		all := make([]pair, n)
		for i := range all {
			v := values[i]
			if math.IsNaN(v) {
				v = math.Inf(-1)
			}
			all[i] = pair{v, ids[i]}
		}
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				if all[j].v < all[i].v || all[j].v == all[i].v && all[j].id < all[i].id {
					all[i], all[j] = all[j], all[i]
				}
			}
		}
		total := 0
		for q := range k {
			want := make([]uint32, 0)
			for _, p := range all[q*n/k : (q+1)*n/k] {
				want = append(want, uint32(p.id))
			}
			assert.ElementsMatch(t, want, qs[q].ToArray(), "k=%d q=%d", k, q)
			total += int(qs[q].GetCardinality())
		}
		assert.Equal(t, n, total)
	}
	assert.Panics(t, func() { clv.Quantiles(ids, values[:3], 2) })
	assert.Panics(t, func() { clv.Quantiles(ids, values, 0) })
	assert.Empty(t, clv.Quantiles(nil, nil, 3)[2].ToArray())
}

func TestWinBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 25))
	n := 500
	ids := make([]affinity.CustomerID, n)
	value, alive := make([]float64, n), make([]float64, n)
	for i := range ids {
		ids[i] = affinity.CustomerID(i * 2)
		value[i] = rng.Float64() * 1000
		alive[i] = rng.Float64()
	}
	for _, opts := range []clv.WinBackOptions{{}, {Top: 0.5, MaxPAlive: 0.3}, {Top: 1, MaxPAlive: 1}} {
		got := clv.WinBack(ids, value, alive, opts)
		top, maxAlive := opts.Top, opts.MaxPAlive
		if top == 0 {
			top = 0.2
		}
		if maxAlive == 0 {
			maxAlive = 0.5
		}
		// naive: value threshold of the top share (values are distinct)
		greater := func(i int) int {
			c := 0
			for j := range value {
				if value[j] > value[i] {
					c++
				}
			}
			return c
		}
		var want []uint32
		for i := range ids {
			if greater(i) < int(math.Round(top*float64(n))) && alive[i] < maxAlive {
				want = append(want, uint32(ids[i]))
			}
		}
		assert.ElementsMatch(t, want, got.ToArray(), "%+v", opts)
	}
	assert.Panics(t, func() { clv.WinBack(ids, value, alive, clv.WinBackOptions{Top: 2}) })
	assert.Panics(t, func() { clv.WinBack(ids, value[:1], alive, clv.WinBackOptions{}) })
}

func TestHoldoutGroups(t *testing.T) {
	m := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	s := &clv.Summary{
		Rows:          []clv.RFT{{Frequency: 0, T: 30}, {Frequency: 1, Recency: 10, T: 30}, {Frequency: 5, Recency: 25, T: 30}, {Frequency: 9, Recency: 29, T: 30}},
		Holdout:       []int{0, 2, 3, 7},
		HoldoutLength: 39,
	}
	table, err := m.Holdout(context.Background(), s, 3)
	require.NoError(t, err)
	require.Len(t, table, 3)
	assert.Equal(t, []int{0, 1, 2}, []int{table[0].Frequency, table[1].Frequency, table[2].Frequency})
	assert.Equal(t, []int{1, 1, 2}, []int{table[0].Customers, table[1].Customers, table[2].Customers}, "x ≥ 2 share the last group")
	assert.InDelta(t, 10, table[2].Actual, 1e-12)
	assert.InDelta(t, 5, table[2].MeanActual(), 1e-12)
	want := m.ExpectedPurchases(s.Rows[2], 39) + m.ExpectedPurchases(s.Rows[3], 39)
	assert.InDelta(t, want, table[2].Predicted, 1e-12)
	assert.InDelta(t, want/2, table[2].MeanPredicted(), 1e-12)
	assert.Zero(t, clv.HoldoutGroup{}.MeanActual())

	_, err = m.Holdout(context.Background(), s, 0)
	require.ErrorIs(t, err, clv.ErrInvalid)
	_, err = m.Holdout(context.Background(), &clv.Summary{Rows: s.Rows}, 3)
	require.ErrorIs(t, err, clv.ErrNoData)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Holdout(ctx, s, 3)
	require.ErrorIs(t, err, context.Canceled)
}

// TestScoreInterpolationAccuracy pins the accuracy the documentation
// gives for Score's interpolants against the direct sums of CLV and
// ExpectedPurchases: 3e-13 relatively for every row. The interpolants
// are of the logarithms, so rows whose values are orders of magnitude
// below the group's largest keep their relative precision; interpolating
// the values themselves left 5e-9 at r = α = a = b = 1e-3 and 1.3e-11 at
// r = 0.01, α = 1e-6, a = 1, b = 50 for customers of up to ten years in
// days (5e-8 for customers of up to 1e5 weeks).
func TestScoreInterpolationAccuracy(t *testing.T) {
	models := []clv.BGNBD{
		paperBG,
		{R: 5, Alpha: 0.01, A: 0.5, B: 0.01},
		{R: 300, Alpha: 4.4, A: 1e4, B: 2, Modified: true},
		{R: 0.01, Alpha: 1e-6, A: 1, B: 50},
		{R: 1e-3, Alpha: 1e-3, A: 1e-3, B: 1e-3},
	}
	type config struct {
		opts clv.CLVOptions
		maxT float64 // the rows' T is uniform in [0, maxT]
	}
	// the quick suite: the models whose rows span the most orders of
	// magnitude, over ten years of days
	configs := []config{{clv.CLVOptions{Unit: clv.Day}, 3650}}
	if !testdata.Long() {
		models = models[3:]
	} else {
		configs = append(configs, config{clv.CLVOptions{}, 100}, config{clv.CLVOptions{}, 1e5},
			config{clv.CLVOptions{DiscountRate: 0.01, Periods: 60}, 520}, config{clv.CLVOptions{Unit: clv.Day, DiscountRate: 0.01, Periods: 60}, 3650})
	}
	for _, cfg := range configs {
		rng := rand.New(rand.NewPCG(1, 2))
		var rows []clv.RFT
		for _, x := range []float64{0, 1, 5} {
			// each frequency shared by enough rows to interpolate
			for range 300 {
				T := math.Round(cfg.maxT * rng.Float64())
				tx := 0.0
				if x > 0 {
					tx = math.Round(T * rng.Float64())
				}
				rows = append(rows, clv.RFT{Frequency: x, Recency: tx, T: T, MeanValue: 10})
			}
		}
		for _, m := range models {
			s, err := clv.Score(context.Background(), rows, &m, &paperGG, clv.ScoreOptions{CLV: cfg.opts})
			require.NoError(t, err)
			// Score's horizon: the CLV's periods of an average month
			month := time.Duration(365.2425 / 12 * 24 * float64(time.Hour))
			horizon := cfg.opts.Unit.Of(month) * float64(cmp.Or(cfg.opts.Periods, 12))
			var worst, worstE float64
			for i := 0; i < len(rows); i += 11 { // a sample: CLV is slow
				v, err := clv.CLV(&m, &paperGG, rows[i], cfg.opts)
				require.NoError(t, err)
				worst = max(worst, relDiff(s.CLV[i], v))
				worstE = max(worstE, relDiff(s.ExpectedPurchases[i], m.ExpectedPurchases(rows[i], horizon)))
			}
			assert.Less(t, worst, 3e-13, "model %+v, options %+v, T to %v: CLV", m, cfg.opts, cfg.maxT)
			assert.Less(t, worstE, 3e-13, "model %+v, options %+v, T to %v: expected purchases", m, cfg.opts, cfg.maxT)
		}
	}
}

// relDiff returns |got − want| / |want|, 0 when both are 0 (a customer
// who surely dropped out) and +Inf when only want is.
func relDiff(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}
