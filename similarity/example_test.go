package similarity_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// cameraShop is a small history: cameras sell with memory cards and bags;
// some customers come back for a memory card a week later.
func cameraShop() *affinity.History {
	var b affinity.Builder
	day := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	orders := []struct {
		customer string
		days     int
		products []string
	}{
		{"ann", 0, []string{"camera", "memory card", "bag"}},
		{"ann", 40, []string{"tripod"}},
		{"bob", 1, []string{"camera"}},
		{"bob", 8, []string{"memory card"}},
		{"cat", 2, []string{"camera", "bag"}},
		{"cat", 9, []string{"memory card", "batteries"}},
		{"dan", 3, []string{"memory card", "batteries"}},
		{"eve", 4, []string{"camera", "memory card"}},
		{"fay", 5, []string{"batteries"}},
		{"gus", 6, []string{"tripod", "bag"}},
	}
	for i, o := range orders {
		for _, p := range o.products {
			b.Add(affinity.Purchase{Customer: o.customer, Order: fmt.Sprint("o", i), Product: p,
				Time: day.AddDate(0, 0, o.days), Quantity: 1})
		}
	}
	h, _ := b.Build(context.Background())
	return h
}

func Example() {
	ctx := context.Background()
	h := cameraShop()
	c, _ := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	x, _ := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift, MinSupport: 1, K: 3})
	cat := h.Catalog()
	camera, _ := cat.LookupProduct("camera")
	fmt.Printf("%d baskets, camera in %d\n", x.Total(), x.Support(camera))
	for _, n := range x.Neighbors(camera) {
		fmt.Printf("%-12s lift %.2f  together %d×\n", cat.ProductKey(n.Product), n.Score, n.Count)
	}
	// Output:
	// 10 baskets, camera in 4
	// bag          lift 1.67  together 2×
	// memory card  lift 1.00  together 2×
}

// Sequential counts are directed: a memory card follows a camera, not the
// other way round.
func ExampleCount_sequential() {
	ctx := context.Background()
	h := cameraShop()
	c, _ := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Sequential, Window: 14 * 24 * time.Hour})
	cat := h.Catalog()
	camera, _ := cat.LookupProduct("camera")
	card, _ := cat.LookupProduct("memory card")
	fmt.Println("camera, then memory card:", c.Pair(camera, card))
	fmt.Println("memory card, then camera:", c.Pair(card, camera))
	fmt.Printf("P(card within 14 days | camera) = %.2f\n", similarity.Confidence.Score(c.PairCount(camera, card)))
	// Output:
	// camera, then memory card: 2
	// memory card, then camera: 0
	// P(card within 14 days | camera) = 0.50
}

func ExampleMeasure_Score() {
	// 100 baskets: 20 with a, 10 with b, 5 with both
	c := similarity.PairCount{N: 100, A: 20, B: 10, AB: 5}
	for _, m := range []similarity.Measure{similarity.Support, similarity.Confidence, similarity.Lift, similarity.NPMI, similarity.Jaccard} {
		fmt.Printf("%-10v %.3f\n", m, m.Score(c))
	}
	// Output:
	// support    0.050
	// confidence 0.250
	// lift       2.500
	// npmi       0.306
	// jaccard    0.200
}

func ExampleShrink() {
	// the same lift of 4, seen together twice or 200 times, with λ = 10
	fmt.Printf("%.2f %.2f\n", similarity.Shrink(4, 2, 10), similarity.Shrink(4, 200, 10))
	// Output:
	// 0.67 3.81
}

func ExampleSetJaccard() {
	h := cameraShop()
	cat := h.Catalog()
	camera, _ := cat.LookupProduct("camera")
	card, _ := cat.LookupProduct("memory card")
	buyersA, buyersB := h.Buyers(camera), h.Buyers(card)
	fmt.Printf("jaccard %.2f, overlap %.2f\n", similarity.SetJaccard(buyersA, buyersB), similarity.SetOverlap(buyersA, buyersB))
	baskets := roaring.BitmapOf(1, 2, 3, 4)
	fmt.Printf("lift %.2f\n", similarity.Lift.Score(similarity.SetPair(baskets, roaring.BitmapOf(3, 4, 5), 10)))
	// Output:
	// jaccard 0.80, overlap 1.00
	// lift 1.67
}

