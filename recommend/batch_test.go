package recommend_test

import (
	"context"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// TestRecommendAllSizedByCatalog: RecommendAll with K = MaxK on a small
// catalog gives every customer room for the products there are to
// recommend, not for MaxK results, and with an ad-hoc Segment (its
// favourites computed once) and non-merchandise gives each customer what
// Recommend gives.
func TestRecommendAllSizedByCatalog(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(4, 60)
	h := lineHistory(t, prods, lines[1])
	ship, _ := h.Catalog().LookupProduct("ship")
	excl := roaring.BitmapOf(uint32(ship))
	e, err := recommend.New(ctx, h, basketIndex(t, h, excl), h.Latest(), recommend.Options{Exclude: excl, Workers: 2})
	require.NoError(t, err)
	seg := roaring.New()
	for c := range uint32(h.NumCustomers()) {
		if c%4 == 1 {
			seg.Add(c)
		}
	}
	merch := h.Catalog().NumProducts() - 1
	for _, req := range []recommend.Request{
		{K: recommend.MaxK},
		{K: recommend.MaxK, Segment: seg, Rules: recommend.Rules{Only: []string{"p01", "p02", "p03", "p05", "p08", "p13"}}},
		{K: 5, Segment: seg, Rules: recommend.Rules{AllowRepeats: true}},
	} {
		all, err := e.RecommendAll(ctx, req)
		require.NoError(t, err)
		require.Len(t, all, h.NumCustomers())
		for c, got := range all {
			require.LessOrEqual(t, cap(got), min(req.K, merch), "customer %d: room for more results than products", c)
			r := req
			r.ByID, r.CustomerID = true, affinity.CustomerID(c)
			want, err := e.Recommend(nil, r)
			require.NoError(t, err)
			require.Equal(t, want, got, "customer %d", c)
		}
	}
}
