package shop_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// The front door as the README shows it: open a shop, recommend with
// reasons, find an audience, refresh with new orders.
func Example() {
	newOrders := []affinity.Purchase{{Customer: "c000042", Product: "p00011", Order: "web-1001",
		Time: time.Date(2025, 12, 31, 9, 30, 0, 0, time.UTC), Quantity: 1, Price: affinity.MoneyFromFloat(19.90)}}
	if err := readme(newOrders); err != nil {
		fmt.Println(err)
	}
	// Output:
	// p00966 Premium Socks 966 — bought together with Outdoor Lamps 746 in 161 orders — 16× more often than chance
	// p00696 Outdoor Lamps 696 — bought together with Outdoor Lamps 746 in 160 orders — 15× more often than chance
	// p00437 Outdoor Jackets 437 — bought by Apparel/Outdoor shoppers like you; bought together with Outdoor Lamps 746 in 34 orders — 1.9× more often than chance
	// 127 customers, revenue 39337.44
	// as of 2025-12-31 09:30:00 +0000 UTC
}

func readme(newOrders []affinity.Purchase) error {
	// README: the front door
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{}) // or shop.File("orders.csv.gz", "onlineretail")
	if err != nil {
		return err
	}
	snap := s.Snapshot() // History, segments, neighbours and engine, all as of one time

	// Cross-sell for a customer and her cart, each with its reason.
	res, err := snap.Recommend(ctx, shop.Request{Customer: "c000740", Cart: []string{"p00746"}, K: 3})
	if err != nil {
		return err
	}
	for _, r := range res.Recs {
		fmt.Println(r.Product, r.Name, "—", r.Explanation())
	}

	// Who gets the coupon: bought two to four weeks ago, fond of Apparel.
	aud, err := snap.SegmentContext(ctx, `recency between 14d and 28d and affinity("Apparel") >= 0.3`)
	if err != nil {
		return err
	}
	fmt.Println(aud.Len(), "customers, revenue", aud.Revenue())

	// Live controls by shop key survive every refresh: the stock of a
	// product the shop knows (UpdateStock takes many keys and reports the
	// unknown ones; SetStock takes a whole feed, products not sold yet
	// too). A refresh builds the next snapshot beside the current one and
	// swaps it in; newOrders holds the []affinity.Purchase placed since.
	s.SetInStock("p00413", false)
	if err := s.Refresh(ctx, shop.Purchases(slices.Values(newOrders))); err != nil {
		return err
	}
	fmt.Println("as of", s.Snapshot().AsOf())
	// README: end
	return nil
}
