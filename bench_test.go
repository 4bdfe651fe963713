package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// benchData is a random storefront held in memory: n purchase lines in
// orders of 1–5 lines, n/10 customers, n/100 products (at least 1000) in a
// three-level category tree, one anonymous order in 20. Lines come order by
// order, customers interleaved, as a shop export would list them.
type benchData struct {
	products  []affinity.Product
	purchases []affinity.Purchase
}

func newBenchData(n int) *benchData {
	r := rand.New(rand.NewPCG(uint64(n), 99))
	nc, np := max(n/10, 1), max(n/100, 1000)
	customers := make([]string, nc)
	for i := range customers {
		customers[i] = "cust-" + strconv.Itoa(i)
	}
	d := &benchData{products: make([]affinity.Product, np)}
	for i := range d.products {
		p := affinity.Product{Key: "sku-" + strconv.Itoa(i), Name: "Product " + strconv.Itoa(i), Price: affinity.Money(1+r.IntN(2000)) * 500, InStock: true}
		for range 1 + r.IntN(2) {
			p.Categories = append(p.Categories, fmt.Sprintf("D%d/G%d/L%d", r.IntN(8), r.IntN(5), r.IntN(10)))
		}
		d.products[i] = p
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	d.purchases = make([]affinity.Purchase, 0, n)
	for o := 0; len(d.purchases) < n; o++ {
		cust := customers[r.IntN(nc)]
		if r.IntN(20) == 0 {
			cust = ""
		}
		order := "ord-" + strconv.Itoa(o)
		t := start.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour))))
		for range min(1+r.IntN(5), n-len(d.purchases)) {
			p := &d.products[r.IntN(np)]
			q := int32(1 + r.IntN(3))
			if r.IntN(30) == 0 {
				q = -q
			}
			d.purchases = append(d.purchases, affinity.Purchase{Customer: cust, Product: p.Key, Order: order, Time: t, Quantity: q, Price: p.Price})
		}
	}
	return d
}

func (d *benchData) fill(tb testing.TB, b *affinity.Builder) {
	for _, p := range d.products {
		if err := b.AddProduct(p); err != nil {
			tb.Fatal(err)
		}
	}
	for _, p := range d.purchases {
		if err := b.Add(p); err != nil {
			tb.Fatal(err)
		}
	}
}

var benchSizes = []struct {
	name  string
	lines int
}{{"lines=1e5", 100_000}, {"lines=1e6", 1_000_000}}

// BenchmarkBuilderAdd measures staging: AddProduct for the catalog and Add
// for every line (interning, order grouping), without Build.
func BenchmarkBuilderAdd(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			d := newBenchData(size.lines)
			b.ReportAllocs()
			for b.Loop() {
				var bl affinity.Builder
				d.fill(b, &bl)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.lines), "ns/line")
		})
	}
}

// BenchmarkBuild measures Build alone (sorting, line placement, bitmaps,
// summary) on a filled Builder, and the resident size of the History: heap
// growth from before filling the Builder to after Build, with the History
// alive and the Builder's staging freed. The input's key strings are shared
// with the History and so not counted.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			d := newBenchData(size.lines)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				var bl affinity.Builder
				d.fill(b, &bl)
				b.StartTimer()
				if _, err := bl.Build(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.lines), "ns/line")

			before := heapAlloc()
			var bl affinity.Builder
			d.fill(b, &bl)
			h, err := bl.Build(ctx)
			if err != nil {
				b.Fatal(err)
			}
			after := heapAlloc()
			b.ReportMetric(float64(int64(after)-int64(before))/float64(h.NumLines()), "B/line")
			b.ReportMetric(float64(h.MemoryUsage().Total())/float64(h.NumLines()), "est-B/line")
			runtime.KeepAlive(h)
			runtime.KeepAlive(d) // the input was alive in before, too
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
