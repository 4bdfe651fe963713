package shop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

// easeGrid tunes over EASE within customers only, so that the best
// candidate is known: a learned model, 90-day half-life, no blend.
func easeGrid() *recommend.Grid {
	return &recommend.Grid{Models: []recommend.Model{{Measure: similarity.EASE, Scope: similarity.Customer}},
		HalfLives: []time.Duration{90 * 24 * time.Hour}, Blends: []float64{-1}, RepeatWeights: []float64{0}}
}

// TestTuneChoosesTheEngine checks that a tuned shop serves exactly the
// best candidate's engine (an EASE model without the non-merchandise),
// that a refresh keeps the choice and refits the model, and that the
// non-merchandise never appears.
func TestTuneChoosesTheEngine(t *testing.T) {
	ctx := context.Background()
	src, _ := nonMerchShop(t)
	s, err := shop.Open(ctx, src, shop.Options{Tune: easeGrid()})
	require.NoError(t, err)
	check := func(snap *shop.Snapshot) {
		tu := snap.Tuning()
		require.NotNil(t, tu)
		best := tu.Best.Candidate
		require.Equal(t, similarity.EASE, best.Model.Measure)
		h, asOf, non := snap.History(), snap.AsOf(), snap.NonMerchandise()
		idx, err := similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer, Exclude: non}})
		require.NoError(t, err)
		want, err := recommend.New(ctx, h, idx, asOf, recommend.Options{Exclude: non, HalfLife: best.Options.HalfLife, PopularityBlend: best.Options.PopularityBlend})
		require.NoError(t, err)
		requireServes(t, snap, want, 8)
	}
	first := s.Snapshot()
	check(first)

	// a refresh keeps the tuning and refits the model on the new data
	h := first.History()
	c := affinity.CustomerID(0)
	lo, _ := h.CustomerOrders(c)
	extra := affinity.Purchase{Customer: h.CustomerKey(c), Product: h.Catalog().ProductKey(h.LineProduct(0)), Order: "late-1",
		Time: h.OrderTime(lo).Add(400 * 24 * time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(3)}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(func(yield func(affinity.Purchase) bool) { yield(extra) })))
	// the refit runs in the background (ModelRefit's zero value): until
	// it is served, the snapshot taken depended on timing, the refreshed
	// one with the last fit or the one with the new fit
	require.NoError(t, s.WaitModel(ctx))
	second := s.Snapshot()
	require.True(t, second.ModelCurrent())
	require.NotSame(t, first, second)
	require.Same(t, first.Tuning(), second.Tuning())
	check(second)
}

// TestTuneWithoutValidationKeepsDefaults opens a shop whose customers
// bought once each: there is nothing to validate on, and the shop opens
// with the defaults and no Tuning.
func TestTuneWithoutValidationKeepsDefaults(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var lines []affinity.Purchase
	for i := range 20 {
		lines = append(lines, affinity.Purchase{Customer: string(rune('a' + i)), Product: "p" + string(rune('a'+i%5)),
			Time: at.Add(time.Duration(i) * 24 * time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(2)})
	}
	s, err := shop.Open(ctx, shop.Purchases(func(yield func(affinity.Purchase) bool) {
		for _, p := range lines {
			if !yield(p) {
				return
			}
		}
	}), shop.Options{Tune: &recommend.Grid{}})
	require.NoError(t, err)
	require.Nil(t, s.Snapshot().Tuning())
	res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: "a", K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)

	// an empty shop opens, and its first orders arrive, with the defaults
	s, err = shop.Open(ctx, shop.Purchases(func(func(affinity.Purchase) bool) {}), shop.Options{Tune: &recommend.Grid{}})
	require.NoError(t, err)
	require.Nil(t, s.Snapshot().Tuning())
	require.NoError(t, s.Refresh(ctx, shop.Purchases(func(yield func(affinity.Purchase) bool) {
		for _, p := range lines {
			if !yield(p) {
				return
			}
		}
	})))
	require.Nil(t, s.Snapshot().Tuning())
	require.Equal(t, len(lines), s.Snapshot().History().NumLines())
}

// requireServes checks that snap serves every customer of its History
// exactly what want recommends (K each), never non-merchandise nor a
// reason that is, and serves something.
func requireServes(t *testing.T, snap *shop.Snapshot, want *recommend.Engine, k int) {
	t.Helper()
	ctx := context.Background()
	h := snap.History()
	served := 0
	for c := range affinity.CustomerID(h.NumCustomers()) {
		res, err := snap.Recommend(ctx, shop.Request{Customer: h.CustomerKey(c), K: k})
		require.NoError(t, err)
		exp, err := want.Recommend(nil, recommend.Request{CustomerID: c, ByID: true, K: k})
		require.NoError(t, err)
		require.Len(t, res.Recs, len(exp), "customer %s", h.CustomerKey(c))
		for i, r := range res.Recs {
			require.Equal(t, h.Catalog().ProductKey(exp[i].Product), r.Product, "customer %s, rank %d", h.CustomerKey(c), i)
			require.False(t, snap.IsNonMerchandise(r.Product))
			for _, x := range r.Reasons() {
				require.False(t, snap.IsNonMerchandise(x.Product))
			}
		}
		served += len(res.Recs)
	}
	require.Positive(t, served)
}

// TestTuneKeepsTheTrendChoice: a tuned shop in next-basket mode serves
// the tuned trend setting, not the engine's default.
func TestTuneKeepsTheTrendChoice(t *testing.T) {
	ctx := context.Background()
	src, _ := nonMerchShop(t)
	grid := easeGrid()
	grid.RepeatWeights, grid.Trends = []float64{0.9}, []float64{-1}
	s, err := shop.Open(ctx, src, shop.Options{Tune: grid})
	require.NoError(t, err)
	snap := s.Snapshot()
	best := snap.Tuning().Best.Candidate
	require.Equal(t, recommend.NextBasket{RepeatWeight: 0.9, Trend: -1, Demand: -1}, best.Options.NextBasket)
	h, asOf, non := snap.History(), snap.AsOf(), snap.NonMerchandise()
	idx, err := similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer, Exclude: non}})
	require.NoError(t, err)
	engine := func(nb recommend.NextBasket) *recommend.Engine {
		e, err := recommend.New(ctx, h, idx, asOf, recommend.Options{Exclude: non, HalfLife: best.Options.HalfLife,
			PopularityBlend: best.Options.PopularityBlend, NextBasket: nb})
		require.NoError(t, err)
		return e
	}
	off, on := engine(best.Options.NextBasket), engine(recommend.NextBasket{RepeatWeight: 0.9})
	// the test can fail: on this shop the trend changes some lists
	differ := false
	for c := range affinity.CustomerID(h.NumCustomers()) {
		a, err := off.Recommend(nil, recommend.Request{CustomerID: c, ByID: true, K: 8})
		require.NoError(t, err)
		b, err := on.Recommend(nil, recommend.Request{CustomerID: c, ByID: true, K: 8})
		require.NoError(t, err)
		for i := range min(len(a), len(b)) {
			differ = differ || a[i].Product != b[i].Product
		}
	}
	require.True(t, differ, "the trend changes nothing on this shop")
	requireServes(t, snap, off, 8)
}
