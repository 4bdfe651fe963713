package shop_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// BenchmarkRecommendDuringRefresh measures one customer's request through
// the front door on a shop of about 1 M lines (100,000 customers, 10,000
// products), first with nothing else running ("idle"), then while a
// goroutine refreshes the shop back to back with 1,000 new lines each
// ("refreshing", the default RefreshWorkers: one fewer than the cores).
// It reports the request latency quantiles (p50-ns, p99-ns, p999-ns), the number
// of refreshes that ran during the measurement, and for "refreshing" the
// peak live heap during the refreshes (as marked by the collector) against
// the live heap of the shop with one snapshot (peak-heap-x: a refresh
// builds the next snapshot beside the current one). B/op and allocs/op of
// "refreshing" include the refresher's allocations.
func BenchmarkRecommendDuringRefresh(b *testing.B) {
	ctx := context.Background()
	s := func() *shop.Shop { // the generated data goes out of scope with it
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100_000, Products: 10_000, Categories: 200, Seed: 5, ViewsPerLine: -1})
		s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}()
	h := s.Snapshot().History()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = h.CustomerKey(affinity.CustomerID(i * h.NumCustomers() / len(keys)))
	}
	runtime.GC()
	base := liveHeap()

	for _, refreshing := range []bool{false, true} {
		name := "idle"
		if refreshing {
			name = "refreshing"
		}
		b.Run(name, func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var refreshes atomic.Int64
			var peak atomic.Uint64
			if refreshing {
				wg.Go(func() { // the refresher
					for round := 0; ; round++ {
						select {
						case <-stop:
							return
						default:
						}
						lines := liveLines(s.Snapshot().History(), 1000+round, 1_000)
						if err := s.Refresh(ctx, shop.Purchases(slices.Values(lines))); err != nil {
							b.Error(err)
							return
						}
						s.Snapshot().Segments() // the index the refresh builds in the background
						refreshes.Add(1)
					}
				})
				wg.Go(func() { // the heap sampler
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
						}
						if v := liveHeap(); v > peak.Load() {
							peak.Store(v)
						}
					}
				})
				time.Sleep(50 * time.Millisecond) // let the first refresh start
			}
			lat := make([]time.Duration, 0, 1<<16)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: keys[i%len(keys)], K: 10}); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				i++
			}
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(lat[len(lat)*999/1000].Nanoseconds()), "p999-ns")
			if refreshing {
				b.ReportMetric(float64(refreshes.Load()), "refreshes")
				b.ReportMetric(float64(peak.Load())/float64(base), "peak-heap-x")
			}
		})
	}
}

// liveHeap returns the heap the last garbage collection found live.
func liveHeap() uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}
