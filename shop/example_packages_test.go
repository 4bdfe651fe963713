package shop_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// The packages behind the front door, used directly: a segment index and
// its queries, as the README shows them.
func Example_segments() {
	ctx := context.Background()
	h, err := dataset.Demo().History(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	if err := func() error {
		// README: segments
		idx, err := segment.Build(ctx, h, asOf, segment.Options{}) // look-back: 24 calendar months
		if err != nil {
			return err
		}
		coupon, err := idx.Query(`recency between 14d and 28d and affinity("Apparel") >= 0.3 and not bought("Apparel" within 28d)`)
		if err != nil {
			return err
		}
		fmt.Println(idx.Stats("coupon", coupon))
		return segment.WriteTable(os.Stdout, idx.LifecycleTable()) // size, share, revenue share, AOV
		// README: end
	}(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// coupon: 64 customers (1.3%), revenue 19587.81 (2.1%), 397 orders, AOV 49.34
	// segment  customers  share    revenue  revenue share    AOV
	// new            253   5.1%   11487.62           1.3%  45.41
	// repeat         708  14.2%   80314.68           8.8%  45.58
	// loyal         1396  27.9%  440984.27          48.3%  46.25
	// lapsing       1278  25.6%  212459.85          23.3%  43.71
	// churned       1365  27.3%  167876.68          18.4%  45.40
}

// The packages behind the front door, used directly: co-purchase counts,
// a neighbour index and the engine, as the README shows them.
func Example_recommend() {
	ctx := context.Background()
	h, err := dataset.Demo().History(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	asOf := h.Latest()
	if err := func() error {
		// README: recommend
		counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Basket})
		if err != nil {
			return err
		}
		nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine})
		if err != nil {
			return err
		}
		engine, err := recommend.New(ctx, h, nb, asOf, recommend.Options{})
		if err != nil {
			return err
		}
		recs, err := engine.Recommend(nil, recommend.Request{Customer: "c000740", Basket: []string{"p00746"}, K: 3})
		for _, r := range recs {
			fmt.Println(r.Key, r.Source, r.Explain(engine))
		}
		return err
		// README: end
	}(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// p00413 neighbors bought together with Outdoor Lamps 746 in 126 orders — 1.2× more often than chance; bought together with Essentials Cables 41 in 12 orders — 2.2× more often than chance; bought together with Premium Cables 907 in 33 orders — 1.9× more often than chance
	// p00379 neighbors bought together with Outdoor Lamps 746 in 83 orders — 1.4× more often than chance; bought together with Premium Socks 19 in 31 orders — 1.4× more often than chance; bought together with Essentials Cables 41 in 6 orders — 1.9× more often than chance
	// p00482 neighbors bought together with Outdoor Lamps 746 in 55 orders — 1.5× more often than chance; bought together with Premium Socks 19 in 21 orders — 1.5× more often than chance; bought together with Essentials Cables 41 in 4 orders — 2.0× more often than chance
}
