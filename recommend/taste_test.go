package recommend_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// TestTasteReasons: a co-purchase result gets a taste reason, first,
// exactly when personalisation gave it more of its score than its
// co-purchases did: when its score S and its score v without
// personalisation (both scaled by the best candidate's co-purchase score)
// have S − (1−β)·v > (1−β)·v, β the engine's Personalization. The reason
// names one of the profile dimensions (categories at the profile depth)
// with the customer's share in it; without personalisation there is none.
func TestTasteReasons(t *testing.T) {
	ctx := context.Background()
	h, nb, on := demoEngine(t, recommend.Options{})
	off, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Personalization: -1})
	require.NoError(t, err)
	cat := h.Catalog()
	beta := recommend.DefaultPersonalization
	var recs, plain []recommend.Rec
	checked, tastes := 0, 0
	for c := 0; c < h.NumCustomers(); c += 10 {
		id := affinity.CustomerID(c)
		recs, err = on.Recommend(recs[:0], recommend.Request{CustomerID: id, ByID: true, K: 10})
		require.NoError(t, err)
		plain, err = off.Recommend(plain[:0], recommend.Request{CustomerID: id, ByID: true, K: 400})
		require.NoError(t, err)
		for _, p := range plain {
			for _, rs := range p.Reasons() {
				if rs.Kind == recommend.Taste { // require only on a failure: it costs more than the check on 400 results
					require.NotEqual(t, recommend.Taste, rs.Kind, "customer %d: a taste without personalisation", c)
				}
			}
		}
		for _, r := range recs {
			rs := r.Reasons()
			for i, x := range rs {
				if x.Kind != recommend.Taste {
					continue
				}
				tastes++
				require.Zero(t, i, "customer %d, %s: the taste comes first", c, r.Key)
				require.Equal(t, r.Product, x.Product)
				require.LessOrEqual(t, cat.Depth(x.Category), recommend.DefaultProfileDepth, "customer %d, %s: a profile dimension", c, r.Key)
				require.True(t, x.Measure > 0 && x.Measure <= 1, "customer %d, %s: share %v", c, r.Key, x.Measure)
				require.Contains(t, r.Explain(on), "bought by "+cat.ShortName(x.Category)+" shoppers like you")
			}
			if r.Source != recommend.Neighbors {
				continue
			}
			v := -1.0
			for _, p := range plain {
				if p.Product == r.Product && p.Source == recommend.Neighbors {
					v = p.Score
				}
			}
			if v < 0 {
				continue // not among the plain results
			}
			nbPart := (1 - beta) * v
			if math.Abs(r.Score-2*nbPart) < 1e-4 {
				continue // too close to call in float32
			}
			checked++
			hasTaste := len(rs) > 0 && rs[0].Kind == recommend.Taste
			assert.Equal(t, r.Score-nbPart > nbPart, hasTaste, "customer %d, %s: score %.4f, without personalisation %.4f", c, r.Key, r.Score, v)
		}
	}
	t.Logf("%d results checked, %d taste reasons", checked, tastes)
	require.Greater(t, checked, 500)
	require.Positive(t, tastes)
}
