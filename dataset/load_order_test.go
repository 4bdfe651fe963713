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

// A catalog loaded before the purchases keeps its names and categories:
// the purchase loader only describes products that have no entry yet.
func TestCatalogBeforePurchasesIsKept(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	_, err := dataset.LoadCatalog(ctx, strings.NewReader("product,name,category,price\n85123A,Heart holder,Home/Candles,2.55\n"), &b, dataset.CatalogOptions{})
	require.NoError(t, err)
	retail := "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
		"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
		"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
	rep, err := dataset.Load(ctx, strings.NewReader(retail), &b, dataset.Options{Format: "onlineretail", Categories: dataset.CategoryFromName})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Products, "only the product without an entry is described")
	h, err := b.Build(ctx)
	require.NoError(t, err)
	cat := h.Catalog()
	heart, ok := cat.LookupProduct("85123A")
	require.True(t, ok)
	assert.Equal(t, "Heart holder", cat.ProductName(heart))
	require.Len(t, cat.Categories(heart), 1)
	assert.Equal(t, "Home/Candles", cat.CategoryPath(cat.Categories(heart)[0]))
	lantern, ok := cat.LookupProduct("71053")
	require.True(t, ok)
	assert.Equal(t, "WHITE METAL LANTERN", cat.ProductName(lantern))
	assert.NotEmpty(t, cat.Categories(lantern), "derived category")
}
