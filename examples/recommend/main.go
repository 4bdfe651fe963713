// Command recommend prints cross-sell recommendations with their
// explanations: "frequently bought together" for a product and the
// personal recommendations of a customer.
//
//	go run ./examples/recommend                       # the demo storefront
//	go run ./examples/recommend -product p00042 -customer c000123 -k 5
//	go run ./examples/recommend -data ../shared/data/online-retail/online_retail_2010-2011.csv.gz -format onlineretail
//
// Without -product and -customer it picks the most popular product and the
// customer with the most recent order.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "recommend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("recommend", flag.ContinueOnError)
	fs.SetOutput(w)
	data := fs.String("data", "", "purchase file (default: the built-in demo storefront)")
	format := fs.String("format", "onlineretail", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	customer := fs.String("customer", "", "customer id (default: the customer with the latest order)")
	product := fs.String("product", "", "product id (default: the most popular product)")
	k := fs.Int("k", 10, "number of recommendations")
	scope := fs.String("scope", "basket", "co-purchase scope: basket or customer")
	measure := fs.String("measure", "cosine", "neighbour measure")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, name, err := load(ctx, *data, *format)
	if err != nil {
		return err
	}
	m, err := similarity.ParseMeasure(*measure)
	if err != nil {
		return err
	}
	co := similarity.CountOptions{Scope: similarity.Basket}
	switch *scope {
	case "basket":
	case "customer":
		co.Scope = similarity.Customer
	default:
		return fmt.Errorf("unknown scope %q (basket or customer)", *scope)
	}
	counts, err := similarity.Count(ctx, h, h.Latest(), co)
	if err != nil {
		return err
	}
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: m})
	if err != nil {
		return err
	}
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
	if err != nil {
		return err
	}
	cat := h.Catalog()
	fmt.Fprintf(w, "%s: %d customers, %d products, %d orders; as of %s\n", name, h.NumCustomers(), cat.NumProducts(), h.NumOrders(), e.AsOf().Format("2006-01-02"))

	if *product == "" {
		recs, err := e.Recommend(nil, recommend.Request{K: 1, Rules: recommend.Rules{IncludeOutOfStock: true}})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return errors.New("empty catalog")
		}
		*product = recs[0].Key
	}
	p, ok := cat.LookupProduct(*product)
	if !ok {
		return fmt.Errorf("unknown product %q", *product)
	}
	recs, err := e.Recommend(nil, recommend.Request{Basket: []string{*product}, K: *k})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFrequently bought together with %s %q:\n", *product, cat.ProductName(p))
	print(w, e, recs)

	if *customer == "" {
		*customer = latestCustomer(h)
	}
	if *customer != "" {
		recs, err = e.Recommend(recs[:0], recommend.Request{Customer: *customer, K: *k})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nFor customer %s:\n", *customer)
		print(w, e, recs)
	}
	return nil
}

func load(ctx context.Context, path, format string) (*affinity.History, string, error) {
	if path == "" {
		h, err := dataset.Demo().History(ctx)
		return h, "demo storefront", err
	}
	opts := dataset.Options{Format: format, Lenient: true}
	if format == "onlineretail" || format == "baskets" {
		opts.Categories = dataset.CategoryFromName
	}
	h, _, err := dataset.ReadFile(ctx, path, opts)
	return h, path, err
}

// latestCustomer returns the customer with the most recent order.
func latestCustomer(h *affinity.History) string {
	best, bestT := "", int64(0)
	for c := range h.NumCustomers() {
		if t, ok := h.LastPurchase(affinity.CustomerID(c)); ok && (best == "" || t.Unix() > bestT) {
			best, bestT = h.CustomerKey(affinity.CustomerID(c)), t.Unix()
		}
	}
	return best
}

func print(w io.Writer, e *recommend.Engine, recs []recommend.Rec) {
	cat := e.History().Catalog()
	for i, r := range recs {
		fmt.Fprintf(w, "%3d. %-10s %-28.28s %-15s %.3f  %s\n", i+1, r.Key, cat.ProductName(r.Product), r.Source, r.Score, r.Explain(e))
	}
}