func ExampleVecCosine() {
	x := []float64{1, 2, 0, 3}
	y := []float64{2, 0, 1, 3}
	cos, _ := similarity.VecCosine(x, y)
	fmt.Printf("%.4f\n", cos)
	_, err := similarity.VecCosine(x, y[:3])
	fmt.Println(err)
	// Output:
	// 0.7857
	// similarity: vector lengths differ: 4 and 3
}

func ExampleIndex_WriteTo() {
	ctx := context.Background()
	c, _ := similarity.Count(ctx, cameraShop(), cameraShop().Latest(), similarity.CountOptions{})
	x, _ := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.NPMI, MinSupport: 1})
	var buf bytes.Buffer
	n, _ := x.WriteTo(&buf)
	y, err := similarity.ReadIndex(&buf)
	fmt.Println(n > 0, err, y.Measure(), y.NumNeighbors() == x.NumNeighbors())

	buf.Reset()
	x.WriteTo(&buf)
	data := buf.Bytes()
	data[len(data)-1] ^= 1 // damage the checksum
	_, err = similarity.ReadIndex(bytes.NewReader(data))
	fmt.Println(err != nil)
	// Output:
	// true <nil> npmi true
	// true
}

func ExampleFitEASE() {
	ctx := context.Background()
	h := cameraShop()
	// K: -1 keeps every weight: the Index holds all of W, negative weights
	// included, and summing rows scores customers exactly as EASE does.
	x, _ := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: 1, K: -1})
	cat := h.Catalog()
	camera, _ := cat.LookupProduct("camera")
	for _, n := range x.Neighbors(camera) {
		fmt.Printf("%-12s %+.3f (bought by the same customer %d×)\n", cat.ProductKey(n.Product), n.Score, n.Count)
	}
	// Output:
	// memory card  +0.711 (bought by the same customer 4×)
	// bag          +0.228 (bought by the same customer 2×)
	// tripod       -0.028 (bought by the same customer 1×)
	// batteries    -0.182 (bought by the same customer 1×)
}

func ExampleFitEASE_sparse() {
	ctx := context.Background()
	h := cameraShop()
	co := similarity.CountOptions{Scope: similarity.Customer}
	dense, _ := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 1, Solver: similarity.EASEDense})
	// the sparse solver computes the weights of the pairs bought together,
	// from an approximate inverse; on a catalog this small it is exact
	sparse, _ := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 1, Solver: similarity.EASESparse})
	cat := h.Catalog()
	card, _ := cat.LookupProduct("memory card")
	for _, n := range sparse.Neighbors(card) {
		for _, d := range dense.Neighbors(card) {
			if d.Product == n.Product {
				fmt.Printf("%-10s sparse %+.3f dense %+.3f\n", cat.ProductKey(n.Product), n.Score, d.Score)
			}
		}
	}
	// Output:
	// camera     sparse +0.638 dense +0.638
	// batteries  sparse +0.409 dense +0.409
	// tripod     sparse +0.063 dense +0.063
	// bag        sparse +0.024 dense +0.024
}

func ExampleItemMatrix_BM25() {
	ctx := context.Background()
	h := cameraShop()
	m, _ := similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	w, _ := m.BM25(similarity.DefaultBM25)
	products, customers := w.Dims()
	cat := h.Catalog()
	card, _ := cat.LookupProduct("memory card")
	ann, _ := h.LookupCustomer("ann")
	dan, _ := h.LookupCustomer("dan")
	fmt.Printf("%d×%d, card for ann %.3f, for dan %.3f\n", products, customers, w.At(card, int(ann)), w.At(card, int(dan)))
	// Output:
	// 5×7, card for ann 0.241, for dan 0.734
}
