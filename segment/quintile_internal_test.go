package segment

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestQuintileScoresMatchRanks checks the quintile cuts against ranking
// every value with a sort and a binary search, and nthElement against a
// sort, on random values with many ties and on sorted and reversed runs.
func TestQuintileScoresMatchRanks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// 3,000 trials in the long suite, 1,000 in the quick one: still ten
	// of up to 20,000 values, and every ordering case
	for trial := range testdata.Scale(3000, 1000) {
		n := 1 + r.IntN(200)
		if trial%100 == 0 {
			n = 1 + r.IntN(20_000)
		}
		span := int64(1 + r.IntN(n+5))
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = r.Int64N(span) - span/3
		}
		switch trial % 4 {
		case 1:
			slices.Sort(vals)
		case 2:
			slices.Sort(vals)
			slices.Reverse(vals)
		}
		sorted := slices.Sorted(slices.Values(vals))
		k := r.IntN(n)
		a := slices.Clone(vals)
		nthElement(a, k)
		if a[k] != sorted[k] {
			t.Fatalf("trial %d: nthElement(%d) = %d, want %d", trial, k, a[k], sorted[k])
		}
		for i := range a {
			if (i < k && a[i] > a[k]) || (i > k && a[i] < a[k]) {
				t.Fatalf("trial %d: a[%d] = %d on the wrong side of a[%d] = %d", trial, i, a[i], k, a[k])
			}
		}
		cuts := quintileCuts(slices.Clone(vals))
		for _, v := range vals {
			w, _ := slices.BinarySearch(sorted, v)
			want := 1 + 5*w/n
			got := 1
			for _, c := range cuts {
				if v > c {
					got++
				}
			}
			if got != want {
				t.Fatalf("trial %d: value %d scores %d, want %d (cuts %v)", trial, v, got, want, cuts)
			}
		}
	}
}
