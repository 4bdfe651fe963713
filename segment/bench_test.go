package segment_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// benchFixture is a synthetic storefront and its index, built once per
// size and benchmark binary: generating 1e6 customers takes a while.
type benchFixture struct {
	h    *affinity.History
	asOf time.Time
	x    *segment.Index
	heap uint64 // heap growth while building x, after GC
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[int]*benchFixture{}
)

var benchSizes = []int{100_000, 1_000_000}

func sizeName(n int) string { return fmt.Sprintf("customers=%.0e", float64(n)) }

// fixture returns the storefront of n customers (n/10 products, 500 leaf
// categories, 10 lines per customer, no events) and its index as of the
// end of trading.
func fixture(b *testing.B, n int) *benchFixture {
	b.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	s := dataset.Generate(dataset.SyntheticOptions{Customers: n, Products: n / 10, Categories: 500, ViewsPerLine: -1})
	h, err := s.History(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	asOf := s.Options.Start.AddDate(0, 0, s.Options.Days)
	s = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	f := &benchFixture{h: h, asOf: asOf, x: x, heap: after.HeapAlloc - before.HeapAlloc}
	fixtures[n] = f
	return f
}

// processCPU returns the CPU time the process has used, all threads: a
// measure of work that, unlike wall time, does not grow when other
// programs compete for the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuild builds the index; it reports the CPU time per build, the
// index's own estimate of its size and the heap it added, per customer.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := segment.Build(context.Background(), f.h, f.asOf, segment.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			m := f.x.MemoryUsage()
			b.ReportMetric(float64(m.Total())/float64(n), "bytes/customer")
			b.Logf("memory per customer: customers %d, categories %d, products %d, keys %d bytes",
				m.Customers/n, m.Categories/n, m.Products/n, m.Keys/n)
			b.ReportMetric(float64(f.heap)/float64(n), "heap-bytes/customer")
		})
	}
}

// query3 is the benchmark's three-clause query on the fixture: affinity
// for the most popular second-level category, recency two to four weeks,
// and no purchase in the largest department the category is not part of.
func query3(f *benchFixture) (src, x, y string) {
	cats := f.x.Categories()
	pop := func(c string) float64 { s, _ := f.x.PopulationShare(c); return s }
	byShare := func(depth int) []string {
		var out []string
		for _, c := range cats {
			if d, _ := f.x.CategoryDepth(c); d == depth {
				out = append(out, c)
			}
		}
		slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(pop(b), pop(a)), cmp.Compare(a, b)) })
		return out
	}
	x = byShare(2)[0]
	for _, d := range byShare(1) {
		if !strings.HasPrefix(x, d+"/") {
			y = d
			break
		}
	}
	return fmt.Sprintf(`affinity(%q) between 0.2 and 1 and recency between 14d and 28d and not bought(%q)`, x, y), x, y
}

// columns holds, per customer, what query3 needs: recency (-1 when the
// customer never bought), the spend in x and in total as integers times
// den (the least common multiple of the products' numbers of category
// paths, so that the weights m/n are integers) and whether the customer
// bought in y, all within the 24-month look-back.
type columns struct {
	recency    []int32
	inX, spend []int64
	boughtY    []bool
}

// scanColumns computes the columns from the raw lines of every customer.
func scanColumns(h *affinity.History, asOf time.Time, xPath, yPath string) *columns {
	cat := h.Catalog()
	xc, _ := cat.LookupCategory(xPath)
	yc, _ := cat.LookupCategory(yPath)
	now := asOf.Unix()
	start := testdata.MonthsBefore(asOf, 24).Unix()
	den := int64(1)
	for p := range cat.NumProducts() {
		if k := int64(len(cat.Categories(affinity.ProductID(p)))); k > 1 {
			g, b := den, k
			for b != 0 {
				g, b = b, g%b
			}
			den = den / g * k
		}
	}
	n := h.NumCustomers()
	cols := &columns{recency: make([]int32, n), inX: make([]int64, n), spend: make([]int64, n), boughtY: make([]bool, n)}
	for c := range affinity.CustomerID(n) {
		var spend, inX int64
		last := int64(-1)
		olo, ohi := h.CustomerOrders(c)
		for o := olo; o < ohi; o++ {
			t := h.OrderUnix(o)
			if t > now {
				break
			}
			d := (now - t) / 86400
			llo, lhi := h.OrderLines(o)
			for i := llo; i < lhi; i++ {
				ln := h.Line(i)
				if ln.Quantity <= 0 {
					continue
				}
				last = d
				if t <= start {
					continue
				}
				v := int64(ln.Value())
				spend += v * den
				paths := int64(len(cat.Categories(ln.Product)))
				for _, sh := range cat.Shares(ln.Product) {
					switch sh.Category {
					case xc:
						inX += v * int64(math.Round(float64(sh.Weight)*float64(paths))) * (den / paths)
					case yc:
						cols.boughtY[c] = true
					}
				}
			}
		}
		cols.recency[c] = int32(last)
		cols.inX[c], cols.spend[c] = inX, spend
	}
	return cols
}

// scan selects the customers of query3 from the columns.
func (cols *columns) scan() *roaring.Bitmap {
	out := roaring.New()
	for c, r := range cols.recency {
		// the share of x is at least 0.2: 5·inX ≥ spend, exactly
		if r >= 14 && r <= 28 && cols.spend[c] > 0 && 5*cols.inX[c] >= cols.spend[c] && !cols.boughtY[c] {
			out.Add(uint32(c))
		}
	}
	return out
}

