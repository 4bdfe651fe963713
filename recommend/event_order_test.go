package recommend_test

import (
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

// A customer's views of one day, as a date-only export gives them (all at
// midnight), more than MaxHistory distinct products: the anchors, and so
// the recommendations, are the same whatever order the rows were loaded in.
func TestEventOrderSameSecond(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 6 // viewed products p00–p05, each bought with its complement p06–p11
	var views []affinity.Event
	for x := range n {
		views = append(views, affinity.Event{Customer: "viewer", Product: fmt.Sprintf("p%02d", x), Kind: affinity.View, Weight: 1, Time: t0})
	}
	recs := func(views []affinity.Event) []string {
		var b affinity.Builder
		for i := range 2 * n {
			require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%02d", i), InStock: true}))
		}
		for x := range n {
			for k := range 3 + x { // distinct supports: no ties among the complements
				cust := fmt.Sprintf("buyer%d-%d", x, k)
				for _, p := range []int{x, x + n} {
					require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%02d", p), Order: cust,
						Time: t0.Add(-time.Duration(k+1) * 24 * time.Hour), Quantity: 1, Price: 100}))
				}
			}
		}
		for _, e := range views {
			require.NoError(t, b.AddEvent(e))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		nb, err := index(ctx, h, similarity.CountOptions{}, similarity.IndexOptions{})
		require.NoError(t, err)
		e, err := recommend.New(ctx, h, nb, t0, recommend.Options{MaxHistory: 2, Workers: 1})
		require.NoError(t, err)
		rs, err := e.Recommend(nil, recommend.Request{Customer: "viewer", K: 3})
		require.NoError(t, err)
		return keys(rs)
	}
	want := recs(views)
	require.NotEmpty(t, want)
	r := rand.New(rand.NewPCG(43, 2))
	for range 6 {
		r.Shuffle(len(views), func(i, j int) { views[i], views[j] = views[j], views[i] })
		require.Equal(t, want, recs(views), "views loaded as %v", views)
	}
}
