package recommend_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// advShop is a random purchase History of nc customers over np products
// and 120 days, customers buying from a preferred third of the catalogue.
func advShop(t testing.TB, seed uint64, nc, np int) *affinity.History {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	b := affinity.NewBuilder(nil)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range nc {
		for o := range 2 + r.IntN(6) {
			at := start.Add(time.Duration(r.IntN(120*24)) * time.Hour)
			for range 1 + r.IntN(4) {
				p := (c%3)*np/3 + r.IntN(np/2)
				require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%d", c), Product: fmt.Sprintf("p%d", p%np),
					Order: fmt.Sprintf("o%d-%d", c, o), Time: at, Quantity: 1, Price: 100}))
			}
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advValidation is the validation set Tune's doc describes for HoldoutTime:
// customers with an order at or before from and one in (from, to], with
// the products bought (positive quantity) in the window, minus those
// bought before when explore; customers left with none are dropped, and
// of more than maxCustomers the i-th kept is the ⌊i·n/maxCustomers⌋-th.
func advValidation(h *affinity.History, from, to time.Time, maxCustomers int, explore bool) ([]affinity.CustomerID, [][]affinity.ProductID) {
	var users []affinity.CustomerID
	var rels [][]affinity.ProductID
	for c := range affinity.CustomerID(h.NumCustomers()) {
		var rel, old []affinity.ProductID
		before, in := false, false
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			u := h.OrderUnix(o)
			before = before || u <= from.Unix()
			in = in || (u > from.Unix() && u <= to.Unix())
			l0, l1 := h.OrderLines(o)
			for l := l0; l < l1; l++ {
				if h.LineQuantity(l) <= 0 {
					continue
				}
				switch {
				case u <= from.Unix():
					old = append(old, h.LineProduct(l))
				case u <= to.Unix():
					rel = append(rel, h.LineProduct(l))
				}
			}
		}
		if explore {
			rel = slices.DeleteFunc(rel, func(p affinity.ProductID) bool { return slices.Contains(old, p) })
		}
		slices.Sort(rel)
		rel = slices.Compact(rel)
		if !before || !in || len(rel) == 0 {
			continue
		}
		users, rels = append(users, c), append(rels, rel)
	}
	if len(users) <= maxCustomers {
		return users, rels
	}
	// maxCustomers of them, evenly spaced: the i-th at ⌊i·n/max⌋
	var su []affinity.CustomerID
	var sr [][]affinity.ProductID
	for i := range maxCustomers {
		j := i * len(users) / maxCustomers
		su, sr = append(su, users[j]), append(sr, rels[j])
	}
	return su, sr
}

// advScores is every validation customer's NDCG@k of the candidate's
// engine built as of from, recomputed from scratch.
func advScores(t testing.TB, h *affinity.History, c recommend.Candidate, from time.Time, k int, users []affinity.CustomerID, rels [][]affinity.ProductID) []float64 {
	t.Helper()
	e, err := c.New(context.Background(), h, from)
	require.NoError(t, err)
	out := make([]float64, len(users))
	for i, u := range users {
		recs, err := e.Recommend(nil, recommend.Request{CustomerID: u, ByID: true, K: k, AsOf: from, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		var dcg, idcg float64
		for j, r := range recs {
			if slices.Contains(rels[i], r.Product) {
				dcg += 1 / math.Log2(float64(j+2))
			}
		}
		for j := range min(len(rels[i]), k) {
			idcg += 1 / math.Log2(float64(j+2))
		}
		out[i] = dcg / idcg
	}
	return out
}

func advMeanSE(xs []float64) (float64, float64) {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(xs)-1) / float64(len(xs)))
}

// advBetter is the documented one-standard-error rule: a's mean paired
// difference from b is positive and above its standard error.
func advBetter(a, b []float64) bool {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	m, se := advMeanSE(d)
	return m > 0 && m > se
}

