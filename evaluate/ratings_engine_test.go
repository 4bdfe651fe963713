package evaluate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
	rec "github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// TestEngineOnRatingsKeepsUpWithItsParts evaluates the engine with its
// defaults on rating data (random split per customer, training items
// excluded, as rating benchmarks are) on a MovieLens-shaped store of
// seed 1 (of seeds 1–3, in parallel, under testdata.Long):
// recommend.ModelFor gives it EASE, ratings do not decay, and the engine
// sums the model's rows over the whole history, so it ranks at least as
// well as EASE alone, and above the co-occurrence neighbours and the
// engine on them.
//
// At least as well, not exactly: the engine's EASE keeps 50 weights per
// product (similarity.DefaultK; evaluate.EASE keeps 500), which ranked
// 2–6 % above EASE on these stores. On seeds 1–12 the engine's NDCG@10
// was 1.017–1.064 × EASE's (mean 1.035), so the test asserts a ratio of
// at least 1 on each seed and a mean of at least 1.01 (in the quick
// suite the ratio of seed 1 alone, 1.034, which also runs the parts).
// Broken defaults fall below: anchoring on the 100 most recent ratings
// only (the bound recommend.Options.MaxHistory keeps on purchases)
// ranked 0.968–1.024 × EASE on seeds 1–12, ratings decayed with a
// 30-day half-life 0.91–0.98 on seeds 1–5, a 500-edge budget or 50
// anchors 0.84–0.88. The parts trailed the engine by 9.5–32 % on seeds
// 1–8; the test asserts 5 % on seed 1.
func TestEngineOnRatingsKeepsUpWithItsParts(t *testing.T) {
	ctx := context.Background()
	ratios := make([]float64, testdata.Scale(3, 1)) // seeds 1, 2, …
	// the seeds in parallel, then the mean
	t.Run("seeds", func(t *testing.T) {
		for i := range ratios {
			seed := uint64(i + 1)
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				h := movielens400(t, seed)
				s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: evaluate.ByCustomer, Seed: 42})
				require.NoError(t, err)
				recs := []evaluate.Recommender{&evaluate.Engine{}, &evaluate.EASE{}}
				parts := []string{"engine-cosine", "knn-cosine", "knn-jaccard"}
				if seed == 1 {
					cosine := rec.Model{Measure: similarity.Cosine, Scope: similarity.Customer}
					recs = append(recs, &evaluate.Engine{Label: parts[0], Model: &cosine},
						&evaluate.ItemNeighbors{Measure: similarity.Cosine}, &evaluate.ItemNeighbors{Measure: similarity.Jaccard})
				} else {
					parts = nil // on the first seed only
				}
				rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true})
				require.NoError(t, err)
				ndcg := func(name string) float64 { return rep.Row(name).Metrics[evaluate.AllItems].NDCG }
				for _, r := range rep.Rows {
					t.Logf("%-14s ndcg@10 %.4f", r.Name, ndcg(r.Name))
				}
				ratios[i] = ndcg("engine") / ndcg("ease")
				assert.GreaterOrEqual(t, ratios[i], 1.0, "the engine on EASE against EASE alone")
				for _, part := range parts {
					assert.Greater(t, ndcg("engine"), 1.05*ndcg(part), part)
				}
			})
		}
	})
	sum := 0.0
	for _, r := range ratios {
		sum += r
	}
	mean := sum / float64(len(ratios))
	t.Logf("engine/EASE NDCG@10 over %d seeds: mean %.4f", len(ratios), mean)
	assert.GreaterOrEqual(t, mean, 1.01, "the engine on EASE against EASE alone, mean over the seeds")
}
