package shop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// TestMaxPriceZeroIsNoBound pins why Rules.MaxPrice needs no way to say
// "at most 0": a product without a price (0) is returned without rules,
// and by no band, however wide; a MaxPrice of 0 is no bound.
func TestMaxPriceZeroIsNoBound(t *testing.T) {
	ctx := context.Background()
	prods, merch, _ := postageSource(9, 200)
	prods[0].Price = 0 // the best seller, without a price
	var top affinity.Money
	for _, p := range prods {
		top = max(top, p.Price)
	}
	snap := openLines(t, prods, merch, shop.Options{Model: "neighbours"}).Snapshot()
	keys := func(ru shop.Rules) []string {
		res, err := snap.Recommend(ctx, shop.Request{K: len(prods), Rules: ru})
		require.NoError(t, err)
		var ks []string
		for _, r := range res.Recs {
			ks = append(ks, r.Product)
		}
		return ks
	}
	all := keys(shop.Rules{})
	require.Contains(t, all, prods[0].Key, "served without rules")
	assert.Equal(t, all, keys(shop.Rules{MaxPrice: 0}), "MaxPrice 0: no bound")
	for _, ru := range []shop.Rules{{MaxPrice: top}, {MinPrice: 1}, {MinPrice: 1, MaxPrice: top}} {
		got := keys(ru)
		assert.NotContains(t, got, prods[0].Key, "%+v", ru)
		assert.Len(t, got, len(all)-1, "%+v: every priced product", ru)
	}
}