// TestAdvTuneMatchesNaiveSearch recomputes every trial's score from its
// candidate and replays the documented coordinate search with the
// one-standard-error rule over the trials in order.
func TestAdvTuneMatchesNaiveSearch(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(4, 1)) {
		h := advShop(t, seed, 120, 40)
		g := recommend.Grid{
			Models:        []recommend.Model{recommend.DefaultModel(), {Measure: similarity.Cosine, Scope: similarity.Customer}},
			HalfLives:     []time.Duration{30 * 24 * time.Hour, 3650 * 24 * time.Hour},
			Blends:        []float64{-1, 0.2},
			RepeatWeights: []float64{0, 0.9},
			MaxCustomers:  50,
			Workers:       1,
		}
		tu, err := recommend.Tune(ctx, h, h.Latest(), g)
		require.NoError(t, err)
		from := h.Latest().Add(-28 * 24 * time.Hour)
		assert.Equal(t, from, tu.From)
		assert.Equal(t, h.Latest(), tu.To)
		users, rels := advValidation(h, from, h.Latest(), 50, false)
		require.Equal(t, len(users), tu.Customers)
		all, _ := advValidation(h, from, h.Latest(), h.NumCustomers(), false)
		require.Greater(t, len(all), 50, "the cap samples")
		// the trials: 2 models, then one more half-life, blend and mix,
		// and a trend only when the best so far is in next-basket mode
		require.GreaterOrEqual(t, len(tu.Trials), 5)
		var best []float64
		var bestTrial recommend.Trial
		for i, tr := range tu.Trials {
			sc := advScores(t, h, tr.Candidate, from, 10, users, rels)
			m, se := advMeanSE(sc)
			assert.InDelta(t, m, tr.NDCG, 1e-9, "trial %d %s", i, tr)
			assert.InDelta(t, se, tr.StdErr, 1e-9, "trial %d %s", i, tr)
			if best == nil || advBetter(sc, best) {
				best, bestTrial = sc, tr
			}
		}
		assert.Equal(t, bestTrial, tu.Best, "seed %d", seed)
	}
}

// TestAdvChooseMatchesNaiveRule recomputes Choose's rule: per model the
// best mean over the half-lives, the first model kept unless another's
// best beats it beyond one standard error of the paired difference.
func TestAdvChooseMatchesNaiveRule(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 3, 150, 40)
	base := recommend.Options{Personalization: 0.3, NextBasket: recommend.NextBasket{RepeatWeight: 0.4}}
	g := recommend.AutoGrid(base)
	g.MinCustomers = 1
	g.Models = []recommend.Model{recommend.DefaultModel(), {Measure: similarity.Cosine, Scope: similarity.Customer}, {Measure: similarity.Jaccard}}
	g.HalfLives = []time.Duration{30 * 24 * time.Hour, 3650 * 24 * time.Hour}
	c, tu, err := recommend.Choose(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	require.NotNil(t, tu)
	require.Len(t, tu.Trials, 3*2)
	from := tu.From
	users, rels := advValidation(h, from, h.Latest(), 3000, true)
	require.Equal(t, len(users), tu.Customers)
	var kept []float64
	var keptTrial recommend.Trial
	for mi := range 3 {
		var top []float64
		var topTrial recommend.Trial
		for hi := range 2 {
			tr := tu.Trials[mi*2+hi]
			assert.Equal(t, g.Models[mi].String(), tr.Candidate.Model.String())
			assert.Equal(t, g.HalfLives[hi], tr.Candidate.Options.HalfLife)
			assert.Zero(t, tr.Candidate.Options.NextBasket.RepeatWeight, "the grid's first mix")
			sc := advScores(t, h, tr.Candidate, from, 10, users, rels)
			m, _ := advMeanSE(sc)
			assert.InDelta(t, m, tr.NDCG, 1e-9)
			if hi == 0 || tr.NDCG > topTrial.NDCG {
				top, topTrial = sc, tr
			}
		}
		if mi == 0 || advBetter(top, kept) {
			kept, keptTrial = top, topTrial
		}
	}
	assert.Equal(t, keptTrial, tu.Best)
	// the candidate: Base's options with the chosen half-life and blend,
	// Base's next-basket mix
	want := base
	want.HalfLife, want.PopularityBlend = keptTrial.Candidate.Options.HalfLife, keptTrial.Candidate.Options.PopularityBlend
	assert.Equal(t, want, c.Options)
	assert.Equal(t, keptTrial.Candidate.Model.String(), c.Model.String())
}

