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

func loadCatalog(t *testing.T, data string, opts dataset.CatalogOptions) (*affinity.Catalog, dataset.Report, error) {
	t.Helper()
	var b affinity.Builder
	rep, err := dataset.LoadCatalog(context.Background(), strings.NewReader(data), &b, opts)
	h, berr := b.Build(context.Background())
	require.NoError(t, berr)
	return h.Catalog(), rep, err
}

func TestLoadCatalog(t *testing.T) {
	cat, rep, err := loadCatalog(t, readFixture(t, "catalog.csv"), dataset.CatalogOptions{})
	require.NoError(t, err)
	assert.Equal(t, dataset.Report{Format: "catalog", Rows: 4, Loaded: 4, Products: 4}, rep)
	var got []affinity.Product
	for p := range affinity.ProductID(cat.NumProducts()) {
		got = append(got, cat.Product(p))
	}
	assert.Equal(t, []affinity.Product{
		{Key: "85123A", Name: "WHITE HANGING HEART T-LIGHT HOLDER", Categories: []string{"Home/Candles/Holders"}, Price: 25500, InStock: true},
		{Key: "71053", Name: "WHITE METAL LANTERN", Categories: []string{"Home/Lighting", "Gifts"}, Price: 33900, InStock: false},
		{Key: "22633", Name: "HAND WARMER UNION JACK", Categories: []string{}, Price: 18500, InStock: true},
		{Key: "84879", Name: "ASSORTED COLOUR BIRD ORNAMENT", Categories: []string{"Home/Decorations"}, Price: 0, InStock: true},
	}, got)
	home, ok := cat.LookupCategory("Home")
	require.True(t, ok)
	assert.Len(t, cat.Children(home), 3)

	cat, _, err = loadCatalog(t, readFixture(t, "catalog.csv"), dataset.CatalogOptions{Categories: dataset.CategoryFromName})
	require.NoError(t, err)
	p, _ := cat.LookupProduct("22633")
	assert.Equal(t, []string{"Warmer/Hand Warmer"}, cat.Product(p).Categories, "derived only where the field is empty")
	p, _ = cat.LookupProduct("85123A")
	assert.Equal(t, []string{"Home/Candles/Holders"}, cat.Product(p).Categories)
}

func TestLoadCatalogColumns(t *testing.T) {
	data := "Art.-Nr.;Bezeichnung;Preis;Lager\nA1;Tasse;\"3,50\";out of stock\nA2;Kanne;12;3\n"
	cat, rep, err := loadCatalog(t, data, dataset.CatalogOptions{
		Columns: dataset.CatalogColumns{Product: "Art.-Nr.", Name: "Bezeichnung", Price: "Preis", InStock: "Lager"},
		Comma:   ';', DecimalSep: ',',
	})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Products)
	a1, _ := cat.LookupProduct("A1")
	assert.Equal(t, affinity.Product{Key: "A1", Name: "Tasse", Categories: []string{}, Price: 35000, InStock: false}, cat.Product(a1))
	a2, _ := cat.LookupProduct("A2")
	assert.True(t, cat.InStock(a2))

	_, _, err = loadCatalog(t, "sku,name\n", dataset.CatalogOptions{Columns: dataset.CatalogColumns{Category: "Kategorie"}})
	assert.EqualError(t, err, `dataset: line 1: missing required column "Kategorie" of format "catalog"`)
}

func TestLoadCatalogErrors(t *testing.T) {
	data := "id,name,price,stock\n" +
		"p1,One,1.00,yes\n" +
		"p1,One again,2.00,yes\n" +
		",Nameless,1.00,yes\n" +
		"p2,Two,cheap,yes\n" +
		"p3,Three,-1,yes\n" +
		"p4,Four,1.00,maybe\n" +
		"p5,Five,1.00\n" +
		"p6,Six,6.00,no\n"
	_, _, err := loadCatalog(t, data, dataset.CatalogOptions{})
	assert.EqualError(t, err, `dataset: line 3, column 1 (id): duplicate product "p1"`)

	cat, rep, err := loadCatalog(t, data, dataset.CatalogOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{
		{Reason: "duplicate product", Count: 1, FirstLine: 3},
		{Reason: "missing product", Count: 1, FirstLine: 4},
		{Reason: "invalid price", Count: 1, FirstLine: 5},
		{Reason: "negative price", Count: 1, FirstLine: 6},
		{Reason: "invalid stock flag", Count: 1, FirstLine: 7},
		{Reason: "wrong field count", Count: 1, FirstLine: 8},
	}, rep.Skipped)
	assert.Equal(t, 2, rep.Products)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	p1, _ := cat.LookupProduct("p1")
	assert.Equal(t, "One", cat.ProductName(p1), "the first row of a duplicate wins")
	assert.Equal(t, 2, cat.NumProducts())

	_, _, err = loadCatalog(t, "", dataset.CatalogOptions{})
	require.ErrorIs(t, err, dataset.ErrEmpty)
}
