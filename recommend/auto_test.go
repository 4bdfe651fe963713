package recommend_test

import (
	"context"
	"fmt"
	"sync"
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

// tasteShopOnce builds tasteShop's History once for the tests that use it.
var tasteShopOnce = sync.OnceValues(func() (*affinity.History, error) {
	return dataset.Generate(dataset.SyntheticOptions{Customers: 1000, Products: 400, Categories: 19, MeanOrders: 44,
		MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1, Seed: 5}).History(context.Background())
})

// tasteShop is a store shaped like MovieLens: many small orders, almost
// no product bought twice, where what a customer likes says more than
// what an order holds together. It is built once and shared: read it,
// never change it.
func tasteShop(t *testing.T) *affinity.History {
	t.Helper()
	h, err := tasteShopOnce()
	require.NoError(t, err)
	return h
}

// TestChoose: the choice is Tune's best on AutoGrid — EASE on the
// taste-shaped store; on the demo store the co-purchase neighbours unless
// EASE leads beyond noise — with the base options otherwise, and a
// progress report that reaches its total.
//
// On taste-shaped stores of seeds 5–12 EASE led the neighbours' best
// validation NDCG@10 by 0.044–0.071, three to four and a half times a
// trial's standard error, and was chosen on every one. On demo-shaped stores
// (seeds 1–8) the two are close: the neighbours were kept on seeds 1, 5
// and 7 (EASE 0.005 behind to 0.004 ahead, a fifth of a standard error)
// and EASE chosen on the other five (0.016–0.049 ahead, 0.8–2.2 standard
// errors: Choose weighs the paired differences). So the demo
// store (seed 1), where the neighbours are kept, is checked for the rule
// rather than the model: the neighbours are kept only while EASE's best
// leads theirs by less than a standard error, EASE is chosen only when
// it leads. Choosing EASE regardless fails it (0.005 behind), so would
// keeping the neighbours on seed 6 (EASE 0.049, 2.2 standard errors,
// ahead).
func TestChoose(t *testing.T) {
	ctx := context.Background()
	ease := recommend.Model{Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: recommend.DefaultEASEMaxDense}
	demo := demoHistory(t)
	for _, tc := range []struct {
		name string
		h    *affinity.History
		want recommend.Model
	}{{"taste", tasteShop(t), ease}, {"demo", demo, recommend.DefaultModel()}} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			base := recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}, Personalization: 0.3}
			g := recommend.AutoGrid(base)
			var first, last affinity.Progress
			reports := 0
			g.Progress = func(p affinity.Progress) {
				if reports == 0 {
					first = p
				}
				reports++
				last = p
			}
			c, tu, err := recommend.Choose(ctx, h, h.Latest(), g)
			require.NoError(t, err)
			require.NotNil(t, tu)
			if tc.name == "taste" {
				assert.Equal(t, tc.want, c.Model, "%v", tu.Trials)
			} else {
				assertDefaultWithinNoise(t, tu, c.Model)
			}
			assert.GreaterOrEqual(t, tu.Customers, recommend.AutoMinCustomers)
			// every model at every half-life
			require.Len(t, tu.Trials, 6)
			// the step starts at 0 (a progress line shows it during the
			// first candidate's fit) and counts every candidate
			assert.Equal(t, affinity.Progress{Step: "tune", Total: 6, Unit: "candidates"}, first)
			assert.Equal(t, affinity.Progress{Step: "tune", Done: 6, Total: 6, Unit: "candidates"}, last)
			assert.Equal(t, 7, reports)
			// Best is the chosen model's best half-life
			assert.Equal(t, tu.Best.Candidate.Model, c.Model)
			assert.Equal(t, tu.Best.Candidate.Options.HalfLife, c.Options.HalfLife)
			for _, tr := range tu.Trials {
				assert.Positive(t, tr.StdErr, tr.String())
				if tr.Candidate.Model.String() == c.Model.String() {
					assert.LessOrEqual(t, tr.NDCG, tu.Best.NDCG, tr.String())
				}
			}
			// the same trials, whatever the workers (the quick suite
			// checks it on the taste store only: the same models and
			// half-lives, a quarter of the demo's products)
			g.Workers, g.Progress = 1, nil
			if testdata.Long() || tc.name == "taste" {
				_, again, err := recommend.Choose(ctx, h, h.Latest(), g)
				require.NoError(t, err)
				assert.Equal(t, tu.Trials, again.Trials)
			}
			// the rest is the base's: the next-basket mix is not validated
			got := c.Options
			got.HalfLife = 0
			assert.Equal(t, base, got)

			// a half-life set in the base is kept: models only (the
			// quick suite checks it on the taste store only, as the
			// workers above: the rule does not depend on the store, and
			// on the demo its EASE fit is most of the test)
			if !testdata.Long() && tc.name != "taste" {
				return
			}
			base.HalfLife = 45 * 24 * time.Hour
			g = recommend.AutoGrid(base)
			c, tu, err = recommend.Choose(ctx, h, h.Latest(), g)
			require.NoError(t, err)
			assert.Len(t, tu.Trials, 2)
			assert.Equal(t, base.HalfLife, c.Options.HalfLife)
		})
	}
}

