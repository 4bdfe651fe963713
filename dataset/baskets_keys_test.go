package dataset_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// basketKeys returns the anonymous orders of h as key → sorted products.
func basketKeys(h *affinity.History) map[string][]string {
	out := map[string][]string{}
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		l0, l1 := h.OrderLines(o)
		var ps []string
		for i := l0; i < l1; i++ {
			ps = append(ps, h.Catalog().ProductKey(h.Line(i).Product))
		}
		slices.Sort(ps)
		out[h.OrderKey(o)] = ps
	}
	return out
}

// TestBasketsOfTwoLoads: two baskets files loaded into one Builder, or
// the second onto the History of the first, keep every basket apart, and
// an order put with a line number as its id replaces none of them. The
// keys depend on the input only.
func TestBasketsOfTwoLoads(t *testing.T) {
	ctx := context.Background()
	opts := dataset.Options{Format: "baskets"}
	load := func(b *affinity.Builder, data string) {
		_, err := dataset.Load(ctx, strings.NewReader(data), b, opts)
		require.NoError(t, err)
	}
	const first, second = "milk,bread\nbeer\n", "diapers\nchips,salsa\n"
	want := map[string][]string{
		"basket:0:1": {"bread", "milk"}, "basket:0:2": {"beer"},
		"basket:3:1": {"diapers"}, "basket:3:2": {"chips", "salsa"},
	}

	var b affinity.Builder
	load(&b, first)
	load(&b, second)
	require.NoError(t, b.PutOrder("1", 1, []affinity.Purchase{{Customer: "c", Product: "mug", Time: time.Unix(1e9, 0), Quantity: 1}}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, basketKeys(h))
	assert.Equal(t, 5, h.Summary().Orders, "four baskets and the put")

	// onto the History of the first load
	var b1 affinity.Builder
	load(&b1, first)
	h1, err := b1.Build(ctx)
	require.NoError(t, err)
	b2 := affinity.NewBuilder(h1)
	load(b2, second)
	h2, err := b2.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, basketKeys(h2))

	// the same input, the same keys
	var b3 affinity.Builder
	load(&b3, first)
	h3, err := b3.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, basketKeys(h1), basketKeys(h3))
}
