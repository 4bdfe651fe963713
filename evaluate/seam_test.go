package evaluate_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
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

// TestEvaluateParallelDeterministic: the report is the same with one
// worker and with several, and progress counts every customer of every
// recommender, ending at the total.
func TestEvaluateParallelDeterministic(t *testing.T) {
	h := storefront(t, 400, 3)
	ctx := context.Background()
	s, err := evaluate.TemporalSplit(ctx, h, evaluate.DefaultCutoff(h))
	require.NoError(t, err)
	recs := func() []evaluate.Recommender {
		return append(evaluate.Baselines(1), &evaluate.Engine{}, &evaluate.ItemNeighbors{})
	}
	one, err := evaluate.Evaluate(ctx, s, recs(), evaluate.Options{Workers: 1, CurveK: 5})
	require.NoError(t, err)
	var reports []affinity.Progress
	many, err := evaluate.Evaluate(ctx, s, recs(), evaluate.Options{Workers: 4, CurveK: 5, Progress: func(p affinity.Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	require.Len(t, many.Rows, len(one.Rows))
	for i := range one.Rows {
		a, b := one.Rows[i], many.Rows[i]
		a.FitTime, a.RecommendTime, b.FitTime, b.RecommendTime = 0, 0, 0, 0
		assert.Equal(t, a, b, a.Name)
	}
	require.NotEmpty(t, reports)
	last := reports[len(reports)-1]
	assert.Equal(t, int64(one.Users*len(one.Rows)), last.Total)
	assert.Equal(t, last.Total, last.Done)
	for i := 1; i < len(reports); i++ {
		assert.GreaterOrEqual(t, reports[i].Done, reports[i-1].Done)
	}
}
