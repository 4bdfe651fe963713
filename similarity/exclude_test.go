package similarity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/require"
)

// TestCountExclude checks that excluded products are never counted: the
// brute-force counts that skip their lines and events (orders keep their
// times, which their other lines set too).
func TestCountExclude(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 7))
		d := randomData(rng, randomOptions{customers: 20, products: 15, orders: 150, maxLines: 6, events: 80})
		h := d.history(t, nil)
		drop := map[string]bool{d.products[0]: true, d.products[3]: true}
		ex := roaring.New()
		for k := range drop {
			p, ok := h.Catalog().LookupProduct(k)
			require.True(t, ok)
			ex.Add(uint32(p))
		}
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			t.Run(fmt.Sprintf("%v/seed=%d", scope, seed), func(t *testing.T) {
				o := similarity.CountOptions{Scope: scope, MaxBasket: -1, Exclude: ex, Events: scope != similarity.Basket}
				c, err := similarity.Count(ctx, h, h.Latest(), o)
				require.NoError(t, err)
				want := bruteCount(d, bruteOptions{scope: scope, asOf: h.Latest(), window: similarity.DefaultWindow, events: o.Events, exclude: drop})
				requireCountsEqual(t, want, c, h.Catalog())
			})
		}
	}
}
