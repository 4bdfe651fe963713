package recommend

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/similarity"
)

// generatedEngine returns an engine over a small generated shop of the
// given seed, as of its end, with options o.
func generatedEngine(t *testing.T, seed uint64, o Options) *Engine {
	t.Helper()
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 150, Products: 120, Categories: 10, Days: 200, Seed: seed}).History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine, K: 10})
	require.NoError(t, err)
	e, err := New(ctx, h, nb, asOf, o)
	require.NoError(t, err)
	return e
}

// A request that panics halfway (here: a stock set too short for the
// catalog, so that the first stock check indexes past it) leaves no state
// in the engine: a later RecommendAll and Recommend answer as a fresh
// engine does. The poisoned request excludes the most popular products,
// which a scratch handed on half-used would keep excluding.
func TestPanicLeavesNoStaleScratch(t *testing.T) {
	ctx := context.Background()
	fresh := generatedEngine(t, 1, Options{Workers: 1})
	wantAll, err := fresh.RecommendAll(ctx, Request{K: 8})
	require.NoError(t, err)
	wantOne, err := fresh.Recommend(nil, Request{ByID: true, CustomerID: 3, K: 8})
	require.NoError(t, err)

	var excl []string
	for _, p := range fresh.popOrder[:20] {
		excl = append(excl, fresh.cat.ProductKey(p))
	}
	poisoned := Request{K: 8, Rules: Rules{Exclude: excl}}
	for _, panicIn := range []string{"RecommendAll", "Recommend"} {
		e := generatedEngine(t, 1, Options{Workers: 1})
		good := e.stock.Load()
		e.stock.Store(&stockSet{}) // every stock check panics
		require.Panics(t, func() {
			if panicIn == "RecommendAll" {
				_, _ = e.RecommendAll(ctx, poisoned)
				return
			}
			r := poisoned
			r.ByID, r.CustomerID = true, 3
			_, _ = e.Recommend(nil, r)
		}, panicIn)
		e.stock.Store(good)
		gotAll, err := e.RecommendAll(ctx, Request{K: 8})
		require.NoError(t, err)
		require.Equal(t, wantAll, gotAll, "RecommendAll after a panic in %s", panicIn)
		gotOne, err := e.Recommend(nil, Request{ByID: true, CustomerID: 3, K: 8})
		require.NoError(t, err)
		require.Equal(t, wantOne, gotOne, "Recommend after a panic in %s", panicIn)
	}
}
