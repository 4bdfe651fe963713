package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// TestUpdateLayers checks chains of small refreshes, each updated from
// the last, a quarter of them a day or two later than the one before: every update adds a delta of its own change over
// the deltas before (customers scanned again leave the earlier ones), up
// to segment.MaxLayers, then scans the customers of the two smallest
// deltas again with its change, into one delta in their place;
// and every index of the chain answers as the full build of its History
// does, by features, totals (summed by bit slice, which reads each
// layer, and by column; on dense and sparse sets) and queries.
func TestUpdateLayers(t *testing.T) {
	ctx := context.Background()
	var steps, deep, merged, moved int
	for seed := range uint64(testdata.Scale(24, 4)) { // the quick suite's 4 make 40 updates, 8 of them merging
		r := rand.New(rand.NewPCG(seed, 91))
		g := &updateGen{r: r, asOf: updateAsOf, nCust: 300 + r.IntN(400)}
		opts := segment.Options{Lookback: affinity.AllTime}
		h := g.history(t, 4+r.IntN(8))
		x, err := segment.Build(ctx, h, g.asOf, opts)
		require.NoError(t, err)
		for step := range 2*segment.MaxLayers + 2 {
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			h2 := g.next(t, h, 1+r.IntN(3), msg)
			if r.IntN(4) == 0 { // a day or two later: earlier deltas are read that many days older
				g.asOf = g.asOf.Add(time.Duration(1+r.IntN(2)) * segment.Day)
				moved++
			}
			got, err := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{})
			require.NoError(t, err, msg)
			want, err := segment.Build(ctx, h2, g.asOf, opts)
			require.NoError(t, err, msg)
			steps++
			n, n0 := segment.Layers(got), segment.Layers(x)
			require.LessOrEqual(t, n, segment.MaxLayers, msg)
			if n > 1 {
				deep++
			}
			if n0 == segment.MaxLayers && n == segment.MaxLayers-1 {
				merged++
			}

			all := want.All()
			require.Equal(t, all.ToArray(), got.All().ToArray(), msg)
			require.Equal(t, want.FeaturesOf(all), got.FeaturesOf(all), "%s: FeaturesOf", msg)
			// every id up to the last known one, as one run: dense
			dense := roaring.New()
			dense.AddRange(0, uint64(h2.NumCustomers()))
			dense.RunOptimize()
			require.Equal(t, want.Stats("dense", dense), got.Stats("dense", dense), "%s: Stats of a dense set", msg)
			require.Equal(t, want.Stats("all", all), got.Stats("all", all), "%s: Stats", msg)
			st := want.Stats("all", all)
			rev, orders := segment.SumsBySlice(got, all)
			require.Equal(t, [2]int64{int64(st.Revenue), st.Orders}, [2]int64{rev, orders}, "%s: sums by bit slice", msg)
			sparse := roaring.New()
			for c := range uint32(h2.NumCustomers()) {
				if r.IntN(5) == 0 {
					sparse.Add(c)
				}
			}
			require.Equal(t, want.Stats("some", sparse), got.Stats("some", sparse), "%s: Stats of a sparse set", msg)
			require.Equal(t, want.RFMTable(), got.RFMTable(), "%s: RFMTable", msg)
			for _, q := range []string{`frequency >= 2`, `rscore >= 4`, `recency <= 10d`, `monetary > 0 and not lifecycle("new")`} {
				sameQuery(t, msg, q, got, want)
			}
			if segment.Layered(got) {
				x, h = got, h2
			} else {
				x, h = want, h2 // rebuilt: go on from a full index
			}
		}
	}
	t.Logf("%d updates (%d to a later day): %d over two or more deltas, %d merging two of %d deltas with their change", steps, moved, deep, merged, segment.MaxLayers)
	require.Greater(t, deep*2, steps, "too few updates laid a delta over others")
	require.Positive(t, merged, "no update merged the deltas")
}
