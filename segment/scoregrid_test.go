package segment_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
)

// ScoreGrid equals CrossTab of the score bands (each band evaluated as a
// query), for every pair of scores, both scorings, every customer and
// random sets with ids beyond the index; anything but a score is refused.
func TestScoreGridMatchesCrossTab(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 43))
	h := randomHistory(t, rng, 2500)
	scores := []segment.Attr{segment.RScore(), segment.FScore(), segment.MScore()}
	for _, scoring := range []segment.RFMScoring{segment.RFMRank, segment.RFMNTile} {
		x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{RFMScoring: scoring})
		require.NoError(t, err)
		n := uint32(x.NumCustomers())
		bands := func(a segment.Attr) []*roaring.Bitmap {
			var out []*roaring.Bitmap
			for s := 1; s <= 5; s++ {
				b, err := x.Eval(a.EQ(float64(s)))
				require.NoError(t, err)
				out = append(out, b)
			}
			return out
		}
		sets := []*roaring.Bitmap{nil, roaring.New()}
		for range 4 {
			set := roaring.New()
			p := rng.Float64()
			for c := range n + 40 {
				if rng.Float64() < p {
					set.Add(c)
				}
			}
			sets = append(sets, set)
		}
		for _, row := range scores {
			for _, col := range scores {
				rows, cols := bands(row), bands(col)
				for _, set := range sets {
					got, err := x.ScoreGrid(row, col, set)
					require.NoError(t, err)
					rs, cs := rows, cols
					if set != nil {
						rs = make([]*roaring.Bitmap, 5)
						for i := range rows {
							rs[i] = roaring.And(rows[i], set)
						}
					}
					want := x.CrossTab(rs, cs)
					total := 0
					for i := range 5 {
						for j := range 5 {
							require.Equal(t, want[i][j], got[i][j], "%v × %v, %v, cell %d %d", row, col, scoring, i+1, j+1)
							total += got[i][j].Customers
						}
					}
					if set == nil {
						require.Equal(t, int(rows[0].GetCardinality()+rows[1].GetCardinality()+rows[2].GetCardinality()+
							rows[3].GetCardinality()+rows[4].GetCardinality()), total, "every scored customer is in a cell")
						require.Positive(t, total)
					}
				}
			}
		}
		for _, bad := range []segment.Attr{segment.Recency(), segment.Affinity("Dept0"), segment.Frequency()} {
			_, err := x.ScoreGrid(bad, segment.FScore(), nil)
			require.ErrorIs(t, err, segment.ErrInvalid, "%v", bad)
			_, err = x.ScoreGrid(segment.RScore(), bad, nil)
			require.ErrorIs(t, err, segment.ErrInvalid, "%v", bad)
		}
	}
}
