package evaluate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/evaluate"
	rec "github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// TestEngineOnRatingsKeepsUpWithItsParts evaluates the engine with its
// defaults on rating data (random split per customer, training items
// excluded, as rating benchmarks are): recommend.ModelFor gives it EASE,
// and ratings do not decay, so it ranks as well as EASE alone and above
// the co-occurrence neighbours and the engine on them.
func TestEngineOnRatingsKeepsUpWithItsParts(t *testing.T) {
	ctx := context.Background()
	h := movielensShaped(t, 400, 700, 40_000, 3)
	s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: evaluate.ByCustomer, Seed: 42})
	require.NoError(t, err)
	cosine := rec.Model{Measure: similarity.Cosine, Scope: similarity.Customer}
	recs := []evaluate.Recommender{
		&evaluate.Engine{},
		&evaluate.Engine{Label: "engine-cosine", Model: &cosine},
		&evaluate.ItemNeighbors{Measure: similarity.Cosine},
		&evaluate.ItemNeighbors{Measure: similarity.Jaccard},
		&evaluate.EASE{},
	}
	rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true})
	require.NoError(t, err)
	ndcg := func(name string) float64 { return rep.Row(name).Metrics[evaluate.AllItems].NDCG }
	for _, r := range rep.Rows {
		t.Logf("%-14s ndcg@10 %.4f", r.Name, ndcg(r.Name))
	}
	assert.GreaterOrEqual(t, ndcg("engine"), 0.99*ndcg("ease"), "the engine on EASE against EASE alone")
	for _, part := range []string{"engine-cosine", "knn-cosine", "knn-jaccard"} {
		assert.Greater(t, ndcg("engine"), ndcg(part), part)
	}
}
