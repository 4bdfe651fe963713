package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
)

// TestUpdateCompactionStops: a background build whose context
// (UpdateOptions.Background) is done stops with its error, later updates
// lay their deltas over the full index they had, and every answer is the
// one of a full build.
func TestUpdateCompactionStops(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)() // every layered update starts one
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	r := rand.New(rand.NewPCG(4, 6))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 80}
	h := g.history(t, 8)
	x, err := segment.Build(ctx, h, g.asOf, segment.Options{})
	require.NoError(t, err)
	first := x
	queries := []string{`frequency >= 2`, `recency <= 30`, `monetary >= 10`, `rfm("Champions")`}
	for step := range 3 {
		h2 := g.next(t, h, 2)
		got, err := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{Compact: true, Background: stopped})
		require.NoError(t, err)
		require.True(t, segment.Layered(got), "step %d", step)
		require.ErrorIs(t, segment.CompactionErr(got), context.Canceled, "step %d: the build stopped", step)
		require.Same(t, first, segment.Base(got), "step %d: laid over the first full index", step)
		want, err := segment.Build(ctx, h2, g.asOf, segment.Options{})
		require.NoError(t, err)
		for _, q := range queries {
			w, werr := want.Query(q)
			gq, gerr := got.Query(q)
			require.NoError(t, werr, q)
			require.NoError(t, gerr, q)
			require.Equal(t, w.ToArray(), gq.ToArray(), fmt.Sprintf("step %d: %s", step, q))
		}
		x, h = got, h2
	}
}
