package affinity

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBuilderSharesCustomerTable requires that a History built on a base
// with no new or erased customer shares the base's customer table, and
// that a new key or an erasure copies it first, leaving the base's alone.
func TestBuilderSharesCustomerTable(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var b Builder
	for _, c := range []string{"c1", "c2", "c3"} {
		require.NoError(t, b.Add(Purchase{Customer: c, Product: "p", Order: "o" + c, Time: at, Quantity: 1, Price: 100}))
	}
	base, err := b.Build(ctx)
	require.NoError(t, err)
	same := func(h *History) bool { return &h.customers.slots[0] == &base.customers.slots[0] }

	// known customers only: the table is shared
	nb := NewBuilder(base)
	require.NoError(t, nb.Add(Purchase{Customer: "c2", Product: "p", Order: "o9", Time: at.Add(time.Hour), Quantity: 1, Price: 100}))
	require.NoError(t, nb.AddEvent(Event{Customer: "c3", Product: "p", Kind: View, Time: at, Weight: 1}))
	h1, err := nb.Build(ctx)
	require.NoError(t, err)
	require.True(t, same(h1), "table copied without a new key")

	// a new customer by an event, and an erasure: copies, the base unchanged
	nb = NewBuilder(h1)
	require.NoError(t, nb.AddEvent(Event{Customer: "c4", Product: "p", Kind: View, Time: at, Weight: 1}))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	require.False(t, same(h2))
	nb = NewBuilder(h1)
	nb.EraseCustomer("c1")
	h3, err := nb.Build(ctx)
	require.NoError(t, err)
	require.False(t, same(h3))
	for _, h := range []*History{base, h1} {
		require.Equal(t, 3, h.NumCustomers())
		for i, k := range []string{"c1", "c2", "c3"} {
			id, ok := h.LookupCustomer(k)
			require.True(t, ok, k)
			require.Equal(t, CustomerID(i), id, k)
		}
		_, ok := h.LookupCustomer("c4")
		require.False(t, ok)
	}
	_, ok := h2.LookupCustomer("c4")
	require.True(t, ok)
	_, ok = h3.LookupCustomer("c1")
	require.False(t, ok, "erased key still found")
}

// TestBuilderSharesCatalog requires that a History built on a base with
// lines and events of known products only shares the base's catalog, and
// that a new product, a new description or a new category makes a new
// one, leaving the base's alone.
func TestBuilderSharesCatalog(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var b Builder
	require.NoError(t, b.AddProduct(Product{Key: "p", Name: "Socks", Categories: []string{"Wear/Socks"}, Price: 300, InStock: true}))
	require.NoError(t, b.Add(Purchase{Customer: "c1", Product: "p", Order: "o1", Time: at, Quantity: 1, Price: 300}))
	require.NoError(t, b.Add(Purchase{Customer: "c1", Product: "q", Order: "o1", Time: at, Quantity: 1, Price: 100}))
	base, err := b.Build(ctx)
	require.NoError(t, err)

	nb := NewBuilder(base)
	require.NoError(t, nb.Add(Purchase{Customer: "c2", Product: "q", Order: "o2", Time: at, Quantity: 2, Price: 100}))
	require.NoError(t, nb.AddEvent(Event{Customer: "c1", Product: "p", Kind: Cart, Time: at, Weight: 1}))
	require.True(t, nb.HasProduct("p"))
	require.False(t, nb.HasProduct("q"), "q has no catalog entry")
	h1, err := nb.Build(ctx)
	require.NoError(t, err)
	require.Same(t, base.Catalog(), h1.Catalog())

	for name, change := range map[string]func(b *Builder) error{
		"new product by a line": func(b *Builder) error {
			return b.Add(Purchase{Customer: "c1", Product: "r", Order: "o3", Time: at, Quantity: 1, Price: 100})
		},
		"described anew": func(b *Builder) error {
			return b.AddProduct(Product{Key: "q", Name: "Laces", Categories: []string{"Wear/Laces"}, InStock: true})
		},
		"new product by an event": func(b *Builder) error {
			return b.AddEvent(Event{Customer: "c1", Product: "s", Kind: View, Time: at, Weight: 1})
		},
	} {
		nb := NewBuilder(h1)
		require.NoError(t, change(nb), name)
		h2, err := nb.Build(ctx)
		require.NoError(t, err, name)
		require.NotSame(t, base.Catalog(), h2.Catalog(), name)
		c := base.Catalog()
		require.Equal(t, 2, c.NumProducts(), name)
		require.Equal(t, 2, c.NumCategories(), name)
		q, ok := c.LookupProduct("q")
		require.True(t, ok, name)
		require.Empty(t, c.Product(q).Name, name)
	}
}
