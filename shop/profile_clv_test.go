package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// returnsOutweighShop: 40 customers with 1–6 orders of varied value over a
// year, and "neg", whose repeat order returns more than it buys.
func returnsOutweighShop(t *testing.T) *shop.Snapshot {
	t.Helper()
	asOf := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	start := asOf.AddDate(-1, 0, 0)
	rng := rand.New(rand.NewPCG(7, 11))
	var lines []affinity.Purchase
	cur := affinity.Money(affinity.MoneyScale)
	for c := range 40 {
		n := 1 + rng.IntN(6)
		for o := range n {
			at := start.Add(time.Duration(rng.IntN(360*24)) * time.Hour)
			lines = append(lines, affinity.Purchase{Customer: fmt.Sprint("c", c), Product: fmt.Sprint("p", rng.IntN(5)),
				Order: fmt.Sprintf("c%d-o%d", c, o), Time: at, Quantity: 1, Price: cur * affinity.Money(5+rng.IntN(60))})
		}
	}
	lines = append(lines,
		affinity.Purchase{Customer: "neg", Product: "p1", Order: "neg-1", Time: start.AddDate(0, 1, 0), Quantity: 5, Price: 50 * cur},
		affinity.Purchase{Customer: "neg", Product: "p2", Order: "neg-2", Time: start.AddDate(0, 6, 0), Quantity: 1, Price: 1 * cur},
		affinity.Purchase{Customer: "neg", Product: "p1", Order: "neg-2", Time: start.AddDate(0, 6, 0), Quantity: -5, Price: 50 * cur},
	)
	s, err := shop.Open(context.Background(), shop.Purchases(func(yield func(affinity.Purchase) bool) {
		for _, l := range lines {
			if !yield(l) {
				return
			}
		}
	}), shop.Options{AsOf: asOf, Model: "neighbours", NextBasket: shop.Off, Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s.Snapshot()
}

// TestProfileCLVNotNegative: Value.CLV is "the expected revenue of
// the next twelve months". "neg" bought for 250, then in a repeat order
// bought 1.00 and returned 250 (net spend 1.00). Gamma-Gamma was fitted
// only on customers with a positive mean repeat value, but the score
// applied its posterior mean p(γ + x·m)/(px + q − 1) to m = −249 all the
// same, and the profile predicted a negative revenue.
func TestProfileCLVNotNegative(t *testing.T) {
	snap := returnsOutweighShop(t)
	v, err := snap.Value(context.Background())
	require.NoError(t, err)
	require.NotNil(t, v.GammaGamma, "the shop has a spend model")
	p, err := snap.Profile(context.Background(), "neg")
	require.NoError(t, err)
	require.True(t, p.Known)
	require.NotNil(t, p.Value)
	require.GreaterOrEqual(t, p.Value.CLV, 0.0, "expected revenue of a customer with net spend %v: %+v", p.Spend, *p.Value)
}
