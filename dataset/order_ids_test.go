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

// TestOrderFormatIDs: in the order formats, customers first met in a put
// get their ids at Build in order-key order, products theirs in file
// order as the loader gives them catalog entries; the products of an
// erased customer's put get their entries too, though the put adds no
// line (Formats, affinity.Builder.EraseCustomer).
func TestOrderFormatIDs(t *testing.T) {
	ctx := context.Background()
	in := "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n" +
		"#2,zed@x.com,2024-03-01 10:00:00 +0000,1,Bee,1.00,B\n" +
		"#1,amy@x.com,2024-03-01 11:00:00 +0000,1,Ant,1.00,A\n" +
		"#3,eve@x.com,2024-03-01 12:00:00 +0000,1,Cat,1.00,C\n"
	var b affinity.Builder
	b.EraseCustomer("eve@x.com")
	_, err := dataset.Load(ctx, strings.NewReader(in), &b, dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	h, err := b.Build(ctx)
	require.NoError(t, err)
	cat := h.Catalog()
	var products []string
	for p := range affinity.ProductID(cat.NumProducts()) {
		products = append(products, cat.ProductKey(p))
	}
	assert.Equal(t, []string{"B", "A", "C"}, products, "file order, the erased customer's product included")
	assert.Equal(t, "amy@x.com", h.CustomerKey(0), "order-key order")
	assert.Equal(t, "zed@x.com", h.CustomerKey(1))
	assert.Equal(t, 2, h.NumLines(), "the erased customer's put adds no line")
}

// TestCatalogFirstValidRowWins: in a lenient catalog load a duplicate id
// is skipped only after a row of it loaded; a row skipped for another
// reason does not count.
func TestCatalogFirstValidRowWins(t *testing.T) {
	cat, rep, err := loadCatalog(t, "id,name,price\nA,a1,x\nA,a2,2\nA,a3,3\n", dataset.CatalogOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid price", Count: 1, FirstLine: 2}, {Reason: "duplicate product", Count: 1, FirstLine: 4}}, rep.Skipped)
	id, ok := cat.LookupProduct("A")
	require.True(t, ok)
	assert.Equal(t, "a2", cat.ProductName(id))
}