func TestAdvTuneGridValidation(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 1, 60, 20)
	base := func() recommend.Grid {
		return recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, RepeatWeights: []float64{0}, Workers: 1}
	}
	cases := []struct {
		name string
		mod  func(*recommend.Grid)
	}{
		{"NaN blend", func(g *recommend.Grid) { g.Blends = []float64{math.NaN()} }},
		{"Inf blend later", func(g *recommend.Grid) { g.Blends = []float64{-1, math.Inf(1)} }},
		{"mix above 1", func(g *recommend.Grid) { g.RepeatWeights = []float64{1.5} }},
		{"negative mix", func(g *recommend.Grid) { g.RepeatWeights = []float64{-0.5} }},
		{"NaN mix later", func(g *recommend.Grid) { g.RepeatWeights = []float64{0, math.NaN()} }},
		{"NaN trend in next-basket mode", func(g *recommend.Grid) { g.RepeatWeights = []float64{0.5}; g.Trends = []float64{0, math.NaN()} }},
		{"K above MaxK", func(g *recommend.Grid) { g.K = recommend.MaxK + 1 }},
		{"unknown holdout", func(g *recommend.Grid) { g.Holdout = 7 }},
		{"negative MaxCustomers", func(g *recommend.Grid) { g.MaxCustomers = -5 }},
		{"negative MinCustomers", func(g *recommend.Grid) { g.MinCustomers = -3 }},
		{"negative half-life", func(g *recommend.Grid) { g.HalfLives = []time.Duration{0, -time.Hour} }},
		{"NaN trend outside next-basket mode", func(g *recommend.Grid) { g.Trends = []float64{math.NaN()} }},
		{"base invalid", func(g *recommend.Grid) { g.Base.SequentialWeight = math.NaN() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := base()
			tc.mod(&g)
			_, err := recommend.Tune(ctx, h, h.Latest(), g)
			require.ErrorIs(t, err, recommend.ErrInvalidOptions)
		})
	}
}

// TestAdvTuneHostileSizes: negative sizes have no documented meaning; Tune
// returns an error or a result, never panics.
func TestAdvTuneHostileSizes(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 1, 60, 20)
	for _, g := range []recommend.Grid{
		{K: -1},
		{MaxCustomers: -5},
		{MaxCustomers: 1},
		{MinCustomers: -3},
		{Validation: -time.Hour},
		{Validation: time.Duration(math.MaxInt64)},
		{Validation: time.Second},
	} {
		g.Models, g.HalfLives, g.Blends, g.RepeatWeights, g.Workers = []recommend.Model{recommend.DefaultModel()}, []time.Duration{0}, []float64{-1}, []float64{0}, 1
		require.NotPanics(t, func() {
			tu, err := recommend.Tune(ctx, h, h.Latest(), g)
			if err == nil {
				assert.Positive(t, tu.Customers)
				if g.MaxCustomers > 0 {
					assert.LessOrEqual(t, tu.Customers, g.MaxCustomers)
				}
			}
		}, "%+v", g)
	}
}
func TestAdvTuneTooManyWorkers(t *testing.T) {
	h := advShop(t, 1, 60, 20)
	_, err := recommend.Tune(context.Background(), h, h.Latest(), recommend.Grid{Workers: recommend.MaxWorkers + 1, Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, RepeatWeights: []float64{0}})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
}
func TestAdvTuneNegativeK(t *testing.T) {
	h := advShop(t, 1, 60, 20)
	_, err := recommend.Tune(context.Background(), h, h.Latest(), recommend.Grid{K: -1, Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, RepeatWeights: []float64{0}})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
}
func TestAdvTuneNegativeValidation(t *testing.T) {
	h := advShop(t, 1, 60, 20)
	_, err := recommend.Tune(context.Background(), h, h.Latest(), recommend.Grid{Validation: -time.Hour, Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, RepeatWeights: []float64{0}})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
}

func TestAdvTuneNoValidation(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 1, 60, 20)
	one := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1}, RepeatWeights: []float64{0}}
	// asOf before the first order: nobody bought before the window
	_, err := recommend.Tune(ctx, h, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), one)
	require.ErrorIs(t, err, recommend.ErrNoValidation)
	// more customers required than there are
	g := one
	g.MinCustomers = h.NumCustomers() + 1
	_, err = recommend.Tune(ctx, h, h.Latest(), g)
	require.ErrorIs(t, err, recommend.ErrNoValidation)
	// Choose: the defaults stand, no Tuning
	c, tu, err := recommend.Choose(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	assert.Nil(t, tu)
	assert.Equal(t, recommend.ModelFor(h).String(), c.Model.String())
	assert.Equal(t, g.Base, c.Options)
	// HoldoutRandom: asOf before every order
	g = one
	g.Holdout = recommend.HoldoutRandom
	_, err = recommend.Tune(ctx, h, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), g)
	require.ErrorIs(t, err, recommend.ErrNoValidation)
}

