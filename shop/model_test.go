package shop_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

// ratingHistory returns rating data: rating events of 60 customers on 40
// products, no orders.
func ratingHistory(t *testing.T) *affinity.History {
	t.Helper()
	r := rand.New(rand.NewPCG(4, 4))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for c := range 60 {
		taste := r.IntN(4)
		for j := range 4 + r.IntN(10) {
			p := taste*10 + r.IntN(10)
			if r.IntN(5) == 0 {
				p = r.IntN(40)
			}
			require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprint("u", c), Product: fmt.Sprint("m", p),
				Time: t0.Add(time.Duration(c*24+j) * time.Hour), Kind: affinity.Rating, Weight: float32(1 + r.IntN(5))}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestModelOption checks Options.Model: by default a shop of rating data
// scores with EASE within customers (recommend.ModelFor) and serves
// exactly the engine built on it, a shop of purchases with the
// co-purchase neighbours; "neighbours" and "ease" force either; anything
// else is an error.
func TestModelOption(t *testing.T) {
	ctx := context.Background()
	ratings := ratingHistory(t)
	s, err := shop.OpenHistory(ctx, ratings, shop.Options{})
	require.NoError(t, err)
	snap := s.Snapshot()
	require.Equal(t, similarity.EASE, snap.Model().Measure)
	require.Equal(t, similarity.Customer, snap.Model().Scope)
	// the same engine by hand: EASE on the ratings within customers,
	// the engine's defaults (ratings without decay, rows summed whole)
	asOf := snap.AsOf()
	idx, err := similarity.FitEASE(ctx, ratings, asOf, similarity.EASEOptions{
		Count:       similarity.CountOptions{Scope: similarity.Customer, Events: true, Exclude: snap.NonMerchandise()},
		MaxProducts: recommend.DefaultEASEMaxDense})
	require.NoError(t, err)
	want, err := recommend.New(ctx, ratings, idx, asOf, recommend.Options{Exclude: snap.NonMerchandise()})
	require.NoError(t, err)
	requireServes(t, snap, want, 5)

	s, err = shop.OpenHistory(ctx, ratings, shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	require.Equal(t, similarity.Cosine, s.Snapshot().Model().Measure)

	// purchase data of a small generated shop, with too few customers to
	// choose on (recommend.AutoMinCustomers): recommend.ModelFor's
	// neighbours; "ease" fits on every product
	purchases, err := small(5).History(ctx)
	require.NoError(t, err)
	s, err = shop.OpenHistory(ctx, purchases, shop.Options{})
	require.NoError(t, err)
	require.Equal(t, recommend.Model{Measure: similarity.Cosine, Scope: similarity.Basket, K: shop.DefaultNeighbors}, s.Snapshot().Model())
	s, err = shop.OpenHistory(ctx, purchases, shop.Options{Model: "ease"})
	require.NoError(t, err)
	require.Equal(t, similarity.EASE, s.Snapshot().Model().Measure)
	require.Equal(t, similarity.Basket, s.Snapshot().Model().Scope)

	_, err = shop.OpenHistory(ctx, purchases, shop.Options{Model: "svd"})
	require.ErrorContains(t, err, "Options.Model")
}

// tasteShop is a store shaped like MovieLens (many small orders, almost
// nothing bought twice), on which EASE ranks the last weeks' purchases
// better than the co-purchase neighbours.
func tasteShop(t *testing.T) []affinity.Purchase {
	t.Helper()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 1000, Products: 400, Categories: 19, MeanOrders: 44,
		MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1, Seed: 5})
	return sf.Purchases
}

// TestAutoModel: Options.Model "auto" chooses on the shop's own history
// when it opens (recommend.Choose) — EASE on a taste-shaped store, the
// neighbours on the demo store — and every refresh keeps the choice; a
// shop too young to choose on waits for a refresh with enough history.
func TestAutoModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	all := tasteShop(t)
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(all)), shop.Options{})
	require.NoError(t, err)
	snap := s.Snapshot()
	require.NotNil(t, snap.Tuning())
	require.Equal(t, similarity.EASE, snap.Model().Measure, "%v", snap.Tuning().Trials)
	best := snap.Tuning().Best
	// the same choice by hand
	g := recommend.AutoGrid(recommend.Options{Exclude: snap.NonMerchandise()})
	g.Models[0].K = shop.DefaultNeighbors
	c, tu, err := recommend.Choose(ctx, snap.History(), snap.AsOf(), g)
	require.NoError(t, err)
	require.Equal(t, tu.Best.NDCG, best.NDCG)
	require.Equal(t, c.Model, snap.Model())

	// a refresh keeps the model chosen at open, and says what was tried
	late := snap.AsOf().Add(time.Hour)
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "c000001", Product: all[0].Product, Time: late, Quantity: 1, Price: all[0].Price}}))))
	require.Same(t, snap.Tuning(), s.Snapshot().Tuning())
	require.Equal(t, snap.Model(), s.Snapshot().Model())

	// "neighbours" does not choose
	s2, err := shop.Open(ctx, shop.Purchases(slices.Values(all)), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	require.Nil(t, s2.Snapshot().Tuning())
	require.Equal(t, similarity.Cosine, s2.Snapshot().Model().Measure)

	// the demo store: the neighbours win (the shared demo shop, opened
	// with the default Options)
	s3 := demo(t)
	require.NotNil(t, s3.Snapshot().Tuning())
	require.Equal(t, recommend.Model{Measure: similarity.Cosine, Scope: similarity.Basket, K: shop.DefaultNeighbors}, s3.Snapshot().Model())

	// opened on the first twentieth of the purchases, the shop has too few
	// customers in its last four weeks to choose on; the refresh that
	// brings the rest chooses
	slices.SortStableFunc(all, func(a, b affinity.Purchase) int { return a.Time.Compare(b.Time) })
	cut := len(all) / 20
	young, err := shop.Open(ctx, shop.Purchases(slices.Values(all[:cut])), shop.Options{})
	require.NoError(t, err)
	require.Nil(t, young.Snapshot().Tuning())
	require.Equal(t, similarity.Cosine, young.Snapshot().Model().Measure)
	require.NoError(t, young.Refresh(ctx, shop.Purchases(slices.Values(all[cut:]))))
	require.NotNil(t, young.Snapshot().Tuning())
	require.Equal(t, similarity.EASE, young.Snapshot().Model().Measure)
}

