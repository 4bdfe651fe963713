package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
)

// postageSource returns a random shop's catalog (40 products in stock and
// a "POSTAGE" product, non-merchandise by name) and its orders of
// merchandise, and the same orders with a postage line each.
func postageSource(seed uint64, orders int) (prods []affinity.Product, merch, withPostage []affinity.Purchase) {
	rng := rand.New(rand.NewPCG(seed, 53))
	cats := []string{"A/x", "A/y", "B/x", "B/z", "C/food", "D"}
	const np = 40
	for i := range np {
		prods = append(prods, affinity.Product{Key: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("Product %d", i), InStock: true,
			Categories: []string{cats[rng.IntN(len(cats))]}, Price: affinity.Money(1+rng.IntN(50)) * 10000})
	}
	prods = append(prods, affinity.Product{Key: "ship", Name: "POSTAGE", InStock: true, Categories: []string{"Fees"}, Price: 50000})
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for o := range orders {
		cust, order := fmt.Sprintf("c%02d", rng.IntN(60)), fmt.Sprintf("o%d", o)
		at := start.Add(time.Duration(rng.IntN(200*24)) * time.Hour)
		for range 1 + rng.IntN(4) {
			x := int(float64(np) * rng.Float64() * rng.Float64())
			l := affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%02d", x), Order: order, Time: at, Quantity: 1, Price: 1000}
			merch = append(merch, l)
			withPostage = append(withPostage, l)
		}
		withPostage = append(withPostage, affinity.Purchase{Customer: cust, Product: "ship", Order: order, Time: at, Quantity: 1, Price: 500})
	}
	return prods, merch, withPostage
}

func openLines(t *testing.T, prods []affinity.Product, lines []affinity.Purchase, o shop.Options) *shop.Shop {
	t.Helper()
	s, err := shop.Open(context.Background(), shop.Sources(shop.Catalog(prods), shop.Purchases(slices.Values(lines))), o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostageLinesChangeNothing: the same orders with and without a
// postage line each are served the same results and scores, for
// anonymous visitors, carts and known customers.
func TestPostageLinesChangeNothing(t *testing.T) {
	ctx := context.Background()
	prods, merch, withPostage := postageSource(7, 400)
	o := shop.Options{Model: "neighbours"}
	a, b := openLines(t, prods, merch, o).Snapshot(), openLines(t, prods, withPostage, o).Snapshot()
	var reqs []shop.Request
	for i := range 20 {
		reqs = append(reqs, shop.Request{Cart: []string{fmt.Sprintf("p%02d", i)}, K: 10},
			shop.Request{Customer: fmt.Sprintf("c%02d", i), K: 10})
	}
	reqs = append(reqs, shop.Request{K: 10})
	for _, req := range reqs {
		ra, err := a.Recommend(ctx, req)
		require.NoError(t, err)
		rb, err := b.Recommend(ctx, req)
		require.NoError(t, err)
		require.Len(t, rb.Recs, len(ra.Recs), "%+v", req)
		for i := range ra.Recs {
			x, y := ra.Recs[i], rb.Recs[i]
			require.Equal(t, x.Product, y.Product, "%+v: result %d", req, i)
			require.Equal(t, x.Source, y.Source, "%+v: %s", req, x.Product)
			require.InDelta(t, x.Score, y.Score, 1e-6, "%+v: %s", req, x.Product)
		}
	}
}

// TestRecommendExcludeKept: Options.Recommend.Exclude is never
// recommended, alongside the non-merchandise.
func TestRecommendExcludeKept(t *testing.T) {
	ctx := context.Background()
	prods, _, lines := postageSource(1, 200)
	plain := openLines(t, prods, lines, shop.Options{Model: "neighbours"})
	res, err := plain.Snapshot().Recommend(ctx, shop.Request{K: shop.MaxK})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	banned := res.Recs[0].Product
	p, ok := plain.Snapshot().History().Catalog().LookupProduct(banned)
	require.True(t, ok)
	excl := roaring.BitmapOf(uint32(p))
	s := openLines(t, prods, lines, shop.Options{Model: "neighbours", Recommend: recommend.Options{Exclude: excl}})
	require.Equal(t, []uint32{uint32(p)}, excl.ToArray(), "the caller's bitmap is not modified")
	for _, req := range []shop.Request{{K: shop.MaxK}, {Cart: []string{"p00", "p01"}, K: shop.MaxK}, {Customer: "c01", K: shop.MaxK}} {
		res, err = s.Snapshot().Recommend(ctx, req)
		require.NoError(t, err)
		require.NotEmpty(t, res.Recs)
		for _, r := range res.Recs {
			require.NotEqual(t, banned, r.Product, "excluded by Options.Recommend.Exclude")
			require.NotEqual(t, "ship", r.Product, "non-merchandise")
		}
	}
}