func TestAdvTuneNilArgs(t *testing.T) {
	h := advShop(t, 1, 30, 20)
	var nilCtx context.Context
	ctx := context.Background()
	_, err := recommend.Tune(nilCtx, h, h.Latest(), recommend.Grid{})
	assert.Error(t, err)
	_, err = recommend.Tune(ctx, nil, h.Latest(), recommend.Grid{})
	assert.Error(t, err)
	_, err = recommend.Tune(ctx, h, time.Time{}, recommend.Grid{})
	assert.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, _, err = recommend.Choose(nilCtx, h, h.Latest(), recommend.Grid{})
	assert.Error(t, err)
	_, _, err = recommend.Choose(ctx, nil, h.Latest(), recommend.Grid{})
	assert.Error(t, err)
	_, _, err = recommend.Choose(ctx, h, time.Time{}, recommend.Grid{})
	assert.ErrorIs(t, err, affinity.ErrNoAsOf)
	c := recommend.Candidate{Model: recommend.DefaultModel()}
	_, err = c.New(nilCtx, h, h.Latest())
	assert.Error(t, err)
	_, err = c.New(ctx, nil, h.Latest())
	assert.Error(t, err)
	_, err = c.New(ctx, h, time.Time{})
	assert.ErrorIs(t, err, affinity.ErrNoAsOf)
	bad := recommend.Candidate{Options: recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 2}}}
	_, err = bad.New(ctx, h, h.Latest())
	assert.ErrorIs(t, err, recommend.ErrInvalidOptions)
}

func TestAdvTuneCancelled(t *testing.T) {
	h := advShop(t, 1, 60, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := recommend.Tune(ctx, h, h.Latest(), recommend.Grid{Workers: 1})
	require.ErrorIs(t, err, context.Canceled)
	g := recommend.AutoGrid(recommend.Options{})
	g.MinCustomers = 1
	_, _, err = recommend.Choose(ctx, h, h.Latest(), g)
	require.ErrorIs(t, err, context.Canceled)
	_, err = recommend.Candidate{Model: recommend.DefaultModel()}.New(ctx, h, h.Latest())
	require.ErrorIs(t, err, context.Canceled)
}
func TestAdvChooseCancelledSmallShop(t *testing.T) {
	h := advShop(t, 1, 30, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := recommend.Choose(ctx, h, h.Latest(), recommend.AutoGrid(recommend.Options{})) // fewer than AutoMinCustomers
	require.ErrorIs(t, err, context.Canceled)
}

// TestAdvTuneDeterministic: the same seed gives the same Tuning, whatever
// the workers; another seed may hold out other products.
func TestAdvTuneDeterministic(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 5, 80, 30)
	g := recommend.Grid{Holdout: recommend.HoldoutRandom, Seed: 9, Models: []recommend.Model{recommend.DefaultModel()},
		HalfLives: []time.Duration{0, 3650 * 24 * time.Hour}, Blends: []float64{-1}, RepeatWeights: []float64{0, 0.7}, Workers: 1}
	a, err := recommend.Tune(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	g.Workers = 2
	b, err := recommend.Tune(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, h.Latest(), a.From, "From = To = asOf with HoldoutRandom")
	assert.Equal(t, h.Latest(), a.To)
	assert.Contains(t, a.Trials, a.Best)
}

// TestAdvTuneTrends: Trends are tried only in next-basket mode, and each
// value maps to the documented exponents.
func TestAdvTuneTrends(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 2, 80, 30)
	g := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1},
		RepeatWeights: []float64{1}, Trends: []float64{0, -3, 0.8}, Workers: 1}
	var last affinity.Progress
	g.Progress = func(p affinity.Progress) { last = p }
	tu, err := recommend.Tune(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	require.Len(t, tu.Trials, 3)
	want := [][2]float64{{0, 0}, {-1, -1}, {0.8, 0.8}}
	for i, tr := range tu.Trials {
		nb := tr.Candidate.Options.NextBasket
		assert.Equal(t, want[i], [2]float64{nb.Trend, nb.Demand}, tr.String())
		assert.Equal(t, 1.0, nb.RepeatWeight)
	}
	assert.Equal(t, last.Total, last.Done, "progress ends at its total")
}
func TestAdvTuneProgressCompletesWithoutTrend(t *testing.T) {
	h := advShop(t, 2, 80, 30)
	var last affinity.Progress
	g := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0}, Blends: []float64{-1},
		RepeatWeights: []float64{0}, Trends: []float64{0, -3, 0.8}, Workers: 1, Progress: func(p affinity.Progress) { last = p }}
	tu, err := recommend.Tune(context.Background(), h, h.Latest(), g)
	require.NoError(t, err)
	require.Len(t, tu.Trials, 1)
	assert.Equal(t, last.Total, last.Done)
}