// TestShrinkageOption: Options.Shrinkage reaches the neighbours and the
// engine's model (zero: none), and each score is the unshrunk one times
// AB/(AB+λ).
func TestShrinkageOption(t *testing.T) {
	ctx := context.Background()
	h, err := small(7).History(ctx)
	require.NoError(t, err)
	const lambda = 3
	scores := map[float64]map[[2]affinity.ProductID]similarity.Neighbor{}
	for _, l := range []float64{0, lambda} {
		s, err := shop.OpenHistory(ctx, h, shop.Options{Model: "neighbours", Shrinkage: l})
		require.NoError(t, err)
		require.Equal(t, l, s.Snapshot().Model().Shrinkage)
		require.Equal(t, map[float64]string{0: "cosine/basket", lambda: "cosine/basket λ3"}[l], s.Snapshot().Model().String())
		nb := s.Snapshot().Neighbors()
		m := map[[2]affinity.ProductID]similarity.Neighbor{}
		for p := range affinity.ProductID(nb.NumProducts()) {
			for _, n := range nb.Neighbors(p) {
				m[[2]affinity.ProductID{p, n.Product}] = n
			}
		}
		scores[l] = m
	}
	checked := 0
	for pair, plain := range scores[0] {
		shrunk, ok := scores[lambda][pair]
		if !ok {
			continue // fell out of the top K
		}
		ab := float64(plain.Count)
		require.InDelta(t, float64(plain.Score)*ab/(ab+lambda), float64(shrunk.Score), 1e-5, "pair %v", pair)
		checked++
	}
	require.Positive(t, checked)
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, err := shop.OpenHistory(ctx, h, shop.Options{Shrinkage: bad})
		require.ErrorContains(t, err, "Shrinkage")
	}
}
