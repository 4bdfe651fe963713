package recommend_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// BenchmarkRenew compares New with Renew of the engine of a shop of
// 300,000 customers and 30,000 products after a refresh of 3,000 lines
// (orders of 4 random products of random customers, a line per 10
// products, the shape of the shop's refresh benchmark), on the co-purchase
// neighbours of the new History; "small" after a refresh of 40 lines, a
// minute of a busy shop, where most rows of the item graph are copied.
func BenchmarkRenew(b *testing.B) {
	ctx := context.Background()
	h1, err := dataset.Generate(dataset.SyntheticOptions{Customers: 300_000, Products: 30_000, Categories: 200, Seed: 5, ViewsPerLine: -1}).History(ctx)
	if err != nil {
		b.Fatal(err)
	}
	at := h1.Latest().Add(time.Minute)
	cat := h1.Catalog()
	index := func(h *affinity.History) *similarity.Index {
		c, err := similarity.Count(ctx, h, at, similarity.CountOptions{})
		if err != nil {
			b.Fatal(err)
		}
		x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine})
		if err != nil {
			b.Fatal(err)
		}
		return x
	}
	x1 := index(h1)
	prev, err := recommend.New(ctx, h1, x1, at, recommend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, lines := range []int{cat.NumProducts() / 10, 40} {
		nb := affinity.NewBuilder(h1)
		rng := rand.New(rand.NewPCG(3, 9))
		for i := range lines {
			c := h1.CustomerKey(affinity.CustomerID((i / 4 * 7919) % h1.NumCustomers()))
			p := cat.ProductKey(affinity.ProductID(rng.IntN(cat.NumProducts())))
			if err := nb.Add(affinity.Purchase{Customer: c, Product: p, Order: fmt.Sprintf("live-%d", i/4), Time: at, Quantity: 1, Price: 100}); err != nil {
				b.Fatal(err)
			}
		}
		h2, err := nb.Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		x2 := index(h2)
		prefix := ""
		if lines < cat.NumProducts()/10 {
			prefix = "small/"
		}
		b.Run(prefix+"new", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := recommend.New(ctx, h2, x2, at, recommend.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(prefix+"renew", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := recommend.Renew(ctx, prev, h2, x2, at, recommend.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
