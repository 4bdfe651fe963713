package recommend_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// TestBoostsMultiplyOwnItems: a boost multiplies the score of a due
// consumable (Rebuy) and of a repeat item (next-basket mode) by its
// factor, as it does a complement's, and the results stay in score order.
func TestBoostsMultiplyOwnItems(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(3, 60)
	h := lineHistory(t, prods, lines[0])
	nb := basketIndex(t, h, nil)
	asOf := time.Date(2025, 7, 22, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opts recommend.Options
		src  recommend.Source
	}{
		{"rebuy", recommend.Options{Consumables: []recommend.Consumable{{Category: "C", Interval: 20 * 24 * time.Hour}}}, recommend.Rebuy},
		{"repeat", recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}}, recommend.Repeat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain, err := recommend.New(ctx, h, nb, asOf, tc.opts)
			require.NoError(t, err)
			all, err := plain.RecommendAll(ctx, recommend.Request{K: 40})
			require.NoError(t, err)
			checked := 0
			for c, recs := range all {
				i := slices.IndexFunc(recs, func(r recommend.Rec) bool { return r.Source == tc.src })
				if i < 0 || checked == 5 {
					continue
				}
				checked++
				p := recs[i].Product
				o := tc.opts
				o.Boosts = []recommend.Boost{{Customers: roaring.BitmapOf(uint32(c)), Products: roaring.BitmapOf(uint32(p)), Factor: 0.5}}
				boosted, err := recommend.New(ctx, h, nb, asOf, o)
				require.NoError(t, err)
				got, err := boosted.Recommend(nil, recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 40})
				require.NoError(t, err)
				j := slices.IndexFunc(got, func(r recommend.Rec) bool { return r.Product == p })
				require.GreaterOrEqual(t, j, 0, "customer %d: %s", c, recs[i].Key)
				assert.Equal(t, tc.src, got[j].Source)
				assert.InDelta(t, 0.5*recs[i].Score, got[j].Score, 1e-6*recs[i].Score, "customer %d: %s", c, recs[i].Key)
				for k := 1; k < len(got); k++ {
					a, b := got[k-1], got[k]
					if a.Source != recommend.Popular && b.Source != recommend.Popular {
						assert.GreaterOrEqual(t, a.Score, b.Score, "customer %d: %s before %s", c, a.Key, b.Key)
					}
				}
			}
			require.Positive(t, checked, "no %v result to boost", tc.src)
		})
	}
}
