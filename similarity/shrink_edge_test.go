package similarity_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/similarity"
)

// TestShrinkNeverTogether: shrinkage multiplies by AB/(AB+λ), 0 for a
// pair never seen together, so every measure of such a pair shrinks to 0
// — PMI's −∞ included, which times 0 would be NaN — while NaN (counts no
// population has) stays NaN and λ = 0 leaves every score alone.
func TestShrinkNeverTogether(t *testing.T) {
	never := similarity.PairCount{N: 10, A: 3, B: 4}
	for m := similarity.Jaccard; m <= similarity.Overlap; m++ {
		v := similarity.Shrink(m.Score(never), never.AB, 1)
		assert.Zero(t, v, "%v", m)
		assert.False(t, math.Signbit(v), "%v: +0", m)
	}
	assert.Zero(t, similarity.Shrink(math.Inf(1), 0, 2))
	assert.Zero(t, similarity.Shrink(math.Inf(-1), 0, 0.5))
	assert.True(t, math.IsNaN(similarity.Shrink(math.NaN(), 0, 1)))
	assert.True(t, math.IsInf(similarity.Shrink(math.Inf(-1), 0, 0), -1), "λ = 0: unchanged")
	assert.True(t, math.IsInf(similarity.Shrink(math.Inf(1), 1, 3), 1), "some evidence: +∞ stays")
	assert.InDelta(t, -0.5, similarity.Shrink(-1, 1, 1), 1e-15)
}
