package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// buyerKeys returns the keys of p's buyers in h.
func buyerKeys(h *affinity.History, key string) []string {
	p, _ := h.Catalog().LookupProduct(key)
	var keys []string
	for _, c := range h.Buyers(p).ToArray() {
		keys = append(keys, h.CustomerKey(affinity.CustomerID(c)))
	}
	return keys
}

// TestPurchasesRebuildWithoutOrders: a customer whose orders were all
// deleted and an erased one keep their ids in the History but are not
// re-created by a rebuild from Purchases and Events: Summary.Customers
// counts only the customers with an order or an event, the rest of the
// Summary is the same, and the buyer sets hold the same customers under
// shifted ids.
func TestPurchasesRebuildWithoutOrders(t *testing.T) {
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for i, c := range []string{"a", "b", "c", "d"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Order: "o" + c, Time: at.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 10000}))
	}
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "e", Product: "p", Time: at, Kind: affinity.View, Weight: 1}))
	base, err := b.Build(context.Background())
	require.NoError(t, err)
	nb := affinity.NewBuilder(base)
	require.NoError(t, nb.DeleteOrder("oa", 1)) // a keeps its id, without orders
	nb.EraseCustomer("b")                       // b keeps its id, with the empty key
	h, err := nb.Build(context.Background())
	require.NoError(t, err)

	r := advReadCatalogFeed(t, h) // the rebuild History.Purchases documents
	want := h.Summary()
	want.Customers = 3 // c, d with orders, e with an event
	assert.Equal(t, want, r.Summary())
	assert.Equal(t, 5, h.Summary().Customers, "the History keeps a and b's ids")
	assert.Equal(t, buyerKeys(h, "p"), buyerKeys(r, "p"), "the same buyers")
	assert.NotEqual(t, h.Buyers(0).ToArray(), r.Buyers(0).ToArray(), "under other ids")
}
