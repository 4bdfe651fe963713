package segment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRadixSort compares radixSort with slices.Sort for value ranges that
// need one to four passes and for lengths around the small-input cut-off.
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, limit := range []uint32{1, 2, 200, 256, 257, 70000, 1 << 24, 1<<24 + 1, math.MaxUint32} {
		for _, n := range []int{0, 1, 255, 256, 1000, 50000} {
			v := make([]uint32, n)
			for i := range v {
				v[i] = rng.Uint32N(limit)
			}
			want := slices.Sorted(slices.Values(v))
			w := slices.Clone(v)
			radixSort(v, limit, nil)
			if !slices.Equal(v, want) {
				t.Fatalf("limit %d, n %d: not sorted", limit, n)
			}
			radixSort(w, limit, make([]uint32, n+3)) // with scratch space
			if !slices.Equal(w, want) {
				t.Fatalf("limit %d, n %d, with scratch: not sorted", limit, n)
			}
		}
	}
}
