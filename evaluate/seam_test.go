package evaluate_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/evaluate"
)

// TestEvaluateLimits: huge K and curve K are errors instead of
// gigabytes, nil inputs are errors instead of panics.
func TestEvaluateLimits(t *testing.T) {
	s := handSplit(t)
	ctx := context.Background()
	for _, o := range []evaluate.Options{{K: math.MaxInt32}, {CurveK: math.MaxInt32}, {K: evaluate.MaxK + 1}} {
		_, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{handLists()}, o)
		require.Error(t, err, "%+v", o)
		assert.ErrorContains(t, err, "MaxK")
	}
	_, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{handLists()}, evaluate.Options{K: evaluate.MaxK})
	require.NoError(t, err)
	//lint:ignore SA1012 a nil context is the input under test
	_, err = evaluate.Evaluate(nil, s, []evaluate.Recommender{handLists()}, evaluate.Options{}) //nolint:staticcheck
	require.ErrorContains(t, err, "nil context")
	_, err = evaluate.Evaluate(ctx, s, []evaluate.Recommender{nil}, evaluate.Options{})
	require.ErrorContains(t, err, "nil recommender")

	for name, split := range map[string]func() (*evaluate.Split, error){
		"temporal":   func() (*evaluate.Split, error) { return evaluate.TemporalSplit(ctx, nil, day(3)) },
		"last order": func() (*evaluate.Split, error) { return evaluate.LastOrderSplit(ctx, nil) },
		"chrono":     func() (*evaluate.Split, error) { return evaluate.ChronoSplit(ctx, nil, evaluate.SplitOptions{}) },
		"stratified": func() (*evaluate.Split, error) { return evaluate.StratifiedSplit(ctx, nil, evaluate.SplitOptions{}) },
		"leave one":  func() (*evaluate.Split, error) { return evaluate.LeaveOneOutSplit(ctx, nil, evaluate.SplitOptions{}) },
		//lint:ignore SA1012 a nil context is the input under test
		"nil ctx": func() (*evaluate.Split, error) { return evaluate.LastOrderSplit(nil, s.Train) }, //nolint:staticcheck
	} {
		_, err := split()
		assert.Error(t, err, name)
	}
	assert.True(t, evaluate.DefaultCutoff(nil).IsZero())
}
