package recommend_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// The planted complementary pairs are recovered: given the anchor as a
// basket, its planted partner is among the top 10, and no substitute of
// the anchor (same leaf category) is offered.
func TestPlantedRecall(t *testing.T) {
	f := plantedFixture(t)
	cat := f.h.Catalog()
	for _, tc := range []struct {
		name string
		nb   *similarity.Index
		opts recommend.Options
	}{
		{"basket and sequential", f.nb, recommend.Options{Sequential: f.seq}},
		{"customer scope", f.cust, recommend.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := recommend.New(context.Background(), f.h, tc.nb, f.h.Latest(), tc.opts)
			require.NoError(t, err)
			hits, n, after := 0, 0, 0
			var recs []recommend.Rec
			for _, pr := range f.store.Truth.Complements {
				recs, err = e.Recommend(recs[:0], recommend.Request{Basket: []string{pr.A}, K: 10, Rules: recommend.Rules{IncludeOutOfStock: true}})
				require.NoError(t, err)
				n++
				a, _ := cat.LookupProduct(pr.A)
				for i := range recs {
					if recs[i].Key == pr.B {
						hits++
					}
					assert.NotEqual(t, cat.Categories(a)[0], cat.Categories(recs[i].Product)[0], "substitute %s offered for %s", recs[i].Key, pr.A)
					for _, rs := range recs[i].Reasons() {
						if rs.Kind == recommend.After {
							after++
							assert.Contains(t, recs[i].Explain(e), "bought after")
						}
					}
				}
			}
			recall := float64(hits) / float64(n)
			t.Logf("planted recall@10 = %.3f (%d of %d pairs)", recall, hits, n)
			assert.GreaterOrEqual(t, recall, 0.9)
			// planted pairs are bought in one order and in sequence, so
			// their reasons are Together; after-only edges above chance
			// are rare on this data
			t.Logf("%d directional reasons", after)
		})
	}
}
