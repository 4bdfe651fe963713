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

// TestStockOnlyCatalogThenPurchasesInRefresh: a catalog file that only
// marks p1 out of stock, then a purchase file naming p1, give the same
// catalog whether the purchases are loaded into the same Builder or into
// a refresh built on the catalog's History: p1 stays out of stock and
// unnamed (the purchase file names only products without an entry).
func TestStockOnlyCatalogThenPurchasesInRefresh(t *testing.T) {
	ctx := context.Background()
	const catalog = "product,in stock\np1,false\np2,true\n"
	const orders = "customer,product,order,time,quantity,price,name\nc1,p1,o1,2024-01-10T12:00:00Z,1,2.50,Red Mug\n"
	loadCatalog := func(b *affinity.Builder) {
		t.Helper()
		_, err := dataset.LoadCatalog(ctx, strings.NewReader(catalog), b, dataset.CatalogOptions{})
		require.NoError(t, err)
	}
	loadOrders := func(b *affinity.Builder) *affinity.History {
		t.Helper()
		_, err := dataset.Load(ctx, strings.NewReader(orders), b, dataset.Options{})
		require.NoError(t, err)
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}

	var b affinity.Builder
	loadCatalog(&b)
	one := loadOrders(&b)

	var first affinity.Builder
	loadCatalog(&first)
	base, err := first.Build(ctx)
	require.NoError(t, err)
	refreshed := loadOrders(affinity.NewBuilder(base))

	p, ok := refreshed.Catalog().LookupProduct("p1")
	require.True(t, ok)
	assert.False(t, refreshed.Catalog().InStock(p), "the catalog said out of stock")
	assert.Equal(t, one.Catalog().Product(p), refreshed.Catalog().Product(p))
}