// naiveQuery3 evaluates query3 the way one would without an index: a scan
// of every customer's lines.
func naiveQuery3(h *affinity.History, asOf time.Time, xPath, yPath string) *roaring.Bitmap {
	return scanColumns(h, asOf, xPath, yPath).scan()
}

// median runs fn k times and returns the median duration.
func median(k int, fn func()) time.Duration {
	ds := make([]time.Duration, k)
	for i := range ds {
		t0 := time.Now()
		fn()
		ds[i] = time.Since(t0)
	}
	slices.Sort(ds)
	return ds[k/2]
}

// BenchmarkQuery3 times the three-clause query on the index and, in the
// same run, the naive scan of the raw lines and a scan of precomputed
// columns; it reports the medians and the speed-up.
func BenchmarkQuery3(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			src, xPath, yPath := query3(f)
			got, err := f.x.Query(src)
			if err != nil {
				b.Fatal(err)
			}
			if want := naiveQuery3(f.h, f.asOf, xPath, yPath); !got.Equals(want) {
				b.Fatalf("index %d customers, naive scan %d", got.GetCardinality(), want.GetCardinality())
			}
			cols := scanColumns(f.h, f.asOf, xPath, yPath)
			naive := median(5, func() { naiveQuery3(f.h, f.asOf, xPath, yPath) })
			column := median(21, func() { cols.scan() })
			var ds []time.Duration
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				t0 := time.Now()
				if _, err := f.x.Query(src); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			slices.Sort(ds)
			med := ds[len(ds)/2]
			b.ReportMetric(float64(med.Nanoseconds()), "median-ns")
			b.ReportMetric(float64(naive.Nanoseconds()), "naive-median-ns")
			b.ReportMetric(float64(naive)/float64(med), "speedup-vs-naive")
			b.ReportMetric(float64(column)/float64(med), "speedup-vs-columns")
			b.ReportMetric(float64(got.GetCardinality()), "customers")
			b.Logf("%s: %d customers; index median %v, naive scan %v (%.0fx), column scan %v (%.1fx)",
				src, got.GetCardinality(), med, naive, float64(naive)/float64(med), column, float64(column)/float64(med))
		})
	}
}

// BenchmarkStats computes count, revenue and orders of every customer of
// the index (a 1e6-customer segment at the larger size).
func BenchmarkStats(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			all, err := f.x.Query(`frequency >= 1`)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				f.x.Stats("all", all)
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(all.GetCardinality()), "customers")
		})
	}
}

// BenchmarkStatsOfRandomSets computes the count, revenue and orders of
// random sets of 3 % to 11 % of a million customers: below about a
// sixteenth the set's containers are arrays and Stats reads per-customer
// columns, above it they are bitmaps and it intersects the bit slices.
func BenchmarkStatsOfRandomSets(b *testing.B) {
	f := fixture(b, benchSizes[len(benchSizes)-1])
	for _, pct := range []int{3, 6, 8, 11} {
		b.Run(fmt.Sprintf("percent=%d", pct), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(pct), 1))
			set := roaring.New()
			for c := range f.x.NumCustomers() {
				if rng.IntN(100) < pct {
					set.Add(uint32(c))
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				f.x.Stats("random", set)
			}
		})
	}
}

// BenchmarkRFGrid computes the count, revenue and orders of the 25 R×F
// cells (R score r and F score f) three ways: one Stats per intersection,
// one CrossTab of the evaluated score bands, and ScoreGrid.
func BenchmarkRFGrid(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			var rs, fs []*roaring.Bitmap
			for s := 1; s <= 5; s++ {
				r, err := f.x.Eval(segment.RScore().EQ(float64(s)))
				if err != nil {
					b.Fatal(err)
				}
				fr, err := f.x.Eval(segment.FScore().EQ(float64(s)))
				if err != nil {
					b.Fatal(err)
				}
				rs, fs = append(rs, r), append(fs, fr)
			}
			b.Run("stats", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for _, r := range rs {
						for _, fr := range fs {
							f.x.Stats("", roaring.And(r, fr))
						}
					}
				}
			})
			b.Run("crosstab", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					f.x.CrossTab(rs, fs)
				}
			})
			f.x.ScoreGrid(segment.RScore(), segment.FScore(), nil) // the score columns, once
			b.Run("scoregrid", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.x.ScoreGrid(segment.RScore(), segment.FScore(), nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkQueries times typical segment queries on the larger fixture.
func BenchmarkQueries(b *testing.B) {
	f := fixture(b, benchSizes[len(benchSizes)-1])
	_, xPath, _ := query3(f)
	for _, q := range []string{
		`rfm("Champions")`,
		`lifecycle("lapsing") and frequency >= 4`,
		fmt.Sprintf(`top(%q, 1) and monetary >= 100`, xPath),
		fmt.Sprintf(`lift(%q) >= 2 and recency <= 30d`, xPath),
		fmt.Sprintf(`affinity(%q) >= 0.3`, xPath),
		fmt.Sprintf(`bought(%q within 30d)`, xPath),
		`active between "2025-11-25" and "2025-12-02"`,
		`rscore >= 4 and fscore >= 4 and mscore >= 4`,
		`recency between 14d and 28d`,
		`recency between 100d and 200d`,
	} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.x.Query(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodec writes the index in the file format and reads it back.
func BenchmarkCodec(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			f := fixture(b, n)
			var buf bytes.Buffer
			if _, err := f.x.WriteTo(&buf); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.Run("encode", func(b *testing.B) {
				for b.Loop() {
					var w bytes.Buffer
					w.Grow(len(data))
					if _, err := f.x.WriteTo(&w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data))/float64(n), "file-bytes/customer")
			})
			b.Run("decode", func(b *testing.B) {
				for b.Loop() {
					if _, err := decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
