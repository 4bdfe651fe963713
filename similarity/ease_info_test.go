package similarity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// TestEASEInfo checks what FitEASE reports through EASEOptions.Info, on
// the ratings shape of TestSparseEASEQuality, on which the automatic fill
// grows past DefaultSparseEASEFill: 400 customers and 600 products (seed
// 3), 320 and 320 in the quick suite (seed 19).
//
// It grows on every seed of these shapes, with margin: at 400 × 600 the
// factorisation at the default fill broke down on seeds 1–30 (the fill
// doubles), and the fill ended at 128 on seeds 1–40; at 320 × 320 it
// broke down on 52 of seeds 1–60 and on the other 8 missed the accuracy
// bound 4.6–11.5 times over (residual 0.93–2.3 against
// MaxSparseEASEResidual, 0.2), the fill ending at 96 or 128 on seeds
// 1–100. Seed 19 is one of the 8, so that the quick suite goes through
// the growth on an inaccurate factor. The quick suite's former 250 × 360
// was on the edge: residuals 0.17–1.7 at the default fill on 28 of seeds
// 1–30 (2 broke down), and on 3 of seeds 1–100 (14 and 22 among them)
// the fill did not grow.
func TestEASEInfo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(400, 320), Products: testdata.Scale(600, 320), Categories: 19, MeanOrders: 20, MeanLines: 5, RepeatRate: -1, Zipf: 0.9, ViewsPerLine: -1, Seed: uint64(testdata.Scale(3, 19))}).History(ctx)
	require.NoError(t, err)
	fit := func(o similarity.EASEOptions) (*similarity.Index, similarity.EASEInfo) {
		var info similarity.EASEInfo
		o.Count, o.K, o.Info = similarity.CountOptions{Scope: similarity.Customer}, 50, &info
		x, err := similarity.FitEASE(ctx, h, h.Latest(), o)
		require.NoError(t, err)
		return x, info
	}

	_, dense := fit(similarity.EASEOptions{Solver: similarity.EASEDense})
	assert.Equal(t, similarity.EASEInfo{}, dense, "the dense solver: nothing to report")

	x, info := fit(similarity.EASEOptions{Solver: similarity.EASESparse})
	require.True(t, info.Sparse)
	assert.Greater(t, info.Fill, similarity.DefaultSparseEASEFill, "the fill grew on this shape")
	assert.Positive(t, info.Residual)
	assert.LessOrEqual(t, info.Residual, similarity.MaxSparseEASEResidual)
	assert.False(t, info.Compensated)

	// the reported fill is the one the model was fitted at
	again, fixedAt := fit(similarity.EASEOptions{Solver: similarity.EASESparse, Sparse: similarity.SparseEASEOptions{Fill: info.Fill}})
	assert.Equal(t, similarity.EASEInfo{Sparse: true, Fill: info.Fill}, fixedAt)
	require.Equal(t, x.NumProducts(), again.NumProducts())
	for p := range x.NumProducts() {
		require.Equal(t, x.Neighbors(affinity.ProductID(p)), again.Neighbors(affinity.ProductID(p)), "product %d", p)
	}

	// a fixed fill: no check, nothing grows
	_, fixed := fit(similarity.EASEOptions{Solver: similarity.EASESparse, Sparse: similarity.SparseEASEOptions{Fill: 32}})
	assert.Equal(t, 32, fixed.Fill)
	assert.Zero(t, fixed.Residual)
}

// TestSparseEASEFillBound: the automatic fill keeps within its bound on
// the entries from the first factorisation on — m·DefaultSparseEASEFill
// exceeded 2²⁵ above 2¹⁹ products — and starts at DefaultSparseEASEFill
// when that is within it. The bound is lowered here to a small catalog's
// scale.
func TestSparseEASEFillBound(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 150, Categories: 7, MeanOrders: 6, MeanLines: 4, RepeatRate: -1, ViewsPerLine: -1, Seed: 5}).History(ctx)
	require.NoError(t, err)
	co := similarity.CountOptions{Scope: similarity.Customer}
	c, err := similarity.Count(ctx, h, h.Latest(), co)
	require.NoError(t, err)
	m := 0 // the products EASE fits: those with a purchase
	for p := range c.NumProducts() {
		if c.Support(affinity.ProductID(p)) > 0 {
			m++
		}
	}
	for _, perColumn := range []int{1, 5, 20, similarity.DefaultSparseEASEFill} {
		t.Run(fmt.Sprint(perColumn), func(t *testing.T) {
			defer similarity.SetMaxAutoEntries(perColumn * m)()
			var info similarity.EASEInfo
			_, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Solver: similarity.EASESparse, Count: co, K: 20, Info: &info})
			require.NoError(t, err)
			require.True(t, info.Sparse)
			assert.Equal(t, perColumn, info.Fill, "the fill can grow no further than it starts")
		})
	}
}
