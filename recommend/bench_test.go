package recommend_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

type benchFixture struct {
	e         *recommend.Engine
	customers []string // customers with 45..55 distinct products
}

var (
	benchOnce sync.Once
	bench     benchFixture
)

// largeFixture: 100,000 products, 500 leaf categories, 20,000 customers
// with about 50 purchase lines each; customer-scope cosine index, K = 50.
func largeFixture(b *testing.B) benchFixture {
	b.Helper()
	benchOnce.Do(func() {
		ctx := context.Background()
		st := dataset.Generate(dataset.SyntheticOptions{Customers: 20000, Products: 100000, Categories: 500, MeanOrders: 20, ViewsPerLine: -1, Seed: 3})
		h, err := st.History(ctx)
		require.NoError(b, err)
		nb, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Customer}, similarity.IndexOptions{Measure: similarity.Cosine, K: 50})
		require.NoError(b, err)
		e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
		require.NoError(b, err)
		bench.e = e
		for c := range h.NumCustomers() {
			lo, hi := h.CustomerLines(affinity.CustomerID(c))
			seen := map[affinity.ProductID]bool{}
			for i := lo; i < hi; i++ {
				seen[h.LineProduct(i)] = true
			}
			if n := len(seen); n >= 45 && n <= 55 {
				bench.customers = append(bench.customers, h.CustomerKey(affinity.CustomerID(c)))
			}
		}
	})
	require.NotEmpty(b, bench.customers)
	return bench
}

// BenchmarkRecommendCustomer measures one customer request (50-item
// history, K = 10, 100k products) and reports the median and 99th
// percentile latency.
func BenchmarkRecommendCustomer(b *testing.B) {
	f := largeFixture(b)
	dst := make([]recommend.Rec, 0, 10)
	lat := make([]time.Duration, 1<<16)
	var err error
	n := 0
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		t0 := time.Now()
		dst, err = f.e.Recommend(dst[:0], recommend.Request{Customer: f.customers[n%len(f.customers)], K: 10})
		lat[n%len(lat)] = time.Since(t0)
		n++
		if err != nil || len(dst) != 10 {
			b.Fatal(err, len(dst))
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
	lat = lat[:min(n, len(lat))]
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkRecommendCustomerCapped is BenchmarkRecommendCustomer with at
// most two results per category, whose cap sees every candidate.
func BenchmarkRecommendCustomerCapped(b *testing.B) {
	f := largeFixture(b)
	dst := make([]recommend.Rec, 0, 10)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		var err error
		dst, err = f.e.Recommend(dst[:0], recommend.Request{Customer: f.customers[n%len(f.customers)], K: 10, Rules: recommend.Rules{MaxPerCategory: 2}})
		n++
		if err != nil || len(dst) != 10 {
			b.Fatal(err, len(dst))
		}
	}
}

// BenchmarkRecommendBasket measures "frequently bought together" for a
// three-product cart of an anonymous visitor (100k products, K = 10).
func BenchmarkRecommendBasket(b *testing.B) {
	f := largeFixture(b)
	np := f.e.History().Catalog().NumProducts()
	dst := make([]recommend.Rec, 0, 10)
	items := make([]affinity.ProductID, 3)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range items {
			items[i] = affinity.ProductID((n*7919 + i*104729) % np)
		}
		n++
		var err error
		dst, err = f.e.Recommend(dst[:0], recommend.Request{Items: items, K: 10})
		if err != nil || len(dst) != 10 {
			b.Fatal(err, len(dst))
		}
	}
}

// BenchmarkRecommendParallel keeps every core busy with customer requests
// and reports requests per second.
func BenchmarkRecommendParallel(b *testing.B) {
	f := largeFixture(b)
	b.ReportAllocs()
	t0, cpu0 := time.Now(), processCPU()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]recommend.Rec, 0, 10)
		n := 0
		for pb.Next() {
			var err error
			dst, err = f.e.Recommend(dst[:0], recommend.Request{Customer: f.customers[n%len(f.customers)], K: 10})
			n += 7
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
	// what two otherwise idle cores would serve
	b.ReportMetric(2*float64(b.N)/(processCPU()-cpu0).Seconds(), "req/s-per-2-cpus")
}

// BenchmarkRecommendAllMovieLensShape: top-10 for every customer of a
// MovieLens-100k-shaped store (943 customers, 1,682 products, about 75,000
// interactions).
func BenchmarkRecommendAllMovieLensShape(b *testing.B) {
	ctx := context.Background()
	st := dataset.Generate(dataset.SyntheticOptions{Customers: 943, Products: 1682, Categories: 19, MeanOrders: 44, MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1, Seed: 5})
	h, err := st.History(ctx)
	require.NoError(b, err)
	nb, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Customer}, similarity.IndexOptions{Measure: similarity.Cosine, K: 100})
	require.NoError(b, err)
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
	require.NoError(b, err)
	b.Logf("%d customers, %d products, %d lines", h.NumCustomers(), h.Catalog().NumProducts(), h.NumLines())
	b.ReportAllocs()
	cpu0, n := processCPU(), 0
	for b.Loop() {
		n++
		out, err := e.RecommendAll(ctx, recommend.Request{K: 10})
		if err != nil || len(out) != h.NumCustomers() {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n)/2, "cpu-ns/op-per-core")
}
