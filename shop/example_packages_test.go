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
	// coupon: 47 customers (0.9%), revenue 15141.84 (1.7%), 351 orders, AOV 43.14
	// segment  customers  share    revenue  revenue share    AOV
	// new            261   5.2%   13627.71           1.5%  52.21
	// repeat         615  12.3%   68519.97           7.7%  44.78
	// loyal         1102  22.0%  378339.99          42.7%  45.48
	// lapsing       1306  26.1%  220195.75          24.9%  45.30
	// churned       1716  34.3%  205397.89          23.2%  44.91
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
		recs, err := engine.Recommend(nil, recommend.Request{Customer: "c000740", Basket: []string{"p00746"}, K: 3}) // nil: no buffer to reuse
		for _, r := range recs {
			fmt.Println(r.Key, r.Source, r.Explain(engine))
		}
		return err
		// README: end
	}(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// p00966 neighbors bought together with Outdoor Lamps 746 in 161 orders — 16× more often than chance
	// p00696 neighbors bought together with Outdoor Lamps 746 in 160 orders — 15× more often than chance
	// p00437 neighbors bought by Apparel/Outdoor shoppers like you; bought together with Outdoor Lamps 746 in 34 orders — 1.9× more often than chance
}
