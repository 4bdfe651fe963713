package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
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

	// purchase data of a small generated shop: the model depends on the
	// kind of data, not its size, and "ease" fits on every product
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
