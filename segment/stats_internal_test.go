package segment

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/dataset"
)

// generatedIndex builds the index of a generated shop as of its last order.
func generatedIndex(t *testing.T, so dataset.SyntheticOptions) *Index {
	t.Helper()
	h, err := dataset.Generate(so).History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x, err := Build(context.Background(), h, h.Latest(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestStatsColumnsMatchSlices checks that the per-customer columns give
// the sums of the bit-sliced indexes, for random sets of every density,
// customers without orders and ids past the index included.
func TestStatsColumnsMatchSlices(t *testing.T) {
	x := generatedIndex(t, dataset.SyntheticOptions{Customers: 5000, Products: 300, Seed: 3})
	rng := rand.New(rand.NewPCG(2, 2))
	for _, density := range []float64{0, 0.01, 0.1, 0.5, 1} {
		set := roaring.New()
		for c := range x.NumCustomers() + 10 {
			if rng.Float64() < density {
				set.Add(uint32(c))
			}
		}
		in := roaring.And(set, x.universe)
		r1, o1 := x.sumsBySlice(in)
		r2, o2 := x.sumsByColumn(in)
		if r1 != r2 || o1 != o2 {
			t.Fatalf("density %v: slices give %d and %d orders, columns %d and %d", density, r1, o1, r2, o2)
		}
		if density > 0 && (r1 == wideSum{} || o1 == wideSum{}) {
			t.Fatalf("density %v: nothing summed", density)
		}
	}
}
