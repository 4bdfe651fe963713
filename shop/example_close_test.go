package shop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// A server on its way out closes its shop: the background work stops,
// refreshes are refused, and the last snapshot keeps serving whoever
// holds it.
func ExampleShop_Close() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{Model: "neighbours"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Close()
	err = s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{})))
	fmt.Println(errors.Is(err, shop.ErrClosed))
	res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: "c000740", K: 3})
	fmt.Println(err, len(res.Recs))
	// Output:
	// true
	// <nil> 3
}
