package affinity_test

import (
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/require"
)

// TestOrderBought checks OrderBought against the lines of each order: an
// order with a positive quantity is bought, an order of returns only is
// not.
func TestOrderBought(t *testing.T) {
	h := buildPurchases(t,
		affinity.Purchase{Customer: "c1", Order: "o1", Product: "p1", Time: at(1), Quantity: 2, Price: 100},
		affinity.Purchase{Customer: "c1", Order: "o2", Product: "p1", Time: at(2), Quantity: -1, Price: 100},
		affinity.Purchase{Customer: "c1", Order: "o3", Product: "p1", Time: at(3), Quantity: -1, Price: 100},
		affinity.Purchase{Customer: "c1", Order: "o3", Product: "p2", Time: at(3), Quantity: 1, Price: 50},
	)
	want := map[string]bool{"o1": true, "o2": false, "o3": true}
	require.Equal(t, len(want), h.NumOrders())
	for id := range h.Orders() {
		require.Equal(t, want[h.OrderKey(id)], h.OrderBought(id), h.OrderKey(id))
	}
}
