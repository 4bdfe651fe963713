package recommend_test

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// exampleEngine builds a small running shop: shoes are bought with socks
// and bottles, a second pair of shoes now and then; caps sell mostly on
// their own.
func exampleEngine() (*recommend.Engine, error) {
	ctx := context.Background()
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "shoe-trail", Name: "Trail Runner", Categories: []string{"Sports/Running/Shoes"}, InStock: true},
		{Key: "shoe-road", Name: "Road Runner", Categories: []string{"Sports/Running/Shoes"}, InStock: true},
		{Key: "socks", Name: "Running Socks", Categories: []string{"Sports/Running/Socks"}, InStock: true},
		{Key: "bottle", Name: "Water Bottle", Categories: []string{"Home/Kitchen/Bottles"}, InStock: true},
		{Key: "cap", Name: "Sun Cap", Categories: []string{"Apparel/Caps"}, InStock: true},
	} {
		if err := b.AddProduct(p); err != nil {
			return nil, err
		}
	}
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 20 {
		cust := fmt.Sprintf("c%02d", i)
		order := []string{"shoe-trail", "socks"}
		switch {
		case i%4 == 0:
			order = append(order, "bottle", "shoe-road")
		case i%4 == 1:
			order = append(order, "bottle")
		case i%5 == 0:
			order = append(order, "cap")
		}
		for _, p := range order {
			if err := b.Add(affinity.Purchase{Customer: cust, Product: p, Order: cust, Time: t0.AddDate(0, 0, i), Quantity: 1, Price: 10 * affinity.MoneyScale}); err != nil {
				return nil, err
			}
		}
	}
	for i := range 10 {
		cust := fmt.Sprintf("d%02d", i)
		if err := b.Add(affinity.Purchase{Customer: cust, Product: "cap", Order: cust, Time: t0.AddDate(0, 0, i), Quantity: 1, Price: 10 * affinity.MoneyScale}); err != nil {
			return nil, err
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	if err != nil {
		return nil, err
	}
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine})
	if err != nil {
		return nil, err
	}
	return recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
}

// Frequently bought together: complements of the product on the page, with
// the reason for each. The other pair of shoes is a substitute and is not
// offered. Caps are bought with the shoes less often than chance would
// have it, so the cap is offered as popular, not as a complement. Socks
// and bottles are bought with the shoes 1.5 times as often as chance, but
// 20 and 10 orders are too few for that to be credible (CredibleLift
// below 1), so the explanations state no factor.
func ExampleEngine_Recommend() {
	e, err := exampleEngine()
	if err != nil {
		panic(err)
	}
	recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"shoe-trail"}, K: 3})
	if err != nil {
		panic(err)
	}
	for _, r := range recs {
		fmt.Printf("%-7s %-9s %.2f  %s\n", r.Key, r.Source, r.Score, r.Explain(e))
	}
	// Output:
	// socks   neighbors 1.00  bought together with Trail Runner in 20 orders
	// bottle  neighbors 0.45  bought together with Trail Runner in 10 orders
	// cap     popular   0.58  popular in the shop
}

// A customer's recommendations leave out what they bought; an out-of-stock
// product disappears as soon as the stock set is swapped.
func ExampleEngine_SetStock() {
	e, err := exampleEngine()
	if err != nil {
		panic(err)
	}
	req := recommend.Request{Customer: "c02", K: 2}
	show := func() {
		recs, err := e.Recommend(nil, req)
		if err != nil {
			panic(err)
		}
		for i, r := range recs {
			if i > 0 {
				fmt.Print(", ")
			}
			fmt.Print(r.Key, " (", r.Source, ")")
		}
		fmt.Println()
	}
	show()
	cat := e.History().Catalog()
	bottle, _ := cat.LookupProduct("bottle")
	stock := roaring.New()
	stock.AddRange(0, uint64(cat.NumProducts()))
	stock.Remove(uint32(bottle))
	e.SetStock(stock)
	show()
	// Output:
	// bottle (neighbors), shoe-road (neighbors)
	// shoe-road (neighbors), cap (popular)
}

// A refresh: new orders on top of the engine's History, and the engine
// renewed from the earlier one, which updates the buyer profiles of the
// changed customers' products only. The answers are New's.
func ExampleRenew() {
	ctx := context.Background()
	e, err := exampleEngine()
	if err != nil {
		panic(err)
	}
	h0 := e.History()
	b := affinity.NewBuilder(h0)
	at := h0.Latest().Add(time.Hour)
	for i, p := range []string{"shoe-road", "bottle"} {
		if err := b.Add(affinity.Purchase{Customer: "d03", Product: p, Order: "live-1", Time: at.Add(time.Duration(i) * time.Second), Quantity: 1, Price: 10 * affinity.MoneyScale}); err != nil {
			panic(err)
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		panic(err)
	}
	counts, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	if err != nil {
		panic(err)
	}
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine})
	if err != nil {
		panic(err)
	}
	renewed, err := recommend.Renew(ctx, e, h, nb, h.Latest(), recommend.Options{})
	if err != nil {
		panic(err)
	}
	fresh, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
	if err != nil {
		panic(err)
	}
	req := recommend.Request{Customer: "d03", K: 3}
	a, _ := renewed.Recommend(nil, req)
	f, _ := fresh.Recommend(nil, req)
	for i, r := range a {
		fmt.Printf("%-10s %.4f  same as New: %v\n", r.Key, r.Score, r.Key == f[i].Key && r.Score == f[i].Score)
	}
	// Output:
	// shoe-trail 0.9015  same as New: true
	// socks      0.9015  same as New: true
}

