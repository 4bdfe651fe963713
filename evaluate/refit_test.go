package evaluate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	rc "github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// A later Fit replaces what an earlier one learned: Engine.Tuning
// describes the last Fit, nil when it validated nothing.
func TestEngineRefitReplacesTuning(t *testing.T) {
	ctx := context.Background()
	// a: customer c buys before and inside the last 28 days: validates
	a := build(t, []buy{{"c", "1", 0, []string{"x"}}, {"c", "2", 40, []string{"y"}}}, nil)
	// b: nobody buys in the last 28 days: nothing to validate on
	b := build(t, []buy{{"c", "1", 0, []string{"x"}}, {"d", "2", 1, []string{"y"}}}, nil)
	r := &evaluate.Engine{Tune: &rc.Grid{}}
	require.NoError(t, r.Fit(ctx, a, a.Latest()))
	require.NotNil(t, r.Tuning, "the first Fit tunes")
	require.NoError(t, r.Fit(ctx, b, b.Latest()))
	assert.Nil(t, r.Tuning, "a Fit that tuned nothing keeps no Tuning")

	m := rc.DefaultModel()
	r2 := &evaluate.Engine{Tune: &rc.Grid{}}
	require.NoError(t, r2.Fit(ctx, a, a.Latest()))
	require.NotNil(t, r2.Tuning)
	r2.Tune, r2.Model = nil, &m
	require.NoError(t, r2.Fit(ctx, a, a.Latest()))
	assert.Nil(t, r2.Tuning, "a Fit with a Model chooses nothing")
}

// failAfter is a context whose Err reports cancellation after n calls.
type failAfter struct {
	context.Context
	n atomic.Int64
}

func (f *failAfter) Err() error {
	if f.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// A failed Fit leaves nothing of an earlier one: every recommender then
// recommends nothing, wherever its Fit stopped, and one that succeeds
// gives the lists of a fresh recommender fitted on the same data.
func TestFailedFitForgetsEarlierFit(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 2))
	la, ea := advADWorld(rng, 30, 12)
	lb, eb := advADWorld(rng, 40, 12)
	a, b := advADBuild(t, advADProds(12), la, ea), advADBuild(t, advADProds(12), lb, eb)
	lists := func(r evaluate.Recommender) [][]affinity.ProductID {
		out := make([][]affinity.ProductID, b.NumCustomers())
		for c := range affinity.CustomerID(b.NumCustomers()) {
			out[c] = r.Recommend(nil, c, 5, nil)
		}
		return out
	}
	empty := make([][]affinity.ProductID, b.NumCustomers())
	fresh := advADAll()
	for i, r := range advADAll() {
		t.Run(fmt.Sprintf("%d %s", i, r.Name()), func(t *testing.T) {
			require.NoError(t, fresh[i].Fit(ctx, b, b.Latest()))
			want := lists(fresh[i])
			require.NotEqual(t, empty, want, "the recommender recommends on b")
			require.Error(t, r.Fit(ctx, nil, b.Latest()))
			assert.Equal(t, empty, lists(r), "never fitted")
			for n := int64(0); ; n++ {
				require.NoError(t, r.Fit(ctx, a, a.Latest()))
				fa := &failAfter{Context: ctx}
				fa.n.Store(n)
				if err := r.Fit(fa, b, b.Latest()); err == nil {
					assert.True(t, reflect.DeepEqual(want, lists(r)), "a Fit after %d context checks", n)
					break
				}
				assert.Equal(t, empty, lists(r), "a Fit cancelled after %d context checks", n)
				require.NoError(t, r.Fit(ctx, a, a.Latest()))
				require.Error(t, r.Fit(ctx, nil, b.Latest()))
				assert.Equal(t, empty, lists(r), "a Fit without a History")
			}
		})
	}
}

// The default Engine on rating data is rc.ModelFor's EASE within
// customers, as its doc says (Choose does not validate on ratings).
func TestEngineDefaultModelOnRatings(t *testing.T) {
	ctx := context.Background()
	var rs []rating
	rng := rand.New(rand.NewPCG(5, 6))
	for c := range 60 {
		for range 8 {
			rs = append(rs, rating{fmt.Sprintf("u%02d", c), fmt.Sprintf("m%d", rng.IntN(40)), rng.IntN(50), float32(1 + rng.IntN(5))})
		}
	}
	h := build(t, nil, rs)
	list := func(m *rc.Model) [][]affinity.ProductID {
		r := &evaluate.Engine{Model: m}
		require.NoError(t, r.Fit(ctx, h, h.Latest()))
		var out [][]affinity.ProductID
		for c := range affinity.CustomerID(h.NumCustomers()) {
			out = append(out, r.Recommend(nil, c, 5, nil))
		}
		return out
	}
	def := list(nil)
	m := rc.ModelFor(h)
	require.Equal(t, similarity.EASE, m.Measure)
	assert.Equal(t, list(&m), def)
	assert.NotEqual(t, list(&rc.Model{Measure: similarity.Cosine, Scope: similarity.Customer}), def, "the data tells the models apart")
}
