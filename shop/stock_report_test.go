package shop_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// TestUpdateStockUnknownKeys: UpdateStock remembered every key the shop
// did not know, for ever, so that a feed of discontinued or misspelt
// SKUs (or anyone who could reach a storefront's stock endpoint) grew the
// shop's memory without bound, and a caller could not tell which keys
// applied. It keeps the settings of known products only (and changes
// those SetStock remembered), and reports what it set, each key once,
// and the keys it did not know.
func TestUpdateStockUnknownKeys(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(3, 10, 6, 20, lcT0)
	s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	cat := s.Snapshot().History().Catalog()
	a, b := cat.ProductKey(0), cat.ProductKey(1)

	rep := s.UpdateStock([]string{a, a, b, "x-gone", "b-typo"}, []string{b, "x-gone"})
	assert.Equal(t, shop.StockReport{InStock: 1, OutOfStock: 1, Unknown: []string{"b-typo", "x-gone"}}, rep)
	assert.Equal(t, 2, shop.StockSettings(s), "the settings of a and b")
	assert.Equal(t, shop.StockReport{InStock: 1}, s.UpdateStock([]string{a}, nil), "no unknown key: Unknown is nil")

	for round := range 20 {
		var gone []string
		for i := range 1000 {
			gone = append(gone, fmt.Sprintf("gone-%d-%d", round, i))
		}
		rep := s.UpdateStock(nil, gone)
		require.Len(t, rep.Unknown, len(gone))
		require.Zero(t, rep.OutOfStock)
	}
	assert.Equal(t, 2, shop.StockSettings(s), "unknown keys cost no memory")

	// A product that appears later takes its catalog flag, unless SetStock
	// named it; UpdateStock changes what SetStock remembered.
	s.SetStock([]string{a}, []string{"later-2", "later-3"})
	assert.Equal(t, 3, shop.StockSettings(s))
	s.UpdateStock(nil, []string{"later-1"})
	assert.Equal(t, shop.StockReport{InStock: 1, Unknown: []string{"later-3"}}, s.UpdateStock([]string{"later-3", a}, nil))
	assert.Equal(t, 3, shop.StockSettings(s))
	later := slices.Clone(lines[:3])
	for i := range later {
		later[i].Order = fmt.Sprintf("later-%d", i)
		later[i].Product = fmt.Sprintf("later-%d", i+1)
	}
	require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog([]affinity.Product{{Key: "later-1", InStock: true}, {Key: "later-2", InStock: true}, {Key: "later-3", InStock: false}}), lcSrc(later))))
	snap := s.Snapshot()
	inStock := func(key string) bool {
		p, ok := snap.History().Catalog().LookupProduct(key)
		require.True(t, ok, key)
		return snap.Engine().InStock(p)
	}
	assert.True(t, inStock("later-1"), "UpdateStock of an unknown key: the catalog's flag")
	assert.False(t, inStock("later-2"), "SetStock's setting applies once the product appears")
	assert.True(t, inStock("later-3"), "UpdateStock changed the setting SetStock remembered")
}
