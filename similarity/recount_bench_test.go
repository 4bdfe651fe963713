package similarity_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/similarity"
)

// BenchmarkRecount compares a full Count with Recount after a refresh
// that adds 10,000 lines (2,500 new orders of existing customers) to a
// History of about 1 M lines, 100,000 customers and 10,000 products.
func BenchmarkRecount(b *testing.B) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100_000, Products: 10_000, Categories: 200, Seed: 5, ViewsPerLine: -1})
	var bl affinity.Builder
	for _, p := range sf.Purchases {
		if err := bl.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	h1, err := bl.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	nb := affinity.NewBuilder(h1)
	at := h1.Latest().Add(time.Hour)
	for i := range 10_000 {
		c := h1.CustomerKey(affinity.CustomerID(i / 4 * 37 % h1.NumCustomers()))
		p := h1.Catalog().ProductKey(affinity.ProductID(i * 13 % h1.Catalog().NumProducts()))
		if err := nb.Add(affinity.Purchase{Customer: c, Product: p, Order: "live-" + strconv.Itoa(i/4), Time: at, Quantity: 1, Price: 100}); err != nil {
			b.Fatal(err)
		}
	}
	h2, err := nb.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	prev, err := similarity.Count(ctx, h1, h1.Latest(), similarity.CountOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("count", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := similarity.Count(ctx, h2, h2.Latest(), similarity.CountOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recount", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := similarity.Recount(ctx, prev, h1, h2, h2.Latest(), similarity.CountOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
