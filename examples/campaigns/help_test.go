package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The help says what the program does: the plan is made -days before the
// last order or event (History.Latest), and -restocked counts every
// add-to-cart, bought since or not.
func TestHelpSaysWhatIsCounted(t *testing.T) {
	var out, errw bytes.Buffer
	require.Error(t, run(context.Background(), &out, &errw, []string{"-h"}))
	help := strings.Join(strings.Fields(errw.String()), " ")
	assert.Contains(t, help, "this long before the last order or event")
	assert.Contains(t, help, "most often added to a cart in the 30 days before the plan (bought since or not)")
	assert.NotContains(t, help, "left in carts")
}

// mostCarted counts every add-to-cart in the 30 days before the plan,
// also those bought afterwards, as the -restocked help says.
func TestMostCartedCountsEveryAddToCart(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := affinity.NewBuilder(nil)
	for _, p := range []string{"bought", "left", "old"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Name: p, Price: 10_0000, InStock: true}))
	}
	cart := func(c, p string, ago time.Duration) {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: p, Time: asOf.Add(-ago), Kind: affinity.Cart, Weight: 1}))
	}
	for _, c := range []string{"a", "b", "c"} {
		cart(c, "bought", 48*time.Hour)
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "bought", Order: "o" + c, Time: asOf.Add(-24 * time.Hour), Quantity: 1, Price: 10_0000}))
	}
	cart("a", "left", time.Hour)
	cart("b", "left", time.Hour)
	for _, c := range []string{"a", "b", "c", "d"} {
		cart(c, "old", 31*24*time.Hour) // before the 30 days
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"bought", "left"}, mostCarted(h, asOf, 5))
	assert.Equal(t, []string{"bought"}, mostCarted(h, asOf, 1))
}
