// Command quickstart runs the main job of affinity on the embedded demo
// storefront: it builds the purchase history, splits the customers into RFM
// segments, finds the customers due for a coupon, and picks cross-sell
// products for a thank-you mail, each with its reason.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	// 1. The purchase history: generated, deterministic demo data.
	demo := dataset.Demo()
	h, err := demo.History(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "# The demo storefront")
	fmt.Fprint(w, h.Summary())

	// Every computation takes an explicit as-of time: here the day after
	// the last order.
	asOf := h.Summary().Last.Truncate(24 * time.Hour).Add(24 * time.Hour)

	// 2. Segments: RFM groups with their size, revenue share and AOV.
	idx, err := segment.Build(ctx, h, asOf, segment.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n# RFM segments as of %s\n", asOf.Format(time.DateOnly))
	if err := segment.WriteTable(w, idx.RFMTable()); err != nil {
		return err
	}

	// 3. A campaign: the 10 % coupon for customers who bought two to four
	// weeks ago, are fond of a department and have not bought from it in
	// that time.
	dept := h.Catalog().CategoryPath(h.Catalog().Roots()[0])
	query := fmt.Sprintf(`recency between 14d and 28d and affinity(%q) >= 0.2 and not bought(%q within 28d)`, dept, dept)
	coupon, err := idx.Query(query)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n# Coupon campaign\n%s\n%s\n", query, idx.Stats("coupon", coupon))

	// 4. Cross-sell: products bought together, ranked for one customer's
	// thank-you mail, complements rather than substitutes.
	counts, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
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
	// The customer: a repeat buyer whose latest order (two lines or more)
	// is the most recent in the shop; ties go to the smaller id.
	var c affinity.CustomerID
	var last affinity.OrderID
	found := false
	for id := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(id)
		if hi-lo < 3 {
			continue
		}
		if l0, l1 := h.OrderLines(hi - 1); l1-l0 < 2 {
			continue
		}
		if !found || h.OrderUnix(hi-1) > h.OrderUnix(last) {
			c, last, found = id, hi-1, true
		}
	}
	if !found {
		return fmt.Errorf("no repeat customer in the demo data")
	}
	customer := h.CustomerKey(c)
	lo, hi := h.CustomerOrders(c)
	var basket []string
	l0, l1 := h.OrderLines(last)
	for i := l0; i < l1; i++ {
		basket = append(basket, h.Catalog().ProductKey(h.LineProduct(i)))
	}
	recs, err := engine.Recommend(nil, recommend.Request{Customer: customer, Basket: basket, K: 5})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n# Thank-you mail for %s (%d orders; the last on %s: %v)\n",
		customer, hi-lo, h.OrderTime(last).Format(time.DateOnly), basket)
	cat := h.Catalog()
	for i, r := range recs {
		fmt.Fprintf(w, "%d. %s %-24q %s\n", i+1, r.Key, cat.ProductName(r.Product), r.Explain(engine))
	}
	return nil
}
