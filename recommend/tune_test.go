package recommend_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

func TestTune(t *testing.T) {
	ctx := context.Background()
	h := demoHistory(t)
	grid := recommend.Grid{
		Models:        []recommend.Model{recommend.DefaultModel(), {Measure: similarity.Cosine, Scope: similarity.Customer}},
		HalfLives:     []time.Duration{30 * 24 * time.Hour, 90 * 24 * time.Hour},
		RepeatWeights: []float64{0, 0.9},
		MaxCustomers:  500,
	}
	tu, err := recommend.Tune(ctx, h, h.Latest(), grid)
	require.NoError(t, err)
	// coordinate search: 2 models, then 1 more of each other dimension
	// (the trend tried because the best so far is in next-basket mode)
	require.Len(t, tu.Trials, 2+1+1+1+1)
	last := tu.Trials[len(tu.Trials)-1].Candidate.Options.NextBasket
	assert.Equal(t, recommend.NextBasket{RepeatWeight: 0.9, Trend: -1, Demand: -1}, last, "the trend step turns both exponents off")
	best := tu.Trials[0]
	for _, tr := range tu.Trials {
		if tr.NDCG > best.NDCG {
			best = tr
		}
	}
	// the best is one of the trials, within noise of the highest score
	assert.Contains(t, tu.Trials, tu.Best)
	assert.InDelta(t, best.NDCG, tu.Best.NDCG, 2*best.StdErr)
	assert.Equal(t, 0.9, tu.Best.Candidate.Options.NextBasket.RepeatWeight, "the demo store re-buys: next-basket mode wins on all items")
	assert.Equal(t, h.Latest().Add(-28*24*time.Hour), tu.From)
	assert.Positive(t, tu.Customers)
	assert.LessOrEqual(t, tu.Customers, 500)

	// outside next-basket mode the trend is not tried
	explore := grid
	explore.RepeatWeights = []float64{0}
	ex, err := recommend.Tune(ctx, h, h.Latest(), explore)
	require.NoError(t, err)
	require.Len(t, ex.Trials, 2+1+1)
	for _, tr := range ex.Trials {
		assert.Zero(t, tr.Candidate.Options.NextBasket, tr.String())
	}

	// deterministic, whatever the workers
	grid.Workers = 1
	again, err := recommend.Tune(ctx, h, h.Latest(), grid)
	require.NoError(t, err)
	for i := range tu.Trials {
		assert.Equal(t, tu.Trials[i].NDCG, again.Trials[i].NDCG, tu.Trials[i].String())
	}

	// the validation window is held out: its score is that of an engine
	// built as of its start, with requests as of its start
	e, err := tu.Best.Candidate.New(ctx, h, tu.From)
	require.NoError(t, err)
	assert.Equal(t, tu.From, e.AsOf())

	_, err = recommend.Tune(ctx, h, time.Time{}, grid)
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = recommend.Tune(ctx, h, h.Latest(), recommend.Grid{K: recommend.MaxK + 1})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
	_, err = recommend.Tune(ctx, h, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), grid)
	require.ErrorIs(t, err, recommend.ErrNoValidation)
}

// TestTuneKeepsTheDefaultWithinNoise: a candidate replaces the best so
// far only when it leads beyond one standard error of the paired
// per-customer difference. On the demo-shaped store of seed 9 with the
// default grid the next-basket trend turned off scores a little higher
// on validation than the default trend (0.012 standard errors ahead),
// within noise, so Tune keeps the default; the plain maximum, which it
// used before, took the other.
//
// That situation depends on the store: on demo-shaped stores of seeds
// 1–10 it arose on seeds 9 and 10 (on 10 with a repeat weight of 0.7
// 0.023 standard errors ahead), and on the other eight the highest score
// was the choice. So every store checked (seed 9; under testdata.Long the
// demo and seed 2 too, where the highest is chosen) must have its choice
// within a standard error of the highest score, with the same model,
// and, where they differ, the choice keeps the default trend that the
// highest turned off; and the rule must have kept the default on one of
// them at least, seed 9. Taking the plain maximum fails that.
func TestTuneKeepsTheDefaultWithinNoise(t *testing.T) {
	ctx := context.Background()
	seeds := []uint64{9}
	var stores []*affinity.History
	if testdata.Long() {
		stores = append(stores, demoHistory(t))
		seeds = append(seeds, 2)
	}
	for _, seed := range seeds {
		h, err := dataset.Generate(dataset.SyntheticOptions{Seed: seed}).History(ctx)
		require.NoError(t, err)
		stores = append(stores, h)
	}
	kept := 0 // stores where the highest score is not the choice
	for i, h := range stores {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			tu, err := recommend.Tune(ctx, h, h.Latest(), recommend.Grid{})
			require.NoError(t, err)
			top := tu.Trials[0]
			for _, tr := range tu.Trials {
				if tr.NDCG > top.NDCG {
					top = tr
				}
			}
			assert.Less(t, top.NDCG-tu.Best.NDCG, top.StdErr, "within noise")
			assert.Equal(t, top.Candidate.Model, tu.Best.Candidate.Model)
			if reflect.DeepEqual(top, tu.Best) {
				return
			}
			kept++
			t.Logf("the default kept within %.2f standard errors of the highest score", (top.NDCG-tu.Best.NDCG)/top.StdErr)
			assert.Less(t, top.Candidate.Options.NextBasket.Trend, 0.0, "the highest turned the trend off")
			assert.Zero(t, tu.Best.Candidate.Options.NextBasket.Trend, "the choice keeps the default trend")
		})
	}
	assert.Positive(t, kept, "the highest score is not the choice on any store")
}

