package segment_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// exampleShop is a hand-made shop of four customers: ann buys sportswear
// every few weeks, bob socks, cy bought sportswear a year ago, dan only
// looked and left a cart.
func exampleShop() *affinity.History {
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "run-shirt", Categories: []string{"Apparel/Sportswear"}},
		{Key: "run-shoe", Categories: []string{"Apparel/Sportswear"}},
		{Key: "socks", Categories: []string{"Apparel/Socks"}},
		{Key: "mug", Categories: []string{"Home/Kitchen"}},
	} {
		b.AddProduct(p)
	}
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return asOf.Add(-time.Duration(days) * 24 * time.Hour) }
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Product: "run-shirt", Order: "a1", Time: ago(80), Quantity: 1, Price: affinity.MoneyFromFloat(30)},
		{Customer: "ann", Product: "run-shoe", Order: "a2", Time: ago(50), Quantity: 1, Price: affinity.MoneyFromFloat(90)},
		{Customer: "ann", Product: "mug", Order: "a2", Time: ago(50), Quantity: 1, Price: affinity.MoneyFromFloat(10)},
		{Customer: "ann", Product: "run-shirt", Order: "a3", Time: ago(20), Quantity: 2, Price: affinity.MoneyFromFloat(30)},
		{Customer: "bob", Product: "socks", Order: "b1", Time: ago(15), Quantity: 3, Price: affinity.MoneyFromFloat(5)},
		{Customer: "cy", Product: "run-shoe", Order: "c1", Time: ago(400), Quantity: 1, Price: affinity.MoneyFromFloat(90)},
	} {
		b.Add(p)
	}
	b.AddEvent(affinity.Event{Customer: "dan", Product: "run-shoe", Time: ago(3), Kind: affinity.View, Weight: 1})
	b.AddEvent(affinity.Event{Customer: "dan", Product: "run-shoe", Time: ago(3), Kind: affinity.Cart, Weight: 1})
	h, _ := b.Build(context.Background())
	return h
}

func ExampleBuild() {
	h := exampleShop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("customers:", x.Len())
	ann, _ := x.LookupCustomer("ann")
	f, _ := x.Features(ann)
	fmt.Printf("ann: recency %dd, tenure %dd, %d orders, spent %s, AOV %s, %s\n",
		f.Recency, f.Tenure, f.Frequency, f.Monetary, f.AOV, f.Stage)
	fans, _ := x.Eval(segment.Affinity("Apparel/Sportswear").GE(0.5))
	fmt.Println(x.Stats("sportswear fans", fans))
	// Output:
	// customers: 4
	// ann: recency 20d, tenure 80d, 3 orders, spent 190.00, AOV 63.3333, repeat
	// sportswear fans: 2 customers (50.0%), revenue 280.00 (94.9%), 4 orders, AOV 70.00
}

func ExampleIndex_Query() {
	x, _ := segment.Build(context.Background(), exampleShop(), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	for _, q := range []string{
		// the 10 % coupon: sportswear buyers who bought two to four weeks ago, not socks buyers
		`affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d and not bought("Apparel/Socks")`,
		// abandoned cart in the last week
		`carted("run-shoe" within 7d) and not bought("run-shoe" within 7d)`,
		// a win-back for those who once loved sportswear
		`bought("Apparel/Sportswear") and recency > 6m`,
		// the shoe is back in stock: who looked at it lately?
		`viewed("run-shoe" within 30d) and not bought("run-shoe" within 30d)`,
	} {
		set, err := x.Query(q)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(slices.Collect(x.Keys(set)))
	}
	// Output:
	// [ann]
	// [dan]
	// [cy]
	// [dan]
}

func ExampleParse() {
	_, err := segment.Parse("affinity(\"Apparel\") >= 0.3 and\n  recency between 14d 28d")
	var se *segment.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Line, se.Column, se.Msg)
	}
	fmt.Println(err)
	// Output:
	// 2 23 expected "and", found number "28d"
	// query: syntax error at line 2, column 23: expected "and", found number "28d"
}

