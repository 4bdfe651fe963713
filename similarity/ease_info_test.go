package similarity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// TestEASEInfo checks what FitEASE reports through EASEOptions.Info.
func TestEASEInfo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// the ratings shape of TestSparseEASEQuality, on which the fill grows
	// (at the quick suite's smaller size too: 128 long, 96 quick)
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(400, 250), Products: testdata.Scale(600, 360), Categories: 19, MeanOrders: 20, MeanLines: 5, RepeatRate: -1, Zipf: 0.9, ViewsPerLine: -1, Seed: 3}).History(ctx)
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
