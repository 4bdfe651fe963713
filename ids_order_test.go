package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestIDsOfPutsAtBuild: customers and products first named in a staged
// put are numbered at Build, after those the Builder's other calls
// named, in (Version, Key) order of the puts, not in the order of the
// calls.
func TestIDsOfPutsAtBuild(t *testing.T) {
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	line := func(c, p string) []affinity.Purchase {
		return []affinity.Purchase{{Customer: c, Product: p, Time: at, Quantity: 1, Price: 1}}
	}
	var b affinity.Builder
	require.NoError(t, b.PutOrder("z", 1, line("put-z", "pz")))
	require.NoError(t, b.PutOrder("a", 2, line("put-a2", "pa2")))
	require.NoError(t, b.PutOrder("a1", 1, line("put-a1", "pa1")))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "added", Product: "padded", Order: "x", Time: at, Quantity: 1, Price: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	for i, k := range []string{"added", "put-a1", "put-z", "put-a2"} {
		c, ok := h.LookupCustomer(k)
		require.True(t, ok, k)
		assert.Equal(t, affinity.CustomerID(i), c, k)
	}
	for i, k := range []string{"padded", "pa1", "pz", "pa2"} {
		p, ok := h.Catalog().LookupProduct(k)
		require.True(t, ok, k)
		assert.Equal(t, affinity.ProductID(i), p, k)
	}
}
