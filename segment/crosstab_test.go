package segment_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// CrossTab equals Stats of every pairwise intersection, whether the rows,
// the columns, both or neither are disjoint, with unknown ids, empty and
// nil sets.
func TestCrossTabMatchesStats(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 34))
	h := randomHistory(t, rng, 3000)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	n := uint32(x.NumCustomers())
	// partition returns k disjoint sets of random customers (some beyond
	// the index's ids); overlapping returns k sets that share customers.
	partition := func(k int) []*roaring.Bitmap {
		sets := make([]*roaring.Bitmap, k)
		for i := range sets {
			sets[i] = roaring.New()
		}
		for c := range n + 50 {
			if j := rng.IntN(k + 1); j < k {
				sets[j].Add(c)
			}
		}
		return sets
	}
	overlapping := func(k int) []*roaring.Bitmap {
		sets := make([]*roaring.Bitmap, k)
		for i := range sets {
			sets[i] = roaring.New()
			for range rng.IntN(int(n)) {
				sets[i].Add(rng.Uint32N(n + 50))
			}
		}
		if k > 1 {
			sets[1].Or(sets[0])
		}
		return sets
	}
	rounds := testdata.Scale(48, 16) // a multiple of 8: every case, small and large
	for round := range rounds {
		// small tables, and tables of several hundred cells
		lo, spread := 1, 6
		if round >= rounds/2 {
			lo, spread = 17, 10
		}
		size := func() int { return lo + rng.IntN(spread) }
		var rows, cols []*roaring.Bitmap
		switch round % 4 {
		case 0:
			rows, cols = partition(size()), partition(size())
		case 1:
			rows, cols = overlapping(1+size()), partition(size())
		case 2:
			rows, cols = partition(size()), overlapping(1+size())
		default:
			rows, cols = overlapping(1+size()), overlapping(1+size())
		}
		if round%5 == 0 {
			rows = append(rows, nil, roaring.New())
		}
		got := x.CrossTab(rows, cols)
		require.Len(t, got, len(rows))
		for i, r := range rows {
			require.Len(t, got[i], len(cols))
			for j, c := range cols {
				in := roaring.New()
				if r != nil && c != nil {
					in = roaring.And(r, c)
				}
				require.Equal(t, x.Stats("", in), got[i][j], "round %d cell %d,%d", round, i, j)
			}
		}
	}
	require.Empty(t, x.CrossTab(nil, []*roaring.Bitmap{x.All()}))
	require.Equal(t, [][]segment.Stats{{{}}}, x.CrossTab([]*roaring.Bitmap{x.All()}, []*roaring.Bitmap{nil}))
}
