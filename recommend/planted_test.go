package recommend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/recommend"
)

// The planted complementary pairs are recovered: given the anchor as a
// basket, its planted partner is among the top 10.
func TestPlantedRecall(t *testing.T) {
	f := plantedFixture(t)
	e := newEngine(t, f, recommend.Options{Sequential: f.seq})
	cat := f.h.Catalog()
	hits, n := 0, 0
	var recs []recommend.Rec
	for _, pr := range f.store.Truth.Complements {
		var err error
		recs, err = e.Recommend(recs[:0], recommend.Request{Basket: []string{pr.A}, K: 10, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		n++
		for _, r := range recs {
			if r.Key == pr.B {
				hits++
				break
			}
		}
		// no substitute of the anchor is offered
		a, _ := cat.LookupProduct(pr.A)
		for _, r := range recs {
			assert.NotEqual(t, cat.Categories(a)[0], cat.Categories(r.Product)[0], "substitute %s offered for %s", r.Key, pr.A)
		}
	}
	recall := float64(hits) / float64(n)
	t.Logf("planted recall@10 = %.3f (%d of %d pairs)", recall, hits, n)
	assert.GreaterOrEqual(t, recall, 0.9)
}
