package benchmarks_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// storefronts caches generated storefronts by customer count: generating the
// 1 M-customer one takes several seconds and is done once per binary.
var storefronts sync.Map

// storefront returns the synthetic storefront with n customers, n/10
// products, 500 leaf categories and about 10 purchase lines per customer,
// without events.
func storefront(n int) *dataset.Storefront {
	if s, ok := storefronts.Load(n); ok {
		return s.(*dataset.Storefront)
	}
	s := dataset.Generate(dataset.SyntheticOptions{
		Customers: n, Products: max(n/10, 1000), Categories: 500, Seed: 1, ViewsPerLine: -1,
	})
	storefronts.Store(n, s)
	return s
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBuild measures building a History from purchase lines with shop
// string ids: interning, grouping into orders, sorting and the buyer
// bitmaps. Besides time it reports the History's resident size per line
// (heap growth while it is alive, the input strings being shared) and
// History.MemoryUsage without the id tables.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		s := storefront(n)
		b.Run(fmt.Sprintf("customers=%.0e/lines=%.0e", float64(n), float64(len(s.Purchases))), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var h *affinity.History
			for b.Loop() {
				h = nil
				var err error
				if h, err = s.History(ctx); err != nil {
					b.Fatal(err)
				}
			}
			lines := float64(h.NumLines())
			h = nil
			before := heapAlloc()
			h, err := s.History(ctx)
			if err != nil {
				b.Fatal(err)
			}
			after := heapAlloc()
			mu := h.MemoryUsage()
			b.ReportMetric(float64(after-before)/lines, "heapB/line")
			b.ReportMetric(float64(mu.Columns+mu.Bitmaps)/lines, "B/line-no-ids")
			b.ReportMetric(float64(mu.Total())/lines, "B/line")
			b.ReportMetric(lines/b.Elapsed().Seconds()*float64(b.N), "lines/s")
			runtime.KeepAlive(h)
		})
	}
}
