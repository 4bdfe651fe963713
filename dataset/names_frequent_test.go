package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMostFrequentName: an adjustment row that comes first ("mailout")
// must not name the product; its most frequent description does, and the
// derived categories follow that name. Ties go to the first seen.
func TestMostFrequentName(t *testing.T) {
	const data = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,mailout,1,2010-12-01 08:26:00,2.55,17850,United Kingdom
536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:28:00,2.55,17850,United Kingdom
536367,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-01 08:34:00,2.55,13047,United Kingdom
536368,71053,WHITE METAL LANTERN,6,2010-12-01 08:34:00,3.39,13047,United Kingdom
536369,71053,RED METAL LANTERN,6,2010-12-01 08:35:00,3.39,13047,United Kingdom
`
	opts, err := dataset.Defaults("onlineretail")
	require.NoError(t, err)
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Products)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	cat := h.Catalog()
	heart, ok := cat.LookupProduct("85123A")
	require.True(t, ok)
	assert.Equal(t, "WHITE HANGING HEART T-LIGHT HOLDER", cat.ProductName(heart))
	assert.Equal(t, dataset.CategoryFromName("WHITE HANGING HEART T-LIGHT HOLDER"), strings.Join(productPaths(cat, heart), "|"),
		"categories derived from the chosen name")
	lantern, _ := cat.LookupProduct("71053")
	assert.Equal(t, "WHITE METAL LANTERN", cat.ProductName(lantern), "a tie keeps the first name")
}

func productPaths(cat *affinity.Catalog, p affinity.ProductID) []string {
	var out []string
	for _, c := range cat.Categories(p) {
		out = append(out, cat.CategoryPath(c))
	}
	return out
}
