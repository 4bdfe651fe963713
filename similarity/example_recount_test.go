package similarity_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// A refresh adds one order and replaces another; Recount updates the
// counts of the earlier History to those of the new one.
func ExampleRecount() {
	ctx := context.Background()
	h := cameraShop()
	c, _ := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})

	b := affinity.NewBuilder(h)
	at := time.Date(2025, 4, 20, 10, 0, 0, 0, time.UTC)
	b.Add(affinity.Purchase{Customer: "hal", Order: "o10", Product: "camera", Time: at, Quantity: 1})
	b.Add(affinity.Purchase{Customer: "hal", Order: "o10", Product: "bag", Time: at, Quantity: 1})
	b.PutOrder("o3", 1, []affinity.Purchase{{Customer: "bob", Product: "memory card", Time: at.AddDate(0, 0, -40), Quantity: 1},
		{Customer: "bob", Product: "batteries", Time: at.AddDate(0, 0, -40), Quantity: 1}})
	h2, _ := b.Build(ctx)

	got, _ := similarity.Recount(ctx, c, h, h2, h2.Latest(), similarity.CountOptions{})
	want, _ := similarity.Count(ctx, h2, h2.Latest(), similarity.CountOptions{})
	cat := h2.Catalog()
	camera, _ := cat.LookupProduct("camera")
	bag, _ := cat.LookupProduct("bag")
	fmt.Printf("baskets %d → %d, camera with bag %d → %d (Count: %d)\n",
		c.Total(), got.Total(), c.Pair(camera, bag), got.Pair(camera, bag), want.Pair(camera, bag))
	// Output:
	// baskets 10 → 11, camera with bag 2 → 3 (Count: 3)
}

// After Recount, Reindex renews the neighbour lists of the earlier
// counts: it selects again only the rows the change reaches, and gives
// NewIndex's lists.
func ExampleReindex() {
	ctx := context.Background()
	h := cameraShop()
	c, _ := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	opts := similarity.IndexOptions{Measure: similarity.Cosine, K: 2, MinSupport: 1}
	x, _ := similarity.NewIndex(ctx, c, opts)

	b := affinity.NewBuilder(h)
	at := time.Date(2025, 4, 20, 10, 0, 0, 0, time.UTC)
	b.Add(affinity.Purchase{Customer: "hal", Order: "o10", Product: "camera", Time: at, Quantity: 1})
	b.Add(affinity.Purchase{Customer: "hal", Order: "o10", Product: "bag", Time: at, Quantity: 1})
	h2, _ := b.Build(ctx)
	c2, _ := similarity.Recount(ctx, c, h, h2, h2.Latest(), similarity.CountOptions{})
	x2, _ := similarity.Reindex(ctx, x, c, c2, opts)

	cat := h2.Catalog()
	camera, _ := cat.LookupProduct("camera")
	show := func(x *similarity.Index) {
		for _, n := range x.Neighbors(camera) {
			fmt.Printf(" %s %.3f", cat.ProductKey(n.Product), n.Score)
		}
		fmt.Println()
	}
	fmt.Print("before:")
	show(x)
	fmt.Print("after: ")
	show(x2)
	want, _ := similarity.NewIndex(ctx, c2, opts)
	fmt.Print("anew:  ")
	show(want)
	// Output:
	// before: bag 0.577 memory card 0.447
	// after:  bag 0.671 memory card 0.400
	// anew:   bag 0.671 memory card 0.400
}