// CountRepeats tallies what RepeatShare divides; after a change built on
// the History, RecountRepeats updates the tally from the changed customers
// alone and gives what a full count gives.
func ExampleRecountRepeats() {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	var b affinity.Builder
	add := func(b *affinity.Builder, cust, order string, day int, products ...string) {
		for _, p := range products {
			if err := b.Add(affinity.Purchase{Customer: cust, Product: p, Order: order, Time: t0.AddDate(0, 0, day), Quantity: 1, Price: affinity.MoneyScale}); err != nil {
				panic(err)
			}
		}
	}
	add(&b, "ann", "a1", 0, "milk", "bread")
	add(&b, "ann", "a2", 7, "milk", "eggs") // milk again: 1 repeat of 2
	add(&b, "bob", "b1", 1, "coffee")
	h0, err := b.Build(ctx)
	if err != nil {
		panic(err)
	}
	t, err := recommend.CountRepeats(ctx, h0, h0.Latest(), nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d of %d: %.2f\n", t.Repeat, t.Total, t.Share())

	nb := affinity.NewBuilder(h0)
	add(nb, "bob", "b2", 9, "coffee", "filters") // coffee again
	h, err := nb.Build(ctx)
	if err != nil {
		panic(err)
	}
	t, err = recommend.RecountRepeats(ctx, t, h0, h, h.Latest(), nil)
	if err != nil {
		panic(err)
	}
	full, _ := recommend.CountRepeats(ctx, h, h.Latest(), nil)
	fmt.Printf("%d of %d: %.2f, same as a full count: %v\n", t.Repeat, t.Total, t.Share(), t == full)
	// Output:
	// 1 of 2: 0.50
	// 2 of 4: 0.50, same as a full count: true
}

// ModelFor chooses the engine's model from the shape of the data: the
// co-purchase neighbours for purchases, EASE for rating data.
func ExampleModelFor() {
	ctx := context.Background()
	purchases, err := dataset.Demo().History(ctx)
	if err != nil {
		panic(err)
	}
	var b affinity.Builder
	for i, r := range []struct{ user, movie string }{{"ann", "m1"}, {"ann", "m2"}, {"bob", "m2"}, {"bob", "m3"}} {
		t := time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)
		if err := b.AddEvent(affinity.Event{Customer: r.user, Product: r.movie, Time: t, Kind: affinity.Rating, Weight: 4}); err != nil {
			panic(err)
		}
	}
	ratings, err := b.Build(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(recommend.ModelFor(purchases))
	fmt.Println(recommend.ModelFor(ratings))
	// Output:
	// cosine/basket
	// ease/customer
}

// Choose decides between the co-purchase neighbours and EASE on the
// shop's own last four weeks; on the demo store the neighbours win, at
// the default 30-day half-life.
func ExampleChoose() {
	ctx := context.Background()
	h, err := dataset.Demo().History(ctx)
	if err != nil {
		panic(err)
	}
	c, tuning, err := recommend.Choose(ctx, h, h.Latest(), recommend.AutoGrid(recommend.Options{}))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v, half-life %v days, chosen on %d customers\n", c.Model, c.Options.HalfLife.Hours()/24, tuning.Customers)
	e, err := c.New(ctx, h, h.Latest())
	if err != nil {
		panic(err)
	}
	recs, err := e.Recommend(nil, recommend.Request{Customer: "c000042", K: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(recs), "recommendations")
	// Output:
	// cosine/basket, half-life 30 days, chosen on 272 customers
	// 3 recommendations
}

// A lift is stated in an explanation only where the co-count makes it
// credible: the same lift of 1.3 is noise on 15 orders and evidence on
// 121.
func ExampleCredibleLift() {
	for _, n := range []int{2, 15, 121, 443} {
		fmt.Printf("%3d orders at lift 1.3: at least %.2f, %q\n", n, recommend.CredibleLift(n, 1.3),
			recommend.AppendCredibleLift(nil, n, 1.3))
	}
	// Output:
	//   2 orders at lift 1.3: at least 0.23, ""
	//  15 orders at lift 1.3: at least 0.80, ""
	// 121 orders at lift 1.3: at least 1.11, " — 1.3× more often than chance"
	// 443 orders at lift 1.3: at least 1.20, " — 1.3× more often than chance"
}
