package similarity_test

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
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
