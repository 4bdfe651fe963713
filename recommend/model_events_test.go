package recommend_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// A shop's History with orders is counted in the model's scope over its
// bought lines whatever events it holds — views, carts and ratings such
// as product reviews — so its index equals that of the same orders
// without events (one rating used to switch every model to the customer
// scope with every event kind counted); rating data (ratings, no orders)
// is counted over its ratings only.
func TestModelIndexEvents(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	build := func(orders bool, kinds ...affinity.EventKind) *affinity.History {
		var b affinity.Builder
		for p := range 12 {
			require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprint("p", p)}))
		}
		rng := rand.New(rand.NewPCG(7, 8))
		for i := range 300 {
			c, p := fmt.Sprint("c", rng.IntN(25)), fmt.Sprint("p", rng.IntN(12))
			at := t0.Add(time.Duration(i) * time.Hour)
			k := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Rating}[rng.IntN(3)]
			switch {
			case i%2 == 0 && orders:
				require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: fmt.Sprint("o", i/4), Product: p, Time: at, Quantity: 1}))
			case i%2 == 1 && (len(kinds) == 0 || kinds[0] == k || len(kinds) > 1 && kinds[1] == k):
				require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: p, Time: at, Kind: k, Weight: 4}))
			}
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	encode := func(h *affinity.History, m recommend.Model) []byte {
		x, err := m.Index(ctx, h, t0.AddDate(1, 0, 0))
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		return buf.Bytes()
	}
	bare := build(true, affinity.EventKind(99)) // orders, no events
	withAll := build(true)                      // orders, views, carts and ratings
	for _, m := range []recommend.Model{recommend.DefaultModel(), {Measure: similarity.Lift, Scope: similarity.Basket, K: 10}, {Measure: similarity.Jaccard, Scope: similarity.Customer, K: 10}} {
		require.Equal(t, encode(bare, m), encode(withAll, m), "model %v", m)
	}
	// rating data: its ratings are what counts, views and carts not
	ratings := build(false, affinity.Rating)
	mixed := build(false)
	m := recommend.Model{Measure: similarity.Cosine, Scope: similarity.Customer, K: 10}
	require.Equal(t, encode(ratings, m), encode(mixed, m))
}