// windowShop returns a shop of n customers, each buying x on day 0 and,
// on day 40, y (new to them) when newOnes(i), else x again; the
// validation window of asOf day 40 is its last 28 days.
func windowShop(t *testing.T, n int, newOnes func(i int) bool) (*affinity.History, time.Time) {
	t.Helper()
	day := func(d int) time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	var b affinity.Builder
	for _, p := range []string{"x", "y"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Categories: []string{"A/" + p}, InStock: true, Price: 100}))
	}
	for i := range n {
		c := fmt.Sprintf("c%04d", i)
		later := "x"
		if newOnes(i) {
			later = "y"
		}
		for o, p := range map[int]string{0: "x", 40: later} {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: fmt.Sprint(o), Time: day(o), Quantity: 1, Price: 100}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h, day(40)
}

// MaxCustomers caps the customers with products to score, whoever else
// bought before and in the window: exactly min(qualifying, cap) of them.
func TestTuneMaxCustomersCountsQualifyingCustomers(t *testing.T) {
	ctx := context.Background()
	grid := recommend.Grid{Explore: true, Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, Workers: 1}
	for _, tc := range []struct{ n, every, max int }{
		{20, 2, 10}, {20, 2, 7}, {30, 3, 10}, {31, 3, 4}, {40, 4, 1}, {12, 1, 5}, {12, 5, 100},
	} {
		t.Run(fmt.Sprintf("n=%d every=%d max=%d", tc.n, tc.every, tc.max), func(t *testing.T) {
			h, asOf := windowShop(t, tc.n, func(i int) bool { return i%tc.every == tc.every-1 })
			g := grid
			g.MaxCustomers = tc.max
			tu, err := recommend.Tune(ctx, h, asOf, g)
			require.NoError(t, err)
			assert.Equal(t, min(tc.n/tc.every, tc.max), tu.Customers)
		})
	}
}

// The error of a window without validation customers says why: nobody
// bought before and in it, or (with Explore) nobody bought something new.
func TestTuneNoValidationSaysWhy(t *testing.T) {
	ctx := context.Background()
	h, asOf := windowShop(t, 3, func(int) bool { return false })
	_, err := recommend.Tune(ctx, h, asOf, recommend.Grid{Explore: true})
	require.ErrorIs(t, err, recommend.ErrNoValidation)
	assert.Contains(t, err.Error(), "3 customers bought or rated both before")
	assert.Contains(t, err.Error(), "none a product new to them")

	_, err = recommend.Tune(ctx, h, asOf.AddDate(0, 0, 60), recommend.Grid{Explore: true})
	require.ErrorIs(t, err, recommend.ErrNoValidation)
	assert.Contains(t, err.Error(), "no customer bought or rated both before")
}

// Choose checks the Grid before it looks at the data: rating data,
// which is not validated on, gets the same errors as a shop.
func TestChooseInvalidGridOnRatings(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []string{"x", "y", "z"} {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: "u", Product: p, Time: at.AddDate(0, 0, i*20), Kind: affinity.Rating, Weight: 4}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	_, tu, err := recommend.Choose(ctx, h, h.Latest(), recommend.Grid{})
	require.NoError(t, err, "a valid grid")
	require.Nil(t, tu, "rating data is not validated on")
	for name, g := range map[string]recommend.Grid{
		"K -1":              {K: -1},
		"Validation -1h":    {Validation: -time.Hour},
		"Holdout 7":         {Holdout: 7},
		"Workers":           {Workers: recommend.MaxWorkers + 1},
		"MaxCustomers -1":   {MaxCustomers: -1},
		"MinCustomers -1":   {MinCustomers: -1},
		"NaN blend":         {Blends: []float64{0.2, math.NaN()}},
		"negative HalfLife": {HalfLives: []time.Duration{-time.Hour}},
	} {
		_, _, err := recommend.Choose(ctx, h, h.Latest(), g)
		require.ErrorIs(t, err, recommend.ErrInvalidOptions, name)
	}
}

// With HoldoutRandom too, MaxCustomers keeps exactly that many of more
// customers with MinHoldoutProducts products.
func TestTuneRandomHoldoutMaxCustomers(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 1, 60, 20)
	qualify := 0
	for c := range affinity.CustomerID(h.NumCustomers()) {
		var ps []affinity.ProductID
		lo, hi := h.CustomerLines(c)
		for l := lo; l < hi; l++ {
			if h.LineQuantity(l) > 0 {
				ps = append(ps, h.LineProduct(l))
			}
		}
		slices.Sort(ps)
		if len(slices.Compact(ps)) >= recommend.MinHoldoutProducts {
			qualify++
		}
	}
	require.Greater(t, qualify, 3)
	for _, limit := range []int{qualify - 1, qualify/2 + 1} {
		tu, err := recommend.Tune(ctx, h, h.Latest(), recommend.Grid{Holdout: recommend.HoldoutRandom, MaxCustomers: limit, Explore: true,
			Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, Workers: 1})
		require.NoError(t, err)
		assert.Equal(t, limit, tu.Customers, "of %d customers", qualify)
	}
}
