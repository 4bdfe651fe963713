package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReachedSinceWithoutPurchase: the customer owning the History's
// first order (order 0) bought nothing, only returned: the search for
// their last purchase stops at their first order instead of stepping
// below order 0.
func TestReachedSinceWithoutPurchase(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "r", Order: "o1", Product: "p", Time: t0.Add(-time.Hour), Quantity: -1, Price: 10_0000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "y", Order: "o2", Product: "p", Time: t0, Quantity: 1, Price: 10_0000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	r, ok := h.LookupCustomer("r")
	require.True(t, ok)
	lo, hi := h.CustomerOrders(r)
	require.Equal(t, affinity.OrderID(0), lo, "r owns order 0")
	require.Equal(t, affinity.OrderID(1), hi)
	assert.True(t, reachedSince(h, r, t0, t0.Add(-48*time.Hour).Unix()), "nothing bought: any send counts")
	y, ok := h.LookupCustomer("y")
	require.True(t, ok)
	assert.True(t, reachedSince(h, y, t0, t0.Unix()), "sent in the purchase's second")
	assert.False(t, reachedSince(h, y, t0, t0.Unix()-1), "sent before the purchase")
}
