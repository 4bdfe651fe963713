package shop_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// A shop on EASE that fits its model again after each refresh, in the
// background: the refresh serves the new order at once with the model it
// had, and WaitModel waits for the snapshot whose model is fitted on it.
func ExampleOptions_modelRefit() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{Model: "ease", ModelRefit: shop.RefitBackground})
	if err != nil {
		fmt.Println(err)
		return
	}
	snap := s.Snapshot()
	at := snap.AsOf().Add(time.Hour)
	cat := snap.History().Catalog()
	order := []affinity.Purchase{
		{Customer: "c-new", Order: "o-new", Product: cat.ProductKey(0), Time: at, Quantity: 1, Price: 1250},
		{Customer: "c-new", Order: "o-new", Product: cat.ProductKey(1), Time: at, Quantity: 1, Price: 990},
	}
	if err := s.Refresh(ctx, shop.Purchases(slices.Values(order))); err != nil {
		fmt.Println(err)
		return
	}
	_, served := s.Snapshot().History().LookupCustomer("c-new")
	fmt.Println("the new order is served:", served)
	if err := s.WaitModel(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("the model is fitted on it:", s.Snapshot().ModelCurrent())
	// Output:
	// the new order is served: true
	// the model is fitted on it: true
}
