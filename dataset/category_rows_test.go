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

// loadCatalogOf loads data with opts and returns the built catalog.
func loadCatalogOf(t *testing.T, data string, opts dataset.Options) (*affinity.Catalog, dataset.Report) {
	t.Helper()
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, opts)
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h.Catalog(), rep
}

// TestCategoryFromALaterRow: a "csv" product whose first row has no
// category takes the category a later row gives it, with or without
// Options.Categories (which is for products no row categorises).
func TestCategoryFromALaterRow(t *testing.T) {
	const data = "customer,product,time,name,category\n" +
		"c1,p1,2024-01-01,Blue Mug,\n" +
		"c2,p1,2024-01-02,Blue Mug,Kitchen/Cups\n" +
		"c3,p1,2024-01-03,Blue Mug,Kitchen > Cups\n" +
		"c3,p2,2024-01-03,Red Mug,\n"
	for _, opts := range []dataset.Options{{}, {Categories: func(string) string { return "Derived" }}} {
		cat, rep := loadCatalogOf(t, data, opts)
		assert.Equal(t, 2, rep.Products)
		p1, ok := cat.LookupProduct("p1")
		require.True(t, ok)
		assert.Equal(t, "Blue Mug", cat.ProductName(p1))
		assert.Equal(t, []string{"Kitchen/Cups"}, productPaths(cat, p1), "derived: %v", opts.Categories != nil)
		p2, _ := cat.LookupProduct("p2")
		if opts.Categories != nil {
			assert.Equal(t, []string{"Derived"}, productPaths(cat, p2), "no row categorises p2")
		} else {
			assert.Empty(t, productPaths(cat, p2))
		}
	}
}

// TestCategoryMostFrequent: rows that disagree give the product the most
// frequent of their explicit categories, the first seen among equals,
// whatever the order of the rows; paths are compared as cleaned ("a > b"
// is "a/b"), and rows without a category do not count.
func TestCategoryMostFrequent(t *testing.T) {
	const head = "product,time,name,category\n"
	cases := []struct {
		name string
		rows string
		want []string
	}{
		{"majority after the first", "p,2024-01-01,Mug,Old\np,2024-01-02,Mug,New/Cups\np,2024-01-03,Mug,New > Cups\np,2024-01-04,Mug,\np,2024-01-05,Mug,\n", []string{"New/Cups"}},
		{"majority first", "p,2024-01-01,Mug,A|B\np,2024-01-02,Mug,C\np,2024-01-03,Mug,A|B\n", []string{"A", "B"}},
		{"tie keeps the first", "p,2024-01-01,Mug,\np,2024-01-02,Mug,X\np,2024-01-03,Mug,Y\n", []string{"X"}},
		{"category without a name", "p,2024-01-01,,\np,2024-01-02,,Z\n", []string{"Z"}},
	}
	for _, c := range cases {
		var calls []affinity.Product
		cat, _ := loadCatalogOf(t, head+c.rows, dataset.Options{OnProduct: func(p affinity.Product) { calls = append(calls, p) }})
		p, ok := cat.LookupProduct("p")
		require.True(t, ok, c.name)
		assert.Equal(t, c.want, productPaths(cat, p), c.name)
		require.NotEmpty(t, calls, c.name)
		assert.Equal(t, c.want, calls[len(calls)-1].Categories, "%s: OnProduct sees the final entry", c.name)
	}
}

// TestCategoryOfALaterRowChecked: a later row's category the Builder
// would refuse is that row's error (strict) or a counted skip (lenient),
// and never becomes the product's.
func TestCategoryOfALaterRowChecked(t *testing.T) {
	deep := strings.Repeat("a/", affinity.MaxCategoryDepth) + "a"
	data := "product,time,name,category\n" +
		"p,2024-01-01,Mug,\n" +
		"p,2024-01-02,Mug," + deep + "\n" +
		"p,2024-01-03,Mug," + deep + "\n" +
		"p,2024-01-04,Mug,Kitchen\n"
	var b affinity.Builder
	_, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "invalid category", pe.Reason)

	cat, rep := loadCatalogOf(t, data, dataset.Options{Lenient: true})
	assert.Equal(t, 2, rep.Loaded)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid category", Count: 2, FirstLine: 3}}, rep.Skipped)
	p, _ := cat.LookupProduct("p")
	assert.Equal(t, []string{"Kitchen"}, productPaths(cat, p))
}
