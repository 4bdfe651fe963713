package similarity_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/similarity"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/floats"
)

// cpuTime returns the process's user+system CPU time. Benchmarks report
// it per op next to the wall time: on a shared machine the wall time
// includes waiting for a core, the CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f in b.Loop and reports the CPU time per op.
func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	c0 := cpuTime()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(n)/1e6, "cpu-ms/op")
}

// pairOccurrences returns Σ over transactions of the pairs counted in
// them: unordered pairs for symmetric counts, ordered ones for directed.
func pairOccurrences(c *similarity.Counts) float64 {
	s := 0.0
	for a := range c.NumProducts() {
		_, vals := c.Row(affinity.ProductID(a))
		for _, v := range vals {
			s += float64(v)
		}
	}
	if !c.Directed() {
		s /= 2
	}
	return s
}

// heapMB returns the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

var (
	scaleOnce sync.Once
	scaleHist *affinity.History
)

// scaleHistory is the 10 M-line storefront: 1 M customers, 100 k products
// with Zipf popularity, 500 categories, no events. Generating it takes
// about a minute and a few GB, once per test binary.
func scaleHistory(b *testing.B) *affinity.History {
	scaleOnce.Do(func() {
		s := dataset.Generate(dataset.SyntheticOptions{Customers: 1_000_000, Products: 100_000, Categories: 500, ViewsPerLine: -1})
		h, err := s.History(context.Background())
		if err != nil {
			panic(err)
		}
		scaleHist = h
	})
	return scaleHist
}

// BenchmarkCountAndIndex10M counts co-occurrences and selects the top 50
// neighbours by lift for 10 M lines, 1 M customers and 100 k products.
// Metrics: pairs/s is pair occurrences counted per second of wall time;
// heap-MB is the live heap holding the counts and the index (the History
// excluded); B/op everything allocated on the way.
func BenchmarkCountAndIndex10M(b *testing.B) {
	h := scaleHistory(b)
	b.Logf("%d lines, %d orders, %d customers, %d products", h.NumLines(), h.NumOrders(), h.NumCustomers(), h.Catalog().NumProducts())
	ctx := context.Background()
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		b.Run("scope="+scope.String(), func(b *testing.B) {
			base := heapMB()
			c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope})
			if err != nil {
				b.Fatal(err)
			}
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift, K: 50})
			if err != nil {
				b.Fatal(err)
			}
			heap := heapMB() - base
			pairs, nbs := c.NumPairs(), x.NumNeighbors()
			occ := pairOccurrences(c)
			c, x = nil, nil
			defer func() { // after b.Loop, which clears reported metrics
				b.ReportMetric(heap, "heap-MB")
				b.ReportMetric(float64(pairs), "stored-pairs")
				b.ReportMetric(float64(nbs), "neighbours")
			}()
			start := time.Now()
			loop(b, func() {
				c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift, K: 50}); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(occ*float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}

