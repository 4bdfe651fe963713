package shop_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecommendAllocations pins the request path: the result slice is its
// only allocation.
func TestRecommendAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	snap := demo(t).Snapshot()
	ctx := context.Background()
	key := buyer(t, snap.History())
	cart := []string{snap.History().Catalog().ProductKey(3)}
	_, err := snap.Recommend(ctx, shop.Request{Customer: key, Cart: cart, K: 10}) // warm the scratch pool
	require.NoError(t, err)
	// AllocsPerRun counts the whole process's allocations: a background
	// build an earlier test left running, or a collection that empties
	// the scratch pool, can add some to one measurement but not to every
	// one, while a request that allocates does so in each
	for _, req := range []shop.Request{
		{Customer: key, Cart: cart, K: 10},
		{Customer: key, Cart: cart, K: 10, Rules: shop.Rules{MaxPrice: 250000, MaxPerCategory: 1, CategoryDepth: 2, Diversity: 0.5, AllowRepeats: true}},
	} {
		allocs := math.Inf(1)
		for range 3 {
			allocs = min(allocs, testing.AllocsPerRun(200, func() {
				if _, err := snap.Recommend(ctx, req); err != nil {
					t.Fatal(err)
				}
			}))
			if allocs <= 1 {
				break
			}
		}
		assert.LessOrEqual(t, allocs, 1.0, "%+v", req)
	}
}

// BenchmarkRecommend measures one customer request through the front
// door on the demo shop, customers taken in turn.
func BenchmarkRecommend(b *testing.B) {
	s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	snap := s.Snapshot()
	h := snap.History()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := h.CustomerKey(affinity.CustomerID(i % h.NumCustomers()))
		if _, err := snap.Recommend(ctx, shop.Request{Customer: key, K: 10}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpenDemo measures opening the demo shop: load, History,
// segment index, counts, neighbours and engine.
func BenchmarkOpenDemo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := shop.Open(context.Background(), shop.Demo(), shop.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudiencePage measures what a request for the first page of a
// segment costs on a shop of 100,000 customers: the query, a fresh
// Audience and its first 50 members in each order (every customer with
// an order is a member).
func BenchmarkAudiencePage(b *testing.B) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100_000, Products: 10_000, Categories: 200, Seed: 5, ViewsPerLine: -1})
	s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	snap := s.Snapshot()
	for o := shop.ByKey; o <= shop.ByRecency; o++ {
		b.Run(o.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				aud, err := snap.Segment(`frequency >= 1`)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := aud.Page(o, 0, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetInStockManySettings sets one product's stock on a shop
// that remembers 100,000 settings of keys the catalog does not hold: the
// time does not grow with them (each call once looked every setting up).
func BenchmarkSetInStockManySettings(b *testing.B) {
	s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{Model: "neighbours"})
	if err != nil {
		b.Fatal(err)
	}
	var gone []string
	for i := range 100_000 {
		gone = append(gone, fmt.Sprintf("discontinued-%d", i))
	}
	s.SetStock(nil, gone)
	b.ReportAllocs()
	in := false
	for b.Loop() {
		s.SetInStock("p00413", in)
		in = !in
	}
}

// BenchmarkUpdateStock applies one stock feed of 4,000 keys, most of
// them unknown to the catalog, in one call: one copy of the stock set.
func BenchmarkUpdateStock(b *testing.B) {
	s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{Model: "neighbours"})
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for i := range 4000 {
		out = append(out, fmt.Sprintf("p%05d", i)) // the demo's first 1,000 are products
	}
	b.ReportAllocs()
	for b.Loop() {
		s.UpdateStock(nil, out)
	}
}
