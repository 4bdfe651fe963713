package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// OnProduct reports every catalog entry in the order the Builder gets
// it, the replaced first name included, so that replaying the calls over
// the products in id order rebuilds the catalog's category ids.
func TestOnProductFollowsTheCatalog(t *testing.T) {
	const data = `customer,product,order,time,quantity,price,name
c1,A,o1,2024-01-01T00:00:00Z,1,1,WHITE HANGING HEART
c1,B,o1,2024-01-01T00:00:00Z,1,1,RED LANTERN
c2,A,o2,2024-01-02T00:00:00Z,1,1,GLASS GOBLET
c3,A,o3,2024-01-03T00:00:00Z,1,1,GLASS GOBLET
c3,C,o3,2024-01-03T00:00:00Z,1,1,
`
	var calls []affinity.Product
	var b affinity.Builder
	_, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{
		Categories: dataset.CategoryFromName,
		OnProduct:  func(p affinity.Product) { calls = append(calls, p) },
	})
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	var keys []string
	for _, p := range calls {
		keys = append(keys, p.Key+"="+p.Name)
	}
	assert.Equal(t, []string{"A=WHITE HANGING HEART", "B=RED LANTERN", "A=GLASS GOBLET"}, keys)

	cat := h.Catalog()
	var r affinity.Builder
	for p := range affinity.ProductID(cat.NumProducts()) {
		require.NoError(t, r.AddProduct(affinity.Product{Key: cat.ProductKey(p)}))
	}
	for _, p := range calls {
		require.NoError(t, r.AddProduct(p))
	}
	h2, err := r.Build(context.Background())
	require.NoError(t, err)
	c2 := h2.Catalog()
	require.Equal(t, cat.NumCategories(), c2.NumCategories())
	require.Greater(t, cat.NumCategories(), 2)
	for k := range affinity.CategoryID(cat.NumCategories()) {
		assert.Equal(t, cat.CategoryPath(k), c2.CategoryPath(k))
	}
	for p := range affinity.ProductID(cat.NumProducts()) {
		assert.Equal(t, cat.Product(p).Categories, c2.Product(p).Categories)
	}
}