// movieLensShape draws interactions shaped like MovieLens 100k: 943
// customers, 1,682 products, exactly 100,000 distinct (customer, product)
// pairs, at least 20 per customer, heavy-tailed activity and Zipf product
// popularity. asPurchases stores them as one-line orders (so buyer
// bitmaps exist), otherwise as Rating events.
func movieLensShape(tb testing.TB, asPurchases bool) *affinity.History {
	const users, items, total = 943, 1682, 100_000
	rng := rand.New(rand.NewPCG(1998, 4))
	act := make([]float64, users)
	sum := 0.0
	for u := range act {
		act[u] = math.Exp(1.1 * rng.NormFloat64())
		sum += act[u]
	}
	want := make([]int, users)
	n := 0
	for u := range want {
		want[u] = min(items*3/4, 20+int(act[u]/sum*(total-20*users)))
		n += want[u]
	}
	for u := 0; n < total; u = (u + 1) % users {
		if want[u] < items*3/4 {
			want[u]++
			n++
		}
	}
	cum := make([]float64, items)
	c := 0.0
	for i := range cum {
		c += 1 / math.Pow(float64(i+1), 0.85)
		cum[i] = c
	}
	var b affinity.Builder
	start := time.Date(1997, 9, 20, 0, 0, 0, 0, time.UTC)
	for u := range users {
		seen := make(map[int]bool, want[u])
		for len(seen) < want[u] {
			i, _ := slices.BinarySearch(cum, rng.Float64()*c)
			i = min(i, items-1)
			if seen[i] {
				continue
			}
			seen[i] = true
			at := start.Add(time.Duration(rng.IntN(200*24*3600)) * time.Second)
			cust, prod := fmt.Sprint("u", u), fmt.Sprint("m", i)
			var err error
			if asPurchases {
				err = b.Add(affinity.Purchase{Customer: cust, Product: prod, Order: fmt.Sprint(u, "/", i), Time: at, Quantity: 1})
			} else {
				err = b.AddEvent(affinity.Event{Customer: cust, Product: prod, Time: at, Kind: affinity.Rating, Weight: float32(1 + rng.IntN(5))})
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// BenchmarkMovieLensShape: customer-scope counts and the top 50 Jaccard
// neighbours (as SAR fits them) on MovieLens-100k-shaped data. "rows" is
// Count + NewIndex; "bitmaps" is the alternative of intersecting buyer
// bitmaps pair by pair with SetJaccard (AndCardinality).
func BenchmarkMovieLensShape(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"ratings", "purchases"} {
		h := movieLensShape(b, kind == "purchases")
		opts := similarity.CountOptions{Scope: similarity.Customer, MaxBasket: -1, Events: kind == "ratings"}
		b.Run("rows/"+kind, func(b *testing.B) {
			c, err := similarity.Count(ctx, h, h.Latest(), opts)
			if err != nil {
				b.Fatal(err)
			}
			occ := pairOccurrences(c)
			start := time.Now()
			loop(b, func() {
				c, _ := similarity.Count(ctx, h, h.Latest(), opts)
				similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Jaccard, K: 50, MinSupport: 1})
			})
			b.ReportMetric(occ*float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
	h := movieLensShape(b, true)
	b.Run("bitmaps/purchases", func(b *testing.B) {
		np := h.Catalog().NumProducts()
		buyers := make([]*roaring.Bitmap, np)
		for p := range buyers {
			buyers[p] = h.Buyers(affinity.ProductID(p))
		}
		scores := make([]float64, np*np)
		loop(b, func() {
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					for a := w; a < np; a += 2 {
						for c := a + 1; c < np; c++ {
							v := similarity.SetJaccard(buyers[a], buyers[c])
							scores[a*np+c], scores[c*np+a] = v, v
						}
					}
				})
			}
			wg.Wait()
		})
	})
}

var easeHist = map[int]*affinity.History{}

// easeHistory returns the synthetic storefront of the EASE benchmarks:
// n products, 10·n customers, no events; generated once per size.
func easeHistory(b *testing.B, n int) *affinity.History {
	h := easeHist[n]
	if h == nil {
		s := dataset.Generate(dataset.SyntheticOptions{Customers: 10 * n, Products: n, Categories: max(50, n/50), ViewsPerLine: -1})
		var err error
		if h, err = s.History(context.Background()); err != nil {
			b.Fatal(err)
		}
		easeHist[n] = h
	}
	return h
}

// benchmarkEASE fits EASE with opts on each size and reports the products
// fitted and the weights kept.
func benchmarkEASE(b *testing.B, sizes []int, opts similarity.EASEOptions) {
	ctx := context.Background()
	opts.Count = similarity.CountOptions{Scope: similarity.Customer}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			h := easeHistory(b, n)
			c, _ := similarity.Count(ctx, h, h.Latest(), opts.Count)
			fitted := 0
			for p := range c.NumProducts() {
				if c.Support(affinity.ProductID(p)) > 0 {
					fitted++
				}
			}
			opts.MaxProducts = n
			var x *similarity.Index
			loop(b, func() {
				var err error
				if x, err = similarity.FitEASE(ctx, h, h.Latest(), opts); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(fitted), "fitted-products")
			b.ReportMetric(float64(x.NumNeighbors()), "weights")
		})
	}
}

// BenchmarkFitEASE fits dense EASE on catalogs of 2 k, 5 k and 10 k
// products (customers = 10 × products, customer scope, all products with
// a purchase fitted). The dense fit is O(n³): run with -benchtime=1x.
func BenchmarkFitEASE(b *testing.B) {
	benchmarkEASE(b, []int{2_000, 5_000, 10_000}, similarity.EASEOptions{Solver: similarity.EASEDense})
}

// BenchmarkFitSparseEASE fits sparse EASE (default options) on catalogs
// of 2 k to 100 k products, shaped as in BenchmarkFitEASE. Run the big
// sizes with -benchtime=1x.
func BenchmarkFitSparseEASE(b *testing.B) {
	benchmarkEASE(b, []int{2_000, 5_000, 20_000, 100_000}, similarity.EASEOptions{Solver: similarity.EASESparse})
}

// BenchmarkEmbeddingTopK compares the block-wise cosine top-K (gonum
// Sgemm on blocks of 256 × 2,048) with the pairwise loop (one dot product
// per pair, in double and in single precision) for 64-dimensional
// embeddings.
func BenchmarkEmbeddingTopK(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{2_000, 10_000} {
		s := dataset.Generate(dataset.SyntheticOptions{Customers: 5 * n, Products: n, Categories: 50, ViewsPerLine: -1})
		h, err := s.History(ctx)
		if err != nil {
			b.Fatal(err)
		}
		co := similarity.CountOptions{Scope: similarity.Customer}
		m, _ := similarity.NewItemMatrix(ctx, h, h.Latest(), co)
		w, _ := m.BM25(similarity.BM25Params{})
		e, err := similarity.Embed(ctx, w, similarity.EmbedOptions{Dim: 64})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := similarity.Count(ctx, h, h.Latest(), co)
		b.Run(fmt.Sprintf("block/products=%d", n), func(b *testing.B) {
			loop(b, func() { e.Index(ctx, c, similarity.IndexOptions{K: 50}) })
		})
		b.Run(fmt.Sprintf("pairwise/products=%d", n), func(b *testing.B) {
			loop(b, func() { pairwiseCosineTopK(e, 50, 2) })
		})
		b.Run(fmt.Sprintf("pairwise-float32/products=%d", n), func(b *testing.B) {
			loop(b, func() { pairwiseCosineTopK32(e, 50, 2) })
		})
	}
}

