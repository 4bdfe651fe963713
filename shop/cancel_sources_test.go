package shop_test

import (
	"context"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSourcesSeeCancellation: every source of the package stops reading
// when its context is done, before the first record (Storefront, Catalog
// and Erase once read everything and failed only at the build).
func TestSourcesSeeCancellation(t *testing.T) {
	sf := small(3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, src := range map[string]shop.Source{
		"Storefront": shop.Storefront(sf),
		"Catalog":    shop.Catalog(sf.Products),
		"Purchases":  shop.Purchases(slices.Values(sf.Purchases)),
		"Changes":    shop.Changes(slices.Values([]affinity.OrderChange{{Key: "o1", Delete: true}})),
		"Erase":      shop.Erase("c1", "c2"),
		"Sources":    shop.Sources(shop.Catalog(sf.Products), shop.Storefront(sf)),
	} {
		var b affinity.Builder
		rep, err := src.Load(ctx, &b)
		require.ErrorIs(t, err, context.Canceled, name)
		assert.Zero(t, rep.Rows+rep.Products, "%s: read after the cancellation", name)
		assert.Zero(t, b.Len(), name)
	}
}