// TestAdvNextBasketValidation: RepeatWeight and IntervalWeight in [0, 1],
// finite exponents, non-negative durations.
func TestAdvNextBasketValidation(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 1, 30, 20)
	idx, err := recommend.DefaultModel().Index(ctx, h, h.Latest())
	require.NoError(t, err)
	for _, nb := range []recommend.NextBasket{
		{RepeatWeight: -0.1}, {RepeatWeight: 1.0001}, {RepeatWeight: math.NaN()}, {RepeatWeight: math.Inf(1)},
		{RepeatWeight: 0.5, IntervalWeight: 2}, {RepeatWeight: 0.5, HalfLife: -time.Second},
		{RepeatWeight: 0.5, Trend: math.NaN()}, {RepeatWeight: 0.5, Demand: math.Inf(-1)}, {RepeatWeight: 0.5, Propensity: math.Inf(1)},
		{RepeatWeight: 0.5, TrendWindow: -time.Hour},
	} {
		_, err := recommend.New(ctx, h, idx, h.Latest(), recommend.Options{NextBasket: nb})
		assert.ErrorIs(t, err, recommend.ErrInvalidOptions, "%+v", nb)
	}
	for _, nb := range []recommend.NextBasket{
		{}, {RepeatWeight: 1}, {RepeatWeight: 0.5, Trend: -1, Demand: -1, Propensity: -1}, {RepeatWeight: 1, HalfLife: time.Nanosecond},
		{RepeatWeight: 1, HalfLife: time.Duration(math.MaxInt64), TrendWindow: time.Duration(math.MaxInt64)}, {RepeatWeight: 1, Trend: 1e300, Demand: 1e300},
	} {
		e, err := recommend.New(ctx, h, idx, h.Latest(), recommend.Options{NextBasket: nb})
		require.NoError(t, err, "%+v", nb)
		recs, err := e.Recommend(nil, recommend.Request{CustomerID: 0, ByID: true, K: 10})
		require.NoError(t, err)
		for _, r := range recs {
			assert.False(t, math.IsNaN(float64(r.Score)) || math.IsInf(float64(r.Score), 0), "%+v: %v", nb, r)
		}
	}
}

// TestAdvNextBasketRepeatWeightOne: with RepeatWeight 1 the customer's own
// items come first, then explore items.
func TestAdvNextBasketRepeatWeightOne(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 4, 60, 30)
	e, err := recommend.Candidate{Model: recommend.DefaultModel(), Options: recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 1}}}.New(ctx, h, h.Latest())
	require.NoError(t, err)
	for c := range h.NumCustomers() {
		own := map[affinity.ProductID]bool{}
		lo, hi := h.CustomerOrders(affinity.CustomerID(c))
		for o := lo; o < hi; o++ {
			l0, l1 := h.OrderLines(o)
			for l := l0; l < l1; l++ {
				own[h.LineProduct(l)] = true
			}
		}
		recs, err := e.Recommend(nil, recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 20, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		seenOther := false
		for _, r := range recs {
			if !own[r.Product] {
				seenOther = true
				continue
			}
			assert.False(t, seenOther, "customer %d: own product %d after an explore item", c, r.Product)
			assert.Equal(t, recommend.Repeat, r.Source)
		}
	}
}