// BenchmarkEmbed is the truncated SVD itself (64 dimensions) of the
// BM25-weighted product × customer matrix.
func BenchmarkEmbed(b *testing.B) {
	ctx := context.Background()
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 50_000, Products: 10_000, Categories: 100, ViewsPerLine: -1})
	h, err := s.History(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m, _ := similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	w, _ := m.BM25(similarity.BM25Params{})
	b.Run("customers=5e4/products=1e4", func(b *testing.B) {
		loop(b, func() { similarity.Embed(ctx, w, similarity.EmbedOptions{Dim: 64}) })
	})
}

// pairwiseCosineTopK is a fair pairwise baseline: unit vectors computed
// once, one floats.Dot per pair, a bounded sorted list per row, rows split
// over workers.
func pairwiseCosineTopK(e *similarity.Embedding, k, workers int) [][]similarity.Neighbor {
	n, d := e.NumProducts(), e.Dim()
	unit := make([]float64, n*d)
	for p := range n {
		v := e.Vector(affinity.ProductID(p))
		if nv := floats.Norm(v, 2); nv > 0 {
			floats.ScaleTo(unit[p*d:(p+1)*d], 1/nv, v)
		}
	}
	rows := make([][]similarity.Neighbor, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for a := w; a < n; a += workers {
				ua := unit[a*d : (a+1)*d]
				row := make([]similarity.Neighbor, 0, k+1)
				for c := range n {
					if c == a {
						continue
					}
					nb := similarity.Neighbor{Product: affinity.ProductID(c), Score: float32(floats.Dot(ua, unit[c*d:(c+1)*d]))}
					row = insertTopK(row, nb, k)
				}
				rows[a] = row
			}
		})
	}
	wg.Wait()
	return rows
}

// pairwiseCosineTopK32 is pairwiseCosineTopK in single precision, with
// gonum's float32 dot product.
func pairwiseCosineTopK32(e *similarity.Embedding, k, workers int) [][]similarity.Neighbor {
	n, d := e.NumProducts(), e.Dim()
	unit := make([]float32, n*d)
	for p := range n {
		v := e.Vector(affinity.ProductID(p))
		if nv := floats.Norm(v, 2); nv > 0 {
			for i, x := range v {
				unit[p*d+i] = float32(x / nv)
			}
		}
	}
	vec := func(p int) blas32.Vector { return blas32.Vector{N: d, Inc: 1, Data: unit[p*d : (p+1)*d]} }
	rows := make([][]similarity.Neighbor, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for a := w; a < n; a += workers {
				va := vec(a)
				row := make([]similarity.Neighbor, 0, k+1)
				for c := range n {
					if c == a {
						continue
					}
					nb := similarity.Neighbor{Product: affinity.ProductID(c), Score: blas32.Dot(va, vec(c))}
					row = insertTopK(row, nb, k)
				}
				rows[a] = row
			}
		})
	}
	wg.Wait()
	return rows
}

func BenchmarkMeasures(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 1000), make([]float64, 1000)
	for i := range x {
		x[i], y[i] = rng.Float64(), rng.Float64()
	}
	b.Run("VecCosine/n=1000", func(b *testing.B) {
		loop(b, func() { similarity.VecCosine(x, y) })
	})
	a, c := roaring.New(), roaring.New()
	for i := range uint32(1_000_000) {
		if rng.IntN(10) == 0 {
			a.Add(i)
		}
		if rng.IntN(7) == 0 {
			c.Add(i)
		}
	}
	b.Run("SetJaccard/universe=1e6", func(b *testing.B) {
		loop(b, func() { similarity.SetJaccard(a, c) })
	})
	pc := similarity.PairCount{N: 1000, A: 100, B: 50, AB: 20}
	b.Run("Score/npmi", func(b *testing.B) {
		loop(b, func() { similarity.NPMI.Score(pc) })
	})
}

func BenchmarkNeighbors(b *testing.B) {
	ctx := context.Background()
	h := demoHistory(b)
	c, _ := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	x, _ := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift})
	np := affinity.ProductID(x.NumProducts())
	var p affinity.ProductID
	loop(b, func() {
		x.Neighbors(p % np)
		p++
	})
}

// insertTopK inserts nb into row, kept sorted by score descending (ties by
// product) and cut to k entries.
func insertTopK(row []similarity.Neighbor, nb similarity.Neighbor, k int) []similarity.Neighbor {
	if len(row) == k && nb.Score <= row[k-1].Score {
		return row
	}
	i, _ := slices.BinarySearchFunc(row, nb, func(x, y similarity.Neighbor) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
	})
	row = slices.Insert(row, i, nb)
	if len(row) > k {
		row = row[:k]
	}
	return row
}
