package similarity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// BenchmarkReindex compares NewIndex with Reindex (cosine, the shop's
// default) after a refresh that adds lines in orders of 4 random products
// of random customers, one line per 100 products: 1,000 lines to a History
// of 100,000 customers and 10,000 products, and 10,000 to one of
// 1,000,000 customers and 100,000 products, the shape of the shop's
// refresh benchmark. It reports the rows Reindex selected in full, merged
// and copied.
func BenchmarkReindex(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: n, Products: n / 10, Categories: 200, Seed: 5, ViewsPerLine: -1})
		h1, err := sf.History(ctx)
		if err != nil {
			b.Fatal(err)
		}
		nb := affinity.NewBuilder(h1)
		at := h1.Latest().Add(time.Hour)
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		np := h1.Catalog().NumProducts()
		for i := range np / 10 {
			c := h1.CustomerKey(affinity.CustomerID((i / 4 * 7919) % h1.NumCustomers()))
			p := h1.Catalog().ProductKey(affinity.ProductID(rng.IntN(np)))
			if err := nb.Add(affinity.Purchase{Customer: c, Product: p, Order: "live-" + strconv.Itoa(i/4), Time: at, Quantity: 1, Price: 100}); err != nil {
				b.Fatal(err)
			}
		}
		h2, err := nb.Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		prev, err := similarity.Count(ctx, h1, at, similarity.CountOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cur, err := similarity.Recount(ctx, prev, h1, h2, at, similarity.CountOptions{})
		if err != nil {
			b.Fatal(err)
		}
		io := similarity.IndexOptions{Measure: similarity.Cosine, Workers: 1}
		prevIdx, err := similarity.NewIndex(ctx, prev, io)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("products=%d/lines=%d", np, np/10)
		b.Run(name+"/recount", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := similarity.Recount(ctx, prev, h1, h2, at, similarity.CountOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/new", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := similarity.NewIndex(ctx, cur, io); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/reindex", func(b *testing.B) {
			b.ReportAllocs()
			var selected, merged, fallback int
			for b.Loop() {
				var err error
				if _, _, selected, merged, fallback, err = similarity.ReindexStats(ctx, prevIdx, prev, cur, io); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(selected), "selected")
			b.ReportMetric(float64(merged), "merged")
			b.ReportMetric(float64(fallback), "fallback")
		})
	}
}
