package similarity_test

import (
	"context"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNilSetsAndParts: a nil set is an empty one for the set measures, and
// a nil part or partial is an error matching affinity.ErrNilArgument, not
// a panic.
func TestNilSetsAndParts(t *testing.T) {
	a := roaring.BitmapOf(1, 2, 3)
	for name, f := range map[string]func(x, y *roaring.Bitmap) float64{
		"jaccard": similarity.SetJaccard, "dice": similarity.SetDice, "cosine": similarity.SetCosine, "overlap": similarity.SetOverlap,
	} {
		assert.Zero(t, f(nil, a), name)
		assert.Zero(t, f(a, nil), name)
		assert.Zero(t, f(nil, nil), name)
	}
	assert.Equal(t, similarity.PairCount{N: 10, A: 3}, similarity.SetPair(a, nil, 10))
	assert.Equal(t, similarity.PairCount{N: 3, B: 3}, similarity.SetPair(nil, a, 0))

	_, err := similarity.JoinIndex(nil)
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	var p similarity.Partial
	require.ErrorIs(t, p.Merge(nil), affinity.ErrNilArgument)
}

// TestSumIgnoresUnusedWindow: basket counts made with different Window
// options (which basket scope does not use) sum; Sequential counts, whose
// window counts, still must agree. Sum refused the first.
func TestSumIgnoresUnusedWindow(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 60, Products: 20, Categories: 4}).History(ctx)
	require.NoError(t, err)
	count := func(scope similarity.Scope, w time.Duration) *similarity.Counts {
		c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope, Window: w})
		require.NoError(t, err)
		return c
	}
	sum, err := similarity.Sum(ctx, count(similarity.Basket, time.Hour), count(similarity.Basket, 30*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2*count(similarity.Basket, 0).Total(), sum.Total())
	_, err = similarity.Sum(ctx, count(similarity.Sequential, time.Hour), count(similarity.Sequential, 30*24*time.Hour))
	require.Error(t, err)
}