// assertDefaultWithinNoise requires the choice among Tune's trials to be
// the default model unless EASE's best trial leads the default's best by
// a standard error or more, and EASE only when it leads.
func assertDefaultWithinNoise(t *testing.T, tu *recommend.Tuning, chosen recommend.Model) {
	t.Helper()
	best := map[similarity.Measure]recommend.Trial{}
	for _, tr := range tu.Trials {
		m := tr.Candidate.Model.Measure
		if b, ok := best[m]; !ok || tr.NDCG > b.NDCG {
			best[m] = tr
		}
	}
	def, ease := best[recommend.DefaultModel().Measure], best[similarity.EASE]
	require.NotZero(t, def.StdErr, "%v", tu.Trials)
	require.NotZero(t, ease.StdErr, "%v", tu.Trials)
	t.Logf("EASE's best leads the default's by %.4f, %.2f standard errors", ease.NDCG-def.NDCG, (ease.NDCG-def.NDCG)/ease.StdErr)
	switch chosen.String() {
	case recommend.DefaultModel().String():
		assert.Less(t, ease.NDCG-def.NDCG, ease.StdErr, "the default kept: EASE leads within noise")
	case ease.Candidate.Model.String():
		assert.Greater(t, ease.NDCG, def.NDCG, "EASE chosen: it leads")
	default:
		t.Errorf("chose %v, neither the default nor EASE: %v", chosen, tu.Trials)
	}
}

// TestChooseWithoutValidation: rating data, too few validation customers
// and a cancelled context.
func TestChooseWithoutValidation(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 300 {
		for j := range 6 {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprint("u", c), Product: fmt.Sprint("m", (c*7+j*3)%50),
				Time: t0.AddDate(0, 0, 10*j+c%9), Kind: affinity.Rating, Weight: 4}))
		}
	}
	ratings, err := b.Build(ctx)
	require.NoError(t, err)
	c, tu, err := recommend.Choose(ctx, ratings, ratings.Latest(), recommend.AutoGrid(recommend.Options{}))
	require.NoError(t, err)
	assert.Nil(t, tu, "rating data is not validated")
	assert.Equal(t, recommend.ModelFor(ratings), c.Model)

	// the taste store with its validation window cut to a day has fewer
	// validation customers than AutoMinCustomers: the default model, no
	// table, no error
	h := tasteShop(t)
	g := recommend.AutoGrid(recommend.Options{})
	g.Validation = 24 * time.Hour
	c, tu, err = recommend.Choose(ctx, h, h.Latest(), g)
	require.NoError(t, err)
	assert.Nil(t, tu)
	assert.Equal(t, recommend.DefaultModel(), c.Model)
	_, err = recommend.Tune(ctx, h, h.Latest(), g)
	require.ErrorIs(t, err, recommend.ErrNoValidation)
	g.MinCustomers = 1
	_, err = recommend.Tune(ctx, h, h.Latest(), g)
	require.NoError(t, err, "the same window, without the minimum")

	// a catalogue above AutoMaxProducts keeps the neighbours unvalidated,
	// however much history there is to validate on
	var big affinity.Builder
	for p := range recommend.AutoMaxProducts + 1 {
		require.NoError(t, big.AddProduct(affinity.Product{Key: fmt.Sprint("p", p)}))
	}
	for p := range h.Purchases() {
		if err := big.Add(p); err != nil { // require only on an error: it costs more than Add
			require.NoError(t, err)
		}
	}
	bh, err := big.Build(ctx)
	require.NoError(t, err)
	g.Validation, g.MinCustomers = 0, 1
	_, err = recommend.Tune(ctx, bh, bh.Latest(), g)
	require.NoError(t, err, "there is history to validate on")
	c, tu, err = recommend.Choose(ctx, bh, bh.Latest(), g)
	require.NoError(t, err)
	assert.Nil(t, tu)
	assert.Equal(t, recommend.DefaultModel(), c.Model)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = recommend.Choose(cctx, h, h.Latest(), recommend.AutoGrid(recommend.Options{}))
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = recommend.Choose(ctx, h, time.Time{}, recommend.AutoGrid(recommend.Options{}))
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
}
