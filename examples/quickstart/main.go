// Command quickstart runs the main job of affinity on a shop's orders: it
// opens the shop (the embedded demo storefront, or your own file), splits
// the customers into RFM segments, finds the customers due for a coupon,
// and picks the cross-sell products of a thank-you mail, each with its
// reason.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -data orders.csv.gz -format onlineretail
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	fs := flag.NewFlagSet("quickstart", flag.ExitOnError) // a bad flag exits with status 2
	data := fs.String("data", "", "orders file (default: the embedded demo storefront)")
	format := fs.String("format", "csv", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	if err := cli.Parse(fs, os.Args[1:], dataset.Formats(), "data"); err != nil {
		cli.Exit("quickstart", err) // a stray argument, -format without -data: status 2
	}
	src := shop.FileOrDemo(*data, *format)
	cli.Exit("quickstart", run(context.Background(), os.Stdout, src, shop.TerminalProgress(os.Stderr)))
}

func run(ctx context.Context, w io.Writer, src shop.Source, progress affinity.ProgressFunc) error {
	// 1. Open the shop: load the orders and build every index as of the
	// time of the last order. The load report says what was read and what
	// was skipped, and why.
	s, err := shop.Open(ctx, src, shop.Options{Progress: progress})
	if err != nil {
		return err
	}
	snap := s.Snapshot()
	h := snap.History()
	fmt.Fprintf(w, "# The shop\n%s\n%s", snap.Report(), h.Summary())

	// 2 and 3 need customers: a file of baskets without customer ids
	// has no segments, and goes on with recommendations for carts.
	if h.Summary().Buyers == 0 {
		fmt.Fprintf(w, "\n# Segments\nnone: no order names its customer\n")
	} else {
		// 2. Segments: RFM groups with their size, revenue share and AOV. The
		// segment index counts whole days from the end of the latest order's
		// day (shop.Options.AsOf sets another time).
		segs, err := snap.SegmentIndex(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n# RFM segments as of %s\n", segs.AsOf().Format(time.DateTime))
		if err := segment.WriteTable(w, segs.RFMTable()); err != nil {
			return err
		}

		// 3. A campaign: the 10 % coupon for customers who bought two to four
		// weeks ago, are fond of a department and have not bought from it in
		// that time. The audience pages through its members, biggest spenders
		// first.
		cat := h.Catalog()
		if len(cat.Roots()) > 0 {
			dept := cat.CategoryPath(cat.Roots()[0])
			query := fmt.Sprintf(`recency between 14d and 28d and affinity(%q) >= 0.2 and not bought(%q within 28d)`, dept, dept)
			coupon, err := snap.SegmentContext(ctx, query)
			if err != nil {
				return err
			}
			st := coupon.Stats()
			st.Name = "coupon"
			fmt.Fprintf(w, "\n# Coupon campaign\n%s\n%s\n", query, st)
			top, err := coupon.Page(shop.BySpend, 0, 3)
			if err != nil {
				return err
			}
			for _, m := range top {
				fmt.Fprintf(w, "  %s spent %s in %d orders, last on %s\n", m.Customer, m.Spend, m.Orders, m.LastPurchase.Format(time.DateOnly))
			}
		}
	}

	// 4. A thank-you mail: complements of the customer's last order, given
	// as the cart, with the customer's history behind it. A shop without
	// repeat customers (guest checkouts, a file of baskets) gets the
	// complements of its last order's cart.
	customer, basket, ok := lastOrder(h)
	if !ok {
		if basket, ok = lastBasket(h); !ok {
			fmt.Fprintf(w, "\n# Thank-you mail\nnone: no order holds two different products to find complements of\n")
			return nil
		}
	}
	res, err := snap.Recommend(ctx, shop.Request{Customer: customer, Cart: basket, K: 5})
	if err != nil {
		return err
	}
	if customer != "" {
		fmt.Fprintf(w, "\n# Thank-you mail for %s (last order: %s)\n", customer, strings.Join(basket, ", "))
	} else {
		fmt.Fprintf(w, "\n# Bought together with the last order: %s\n", strings.Join(basket, ", "))
	}
	for i, r := range res.Recs {
		label := r.Product // the key, and the name when it says more
		if r.Name != "" && r.Name != r.Product {
			label += " " + strconv.Quote(r.Name)
		}
		fmt.Fprintf(w, "%d. %-33s %8s  %s\n", i+1, label, r.Price, r.Explanation())
	}
	if len(res.Recs) == 0 {
		fmt.Fprintln(w, "nothing to recommend with this order")
	}
	return nil
}

// lastOrder returns the repeat customer (three orders or more) whose last
// order, which bought two different products or more, is the most recent,
// and those products; ties go to the smaller id.
func lastOrder(h *affinity.History) (customer string, basket []string, ok bool) {
	var c affinity.CustomerID
	var last affinity.OrderID
	for id := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(id)
		if hi-lo < 3 {
			continue
		}
		// the products only of an order that would be chosen by its time
		if (!ok || h.OrderUnix(hi-1) > h.OrderUnix(last)) && len(bought(h, hi-1)) >= 2 {
			c, last, ok = id, hi-1, true
		}
	}
	if !ok {
		return "", nil, false
	}
	return h.CustomerKey(c), bought(h, last), true
}

// lastBasket returns the products of the most recent order that bought
// two different products or more, anyone's; ties go to the smaller id.
func lastBasket(h *affinity.History) (basket []string, ok bool) {
	var last affinity.OrderID
	for o := range h.Orders() {
		if (!ok || h.OrderUnix(o) > h.OrderUnix(last)) && len(bought(h, o)) >= 2 {
			last, ok = o, true
		}
	}
	if !ok {
		return nil, false
	}
	return bought(h, last), true
}

// bought returns the products bought (not returned) in order o, each
// once, in the order of their first line: an order may hold several lines
// of one product (a CDNOW row of three CDs at two prices).
func bought(h *affinity.History, o affinity.OrderID) (basket []string) {
	l0, l1 := h.OrderLines(o)
	for i := l0; i < l1; i++ {
		if h.LineQuantity(i) <= 0 {
			continue
		}
		if key := h.Catalog().ProductKey(h.LineProduct(i)); !slices.Contains(basket, key) {
			basket = append(basket, key)
		}
	}
	return basket
}
