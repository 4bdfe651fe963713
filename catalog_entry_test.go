package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestHasProductEntryOnly: an entry that holds nothing but the stock
// flag (out of stock, or in stock with no name, price or category) is an
// entry, in the Builder that added it and in every Builder started from
// the History or the Catalog it built.
func TestHasProductEntryOnly(t *testing.T) {
	for _, inStock := range []bool{false, true} {
		t.Run(fmt.Sprintf("in stock %v", inStock), func(t *testing.T) {
			var b affinity.Builder
			require.NoError(t, b.AddProduct(affinity.Product{Key: "p1", InStock: inStock}))
			require.True(t, b.HasProduct("p1"))
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			assert.True(t, affinity.NewBuilder(h).HasProduct("p1"), "from the History")
			assert.True(t, affinity.NewCatalogBuilder(h.Catalog()).HasProduct("p1"), "from the Catalog")
		})
	}
}

// TestStockOnlyEntryKeptOnRefresh: a loader adds an entry (in stock,
// named) for a product a purchase names when HasProduct says it has
// none. A catalog that only marks p1 out of stock, followed by purchases
// of p1, leaves p1 out of stock whether the purchases come in the same
// Builder or in a refresh built on the catalog's History.
func TestStockOnlyEntryKeptOnRefresh(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	load := func(b *affinity.Builder) {
		t.Helper()
		require.NoError(t, b.Add(affinity.Purchase{Customer: "c1", Product: "p1", Order: "o1", Time: at, Quantity: 1, Price: 25000}))
		if !b.HasProduct("p1") {
			require.NoError(t, b.AddProduct(affinity.Product{Key: "p1", Name: "Red Mug", InStock: true}))
		}
	}
	var one affinity.Builder
	require.NoError(t, one.AddProduct(affinity.Product{Key: "p1"}))
	load(&one)
	h1, err := one.Build(ctx)
	require.NoError(t, err)

	var first affinity.Builder
	require.NoError(t, first.AddProduct(affinity.Product{Key: "p1"}))
	base, err := first.Build(ctx)
	require.NoError(t, err)
	refresh := affinity.NewBuilder(base)
	load(refresh)
	h2, err := refresh.Build(ctx)
	require.NoError(t, err)

	p, ok := h2.Catalog().LookupProduct("p1")
	require.True(t, ok)
	assert.Equal(t, h1.Catalog().Product(p), h2.Catalog().Product(p))
	assert.False(t, h2.Catalog().InStock(p), "the catalog said out of stock")
}

// TestHasProductSplitBuilds: random calls of AddProduct (entries with
// and without any field set), Add, AddEvent and a loader's "name it
// unless it has an entry" give the same HasProduct answers and the same
// catalog whether made in one Builder or split across a chain of Builds
// (NewBuilder of the last History, or NewCatalogBuilder of its catalog
// for the catalog calls).
func TestHasProductSplitBuilds(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	keys := []string{"p0", "p1", "p2", "p3", "p4"}
	type op struct {
		kind    int // 0 AddProduct, 1 Add, 2 AddEvent, 3 loader
		product affinity.Product
		key     string
	}
	do := func(b *affinity.Builder, o op, i int) {
		t.Helper()
		switch o.kind {
		case 0:
			require.NoError(t, b.AddProduct(o.product))
		case 1, 3:
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", i%3), Product: o.key, Order: fmt.Sprint("o", i), Time: at.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 100}))
			if o.kind == 3 && !b.HasProduct(o.key) {
				require.NoError(t, b.AddProduct(affinity.Product{Key: o.key, Name: "from " + o.key, InStock: true}))
			}
		case 2:
			require.NoError(t, b.AddEvent(affinity.Event{Customer: "c9", Product: o.key, Time: at, Kind: affinity.View, Weight: 1}))
		}
	}
	build := func(b *affinity.Builder) *affinity.History {
		t.Helper()
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	for seed := range uint64(testdata.Scale(400, 60)) {
		rng := rand.New(rand.NewPCG(seed, 7))
		ops := make([]op, 1+rng.IntN(14))
		for i := range ops {
			o := op{kind: rng.IntN(4), key: keys[rng.IntN(len(keys))]}
			if o.kind == 0 {
				o.product = affinity.Product{Key: o.key, InStock: rng.IntN(2) == 0}
				if rng.IntN(3) == 0 {
					o.product.Name = "n" + o.key
				}
				if rng.IntN(4) == 0 {
					o.product.Price = affinity.Money(rng.IntN(3))
				}
				if rng.IntN(4) == 0 {
					o.product.Categories = []string{"A/B"}
				}
			}
			ops[i] = o
		}
		var one affinity.Builder
		for i, o := range ops {
			do(&one, o, i)
		}
		want := map[string]bool{}
		for _, k := range keys {
			want[k] = one.HasProduct(k)
		}
		hOne := build(&one)

		var h *affinity.History
		b := &affinity.Builder{}
		for i, o := range ops {
			if i > 0 && rng.IntN(3) == 0 {
				h = build(b)
				if rng.IntN(4) == 0 && h.NumLines() == 0 && h.NumEvents() == 0 {
					b = affinity.NewCatalogBuilder(h.Catalog())
				} else {
					b = affinity.NewBuilder(h)
				}
			}
			do(b, o, i)
		}
		what := fmt.Sprintf("seed %d ops %+v", seed, ops)
		for _, k := range keys {
			want := want[k]
			assert.Equal(t, want, b.HasProduct(k), "%s: HasProduct(%q) split across Builds", what, k)
			assert.Equal(t, want, affinity.NewBuilder(hOne).HasProduct(k), "%s: HasProduct(%q) on the History built", what, k)
			assert.Equal(t, want, affinity.NewCatalogBuilder(hOne.Catalog()).HasProduct(k), "%s: HasProduct(%q) on its Catalog", what, k)
		}
		hSplit := build(b)
		require.Equal(t, hOne.Catalog().NumProducts(), hSplit.Catalog().NumProducts(), what)
		for p := range affinity.ProductID(hOne.Catalog().NumProducts()) {
			assert.Equal(t, hOne.Catalog().Product(p), hSplit.Catalog().Product(p), "%s: product %d", what, p)
		}
		if t.Failed() {
			return
		}
	}
}
