package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// TestIgnoredListsEachKeyOnce: Result.Ignored listed an unknown key as
// often as the request gave it (twice in the cart, or in the cart and in
// Exclude). It lists each once, where it first occurs: the cart's keys,
// then Exclude's, then Only's.
func TestIgnoredListsEachKeyOnce(t *testing.T) {
	ctx := context.Background()
	prods, merch, _ := postageSource(3, 120)
	snap := openLines(t, prods, merch, shop.Options{Model: "neighbours"}).Snapshot()
	cases := []struct {
		name                string
		cart, exclude, only []string
		want                []string
	}{
		{"twice in the cart", []string{"p01", "new1", "new1"}, nil, nil, []string{"new1"}},
		{"cart and exclude", []string{"new1", "p02"}, []string{"new2", "new1"}, nil, []string{"new1", "new2"}},
		{"all three", []string{"new3"}, []string{"new2", "new3"}, []string{"p03", "new1", "new2", "new1"}, []string{"new3", "new2", "new1"}},
		{"none unknown", []string{"p01", "p01"}, []string{"p02"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := snap.Recommend(ctx, shop.Request{Cart: tc.cart, Exclude: tc.exclude, Only: tc.only})
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Ignored)
		})
	}

	// Random requests against a reference: the unknown keys of cart,
	// exclude and only, in that order, each at its first occurrence.
	rng := rand.New(rand.NewPCG(5, 80))
	key := func() string {
		if rng.IntN(2) == 0 {
			return fmt.Sprintf("p%02d", rng.IntN(40))
		}
		return fmt.Sprintf("new%d", rng.IntN(6))
	}
	keys := func() []string {
		var ks []string
		for range rng.IntN(5) {
			ks = append(ks, key())
		}
		return ks
	}
	for i := range testdata.Scale(400, 60) {
		req := shop.Request{Cart: keys(), Exclude: keys(), Only: keys(), K: 3}
		var want []string
		for _, k := range slices.Concat(req.Cart, req.Exclude, req.Only) {
			if _, known := snap.History().Catalog().LookupProduct(k); !known && !slices.Contains(want, k) {
				want = append(want, k)
			}
		}
		res, err := snap.Recommend(ctx, req)
		require.NoError(t, err)
		require.Equal(t, want, res.Ignored, "request %d: %+v", i, req)
	}
}
