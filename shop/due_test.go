package shop_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
)

// TestReasonDue: a product served again says "due again" only when it is
// a consumable due by its interval (Source Rebuy), not when next-basket
// mode brings it back for its frequency (Source Repeat); it states its
// trend over the shop when it is at least recommend.TrendStated.
func TestReasonDue(t *testing.T) {
	ctx := context.Background()
	// the demo storefront; in the quick suite a smaller one of its shape
	s, err := shop.Open(ctx, shop.Storefront(demoSized()), shop.Options{Model: "neighbours", NextBasket: shop.On})
	require.NoError(t, err)
	snap := s.Snapshot()
	h := snap.History()
	seen, trends := map[recommend.Source]int{}, 0
	for c := 0; c < h.NumCustomers(); c += 7 {
		res, err := snap.Recommend(ctx, shop.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 10})
		require.NoError(t, err)
		for _, r := range res.Recs {
			for _, x := range r.Reasons() {
				if x.Kind != recommend.Again {
					continue
				}
				seen[r.Source]++
				require.Equal(t, r.Source == recommend.Rebuy, x.Due, "%s %s", r.Product, r.Source)
				require.Equal(t, x.Due, strings.HasSuffix(x.String(), ": due again"), x.String())
				require.Equal(t, x.Due, strings.Contains(r.Explanation(), "due again"), r.Explanation())
				require.Equal(t, x.Trend >= recommend.TrendStated, strings.Contains(x.String(), "× its usual buyers in the last 14 days"), x.String())
				if x.Trend > 0 {
					trends++
				}
			}
		}
	}
	require.Positive(t, seen[recommend.Repeat], "next-basket mode brings products back")
	require.Positive(t, trends, "the re-buys carry their trend")
}
