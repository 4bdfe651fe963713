package recommend_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/recommend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTuningValidation: a tuning log said "validation 2025-12-30 to
// 2025-12-30" after a random holdout, which has no window; Tuning records
// what was held out, and Validation says it in words: the window of a
// time holdout, the random quarter (with its seed) of a random one.
func TestTuningValidation(t *testing.T) {
	ctx := context.Background()
	h := advShop(t, 5, 80, 30)
	asOf := h.Latest()
	g := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{0},
		Blends: []float64{-1}, RepeatWeights: []float64{0}, Validation: 21 * 24 * time.Hour}

	tu, err := recommend.Tune(ctx, h, asOf, g)
	require.NoError(t, err)
	assert.Equal(t, recommend.HoldoutTime, tu.Holdout)
	from := asOf.Add(-g.Validation)
	require.NotEqual(t, from.Format(time.DateOnly), asOf.Format(time.DateOnly))
	assert.Equal(t, from.Format(time.DateOnly)+" to "+asOf.Format(time.DateOnly), tu.Validation())

	g.Holdout, g.Seed = recommend.HoldoutRandom, 9
	tu, err = recommend.Tune(ctx, h, asOf, g)
	require.NoError(t, err)
	assert.Equal(t, recommend.HoldoutRandom, tu.Holdout)
	assert.Equal(t, uint64(9), tu.Seed)
	v := tu.Validation()
	assert.Contains(t, v, "random quarter")
	assert.Contains(t, v, "seed 9")
	assert.NotContains(t, v, " to ", "no window to name: %s", v)

	// the default choice records its holdout too
	ag := recommend.AutoGrid(recommend.Options{})
	ag.Holdout, ag.Seed, ag.MinCustomers = recommend.HoldoutRandom, 4, 1
	_, ch, err := recommend.Choose(ctx, h, asOf, ag)
	require.NoError(t, err)
	require.NotNil(t, ch, "validated")
	assert.Contains(t, ch.Validation(), "seed 4")
}
