package affinity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryUsageCountsWhatItSays: MemoryUsage counts the index
// LookupOrder builds, the category tree and the spare room of a History
// built on a base, as its doc says.
func TestMemoryUsageCountsWhatItSays(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var b Builder
	for i := range 2_000 {
		_, err := b.AddCategory(fmt.Sprintf("D%d/G%d", i%10, i))
		require.NoError(t, err)
		require.NoError(t, b.Add(Purchase{Customer: fmt.Sprint("c", i%300), Product: "p", Order: fmt.Sprint("o", i), Time: t0.Add(time.Duration(i) * time.Minute), Quantity: 1, Price: 1}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c := h.Catalog()

	t.Run("category tree", func(t *testing.T) {
		// parent, depth, child offsets and children: 16 bytes a node at least
		tree := 16 * c.NumCategories()
		assert.GreaterOrEqual(t, h.MemoryUsage().IDs-c.cats.size()-h.customers.size(), tree)
	})
	t.Run("order index", func(t *testing.T) {
		before := h.MemoryUsage().IDs
		_, ok := h.LookupOrder("o1")
		require.True(t, ok)
		assert.GreaterOrEqual(t, h.MemoryUsage().IDs-before, 8*h.NumOrders(), "8 bytes an order once built")
	})
	t.Run("spare room", func(t *testing.T) {
		defer SetLayoutMode(SetLayoutMode(layoutAppend)) // room for twice as much
		defer SetBaseMode(SetBaseMode(baseOver))
		nb := NewBuilder(h)
		require.NoError(t, nb.Add(Purchase{Customer: "new", Product: "p", Order: "x", Time: t0, Quantity: 1, Price: 1}))
		h2, err := nb.Build(ctx)
		require.NoError(t, err)
		require.Greater(t, cap(h2.lineProduct), h2.NumLines())
		// product, quantity and price: 16 bytes a line of room
		assert.GreaterOrEqual(t, h2.MemoryUsage().Columns, 16*cap(h2.lineProduct))
	})
}
