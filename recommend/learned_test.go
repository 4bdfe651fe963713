package recommend_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// TestLearnedMatchesNaive: on an EASE index, negative weights included, a
// basket request ranks by the plain sum of the basket's weights (each
// product once), positive sums only.
func TestLearnedMatchesNaive(t *testing.T) {
	ctx := context.Background()
	st := dataset.Generate(dataset.SyntheticOptions{Customers: 800, Products: 300, Seed: 4})
	h, err := st.History(ctx)
	require.NoError(t, err)
	idx, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: 50, K: -1})
	require.NoError(t, err)
	neg := 0
	for p := range h.Catalog().NumProducts() {
		for _, n := range idx.Neighbors(affinity.ProductID(p)) {
			if n.Score < 0 {
				neg++
			}
		}
	}
	require.Positive(t, neg, "the fixture has negative weights")
	e, err := recommend.New(ctx, h, idx, h.Latest(), recommend.Options{BasketPopularityBlend: -1, MaxEdges: -1})
	require.NoError(t, err)
	np := h.Catalog().NumProducts()
	var recs []recommend.Rec
	for trial := range 100 {
		basket := []affinity.ProductID{affinity.ProductID(trial * 7 % np), affinity.ProductID((trial*31 + 5) % np)}
		score := map[affinity.ProductID]float64{}
		for _, a := range basket {
			for _, n := range idx.Neighbors(a) {
				score[n.Product] += float64(n.Score)
			}
		}
		var want []affinity.ProductID
		for p, v := range score {
			if v > 0 && !slices.Contains(basket, p) && h.Catalog().InStock(p) {
				want = append(want, p)
			}
		}
		slices.SortFunc(want, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(score[b], score[a]), cmp.Compare(a, b)) })
		want = want[:min(10, len(want))]
		recs, err = e.Recommend(recs[:0], recommend.Request{Items: basket, K: 10, Rules: recommend.Rules{AllowSubstitutes: true}})
		require.NoError(t, err)
		var got []affinity.ProductID
		for _, r := range recs {
			if score[r.Product] > 0 && len(got) < len(want) {
				got = append(got, r.Product) // the ranked part (neighbours, or popular without reasons above chance)
			}
		}
		// float32 sums may swap near-ties: compare the scores of the lists
		require.Len(t, got, len(want), "basket %v", basket)
		for i := range want {
			assert.InDelta(t, score[want[i]], score[got[i]], 1e-4, "basket %v rank %d", basket, i)
		}
	}
}