func ExampleIndex_Define() {
	x, _ := segment.Build(context.Background(), exampleShop(), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	e, _ := segment.Parse(`bought("Apparel/Sportswear") and monetary >= 100`)
	x, err := x.Define("runners", e)
	if err != nil {
		fmt.Println(err)
		return
	}
	set, _ := x.Query(`segment("runners") and lifecycle("repeat")`)
	fmt.Println(x.Segments(), slices.Collect(x.Keys(set)))
	_, err = x.Query(`segment("walkers")`)
	fmt.Println(err)
	// Output:
	// [runners] [ann]
	// segment: unknown name: segment "walkers" at line 1, column 9
}

func ExampleIndex_RFMTable() {
	h, _ := dataset.Demo().History(context.Background())
	x, _ := segment.Build(context.Background(), h, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	segment.WriteTable(os.Stdout, x.RFMTable())
	// Output:
	// segment              customers  share    revenue  revenue share    AOV
	// Champions                  686  13.7%  244268.80          27.6%  45.37
	// Loyal                      801  16.0%  253207.17          28.6%  45.41
	// Potential loyalists        624  12.5%   69882.25           7.9%  45.00
	// New                         33   0.7%    2055.84           0.2%  62.30
	// Promising                  233   4.7%   12155.52           1.4%  52.17
	// Need attention             142   2.8%   18849.14           2.1%  44.25
	// About to sleep             468   9.4%   29638.32           3.3%  43.59
	// Can't lose them            145   2.9%   56647.16           6.4%  43.14
	// At risk                    669  13.4%  120138.42          13.6%  45.18
	// Lost                       415   8.3%   18473.46           2.1%  44.51
	// Hibernating                784  15.7%   60765.23           6.9%  47.77
}

func ExampleTransition() {
	h, _ := dataset.Demo().History(context.Background())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before, _ := segment.Build(context.Background(), h, affinity.Months(3).Start(now), segment.Options{})
	after, _ := segment.Build(context.Background(), h, now, segment.Options{})
	moved, _ := segment.Transition(before, after, segment.RFM("Loyal"), segment.RFM("At risk"))
	fmt.Println("loyal three months ago, at risk now:", moved.GetCardinality())
	kept, _ := segment.Transition(before, after, segment.RFM("Champions"), segment.RFM("Champions"))
	fmt.Println("still champions:", kept.GetCardinality())
	// Output:
	// loyal three months ago, at risk now: 25
	// still champions: 224
}

// ExampleIndex_SortedKeys lists an audience for an export, sorted by
// customer key, with its count and spend.
func ExampleIndex_SortedKeys() {
	h := exampleShop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	buyers, _ := x.Eval(segment.Frequency().GE(1))
	st := x.Stats("buyers", buyers)
	fmt.Println(x.SortedKeys(buyers), st.Customers, st.Revenue)
	// Output: [ann bob cy] 3 295.00
}

// A distributed build: each run of PartSize customers is computed on its
// own (here the shop has one run) and sent as bytes; Join gives the index
// Build gives.
func ExampleJoin() {
	ctx := context.Background()
	h := exampleShop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

	p, err := segment.BuildPart(ctx, h, asOf, segment.Options{})
	if err != nil {
		panic(err)
	}
	wire, err := p.MarshalBinary() // what a worker sends
	if err != nil {
		panic(err)
	}
	var got segment.Part
	if err := got.UnmarshalBinary(wire); err != nil {
		panic(err)
	}
	x, err := segment.Join(ctx, h.Catalog(), asOf, segment.Options{}, []*segment.Part{&got})
	if err != nil {
		panic(err)
	}
	sporty, err := x.Query(`affinity("Apparel/Sportswear") >= 0.5`)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Len(), "customers;", slices.Collect(x.Keys(sporty)))
	// Output: 4 customers; [ann cy]
}

// Segments by segments: how many customers of each lifecycle stage spend
// at least half of their money in each department, in one pass.
func ExampleIndex_CrossTab() {
	h, _ := dataset.Demo().History(context.Background())
	x, _ := segment.Build(context.Background(), h, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	depts := []string{"Apparel", "Home", "Collections"}
	var stages, fans []*roaring.Bitmap
	for _, s := range segment.Stages() {
		b, _ := x.Eval(segment.Lifecycle(s))
		stages = append(stages, b)
	}
	for _, d := range depts {
		b, _ := x.Eval(segment.Affinity(d).GE(0.5))
		fans = append(fans, b)
	}
	fmt.Printf("%-8s %7s %7s %11s\n", "", depts[0], depts[1], depts[2])
	for i, row := range x.CrossTab(stages, fans) {
		fmt.Printf("%-8s %7d %7d %11d\n", segment.Stages()[i], row[0].Customers, row[1].Customers, row[2].Customers)
	}
	// Output:
	//          Apparel    Home Collections
	// new          155      99           3
	// repeat       283     314           0
	// loyal        481     577           0
	// lapsing      625     668           5
	// churned      794     906          20
}

// The classic R×F grid of a shop: customers and revenue by recency score
// (rows) and frequency score (columns), straight from the stored scores.
func ExampleIndex_ScoreGrid() {
	h, _ := dataset.Demo().History(context.Background())
	x, _ := segment.Build(context.Background(), h, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	grid, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("R\\F      1      2      3      4      5")
	for i, row := range grid {
		fmt.Printf("%d ", i+1)
		for _, cell := range row {
			fmt.Printf("%6d", cell.Customers)
		}
		fmt.Println()
	}
	fmt.Println("revenue of R5 F5:", grid[4][4].Revenue.Format(2))
	// Output:
	// R\F      1      2      3      4      5
	// 1    415   247   146   157    35
	// 2    296   241   159   207   110
	// 3    256   212   142   226   153
	// 4    233   180   164   256   166
	// 5     33   139   141   325   361
	// revenue of R5 F5: 171323.25
}

// ExampleUpdate refreshes an index with new orders: bob buys running
// shoes and dan, who only looked, buys socks. Update recomputes their
// features alone and answers as a full build would.
func ExampleUpdate() {
	ctx := context.Background()
	h := exampleShop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	const q = `affinity("Apparel/Sportswear") >= 0.5`
	before, _ := x.Query(q)
	fmt.Println("before:", x.SortedKeys(before))

	nb := affinity.NewBuilder(h)
	nb.Add(affinity.Purchase{Customer: "bob", Product: "run-shoe", Order: "b2", Time: asOf.Add(-time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(90)})
	nb.Add(affinity.Purchase{Customer: "dan", Product: "socks", Order: "d1", Time: asOf.Add(-time.Hour), Quantity: 2, Price: affinity.MoneyFromFloat(5)})
	h2, err := nb.Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := segment.Update(ctx, x, h, h2, x.AsOf(), segment.UpdateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	after, _ := y.Query(q)
	fmt.Println("after:", y.SortedKeys(after))
	for _, key := range []string{"bob", "dan"} {
		c, _ := y.LookupCustomer(key)
		f, _ := y.Features(c)
		fmt.Printf("%s: %d orders, spent %s, %s\n", key, f.Frequency, f.Monetary, f.Stage)
	}
	// Output:
	// before: [ann cy]
	// after: [ann bob cy]
	// bob: 2 orders, spent 105.00, repeat
	// dan: 1 orders, spent 10.00, new
}

// ExampleUpdate_laterDay moves an index two days on: recency counts from the new
// day, and the customers whose orders left the look-back are recomputed.
func ExampleUpdate_laterDay() {
	ctx := context.Background()
	h := exampleShop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	nb := affinity.NewBuilder(h)
	nb.Add(affinity.Purchase{Customer: "bob", Product: "socks", Order: "b2", Time: asOf.Add(36 * time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(5)})
	h2, err := nb.Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := segment.Update(ctx, x, h, h2, asOf.Add(2*segment.Day), segment.UpdateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, key := range []string{"ann", "bob"} {
		c, _ := y.LookupCustomer(key)
		f, _ := y.Features(c)
		fmt.Printf("%s: recency %dd, %d orders\n", key, f.Recency, f.Frequency)
	}
	// Output:
	// ann: recency 22d, 3 orders
	// bob: recency 0d, 2 orders
}

// ExampleIndex_Compacted follows an index that an update with Compact
// left layered over a full index, with a new full index building in the
// background, and swaps it for its compaction once that is done: the
// same answers, one full index held.
func ExampleIndex_Compacted() {
	ctx := context.Background()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	b.AddProduct(affinity.Product{Key: "tea", Categories: []string{"Kitchen"}})
	for i := range 20 {
		b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%02d", i), Product: "tea", Order: fmt.Sprintf("o%02d", i),
			Time: asOf.Add(-time.Duration(i+1) * 24 * time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(8)})
	}
	h, err := b.Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// one customer of 20 buys again: a delta over x, and (more than one
	// in 32 touched) a full build of h2 in the background
	nb := affinity.NewBuilder(h)
	nb.Add(affinity.Purchase{Customer: "c19", Product: "tea", Order: "o20", Time: asOf.Add(-time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(8)})
	h2, err := nb.Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := segment.Update(ctx, x, h, h2, asOf, segment.UpdateOptions{Compact: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-y.Compacting()
	z, err := y.Compacted(ctx, segment.UpdateOptions{Compact: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	const q = "recency <= 7d"
	before, _ := y.Query(q)
	after, _ := z.Query(q)
	fmt.Println(q+":", y.SortedKeys(before), z.SortedKeys(after))
	fmt.Println("a new index:", z != y, "still building:", z.Compacting() != nil)
	// Output:
	// recency <= 7d: [c00 c01 c02 c03 c04 c05 c06 c19] [c00 c01 c02 c03 c04 c05 c06 c19]
	// a new index: true still building: false
}
