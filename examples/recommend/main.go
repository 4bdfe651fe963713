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
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

func main() {
	err := run(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	cli.Exit("recommend", err) // status 2 for a usage error, 1 for others
}

func run(ctx context.Context, w, errw io.Writer, args []string) error {
	fs := flag.NewFlagSet("recommend", flag.ContinueOnError)
	fs.SetOutput(errw) // usage and flag errors: not the output
	data := fs.String("data", "", "purchase file (default: the built-in demo storefront)")
	format := fs.String("format", "onlineretail", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	customer := fs.String("customer", "", "customer id (default: the customer with the latest order)")
	product := fs.String("product", "", "product id (default: the most popular product)")
	k := fs.Int("k", 10, "number of recommendations")
	// -scope and -measure have no default in the usage: without either,
	// the shop chooses its model; the neighbours' defaults are set below.
	scope := fs.String("scope", "", "co-purchase scope of the neighbours: basket or customer (default: the shop's automatic choice of model, with the neighbours by basket; setting -scope or -measure forces the co-purchase neighbours)")
	measure := fs.String("measure", "", "neighbour measure, such as cosine or lift (default: the shop's automatic choice of model, with the neighbours by cosine; setting -measure or -scope forces the co-purchase neighbours)")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["scope"] {
		*scope = "basket"
	}
	if !set["measure"] {
		*measure = "cosine"
	}
	if *scope != "basket" && *scope != "customer" {
		return cli.Usagef("unknown scope %q (basket or customer)", *scope)
	}
	// the shop refuses these too, but only once it has opened; a flag
	// that does not parse is an error of the command line
	switch m, err := similarity.ParseMeasure(*measure); {
	case err != nil:
		return cli.Usagef("-measure: %w", err)
	case m == similarity.EASE || m == similarity.SVD:
		return cli.Usagef("-measure %v is a learned model, not a co-occurrence measure", m)
	}
	if *k < 1 || *k > shop.MaxK {
		return cli.Usagef("-k %d outside [1, %d]", *k, shop.MaxK)
	}
	name := *data
	if name == "" {
		name = "demo storefront"
	}
	// Open the shop: neighbours by the chosen measure and scope, the engine
	// on top, all as of the last order. The engine's model is chosen on
	// the shop's own history (the neighbours, or EASE where it ranks
	// better), unless -measure or -scope asks for the neighbours.
	s, err := shop.Open(ctx, shop.FileOrDemo(*data, *format), openOptions(fs, *scope, *measure))
	if err != nil {
		return err
	}
	snap := s.Snapshot()
	h := snap.History()
	cat := h.Catalog()
	fmt.Fprintf(w, "%s\n%s\n", snap.Report(), h.Summary())
	fmt.Fprintf(w, "%s: %d customers, %d products, %d orders; as of %s; model %s\n", name, h.NumCustomers(), cat.NumProducts(), h.NumOrders(), snap.AsOf().Format("2006-01-02"), snap.Model())

	// Frequently bought together: a cart of one product.
	if *product == "" {
		top, err := snap.Recommend(ctx, shop.Request{K: 1})
		if err != nil {
			return err
		}
		if len(top.Recs) == 0 {
			return errors.New("empty catalog")
		}
		*product = top.Recs[0].Product
	}
	p, ok := cat.LookupProduct(*product)
	if !ok {
		return fmt.Errorf("unknown product %q", *product)
	}
	res, err := snap.Together(ctx, *product, *k)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFrequently bought together with %s %q:\n", *product, cat.ProductName(p))
	print(w, res.Recs)

	// A customer's recommendations, from their time-decayed history.
	if *customer == "" {
		*customer = latestCustomer(h)
	}
	if *customer != "" {
		res, err = snap.Recommend(ctx, shop.Request{Customer: *customer, K: *k})
		if err != nil {
			return err
		}
		note := ""
		if _, known := h.LookupCustomer(*customer); !known {
			note = " (not a customer of this shop: the popular products)"
		}
		fmt.Fprintf(w, "\nFor customer %s%s:\n", *customer, note)
		print(w, res.Recs)
	}
	return nil
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

func print(w io.Writer, recs []shop.Rec) {
	popularAmong := false // a popular result ranked before a co-purchase one
	for i, r := range recs {
		fmt.Fprintf(w, "%3d. %-10s %-28.28s %-15s %.3f  %s\n", i+1, r.Product, r.Name, r.Source, r.Score, r.Explanation())
		if r.Source != recommend.Popular && slices.ContainsFunc(recs[:i], func(x shop.Rec) bool { return x.Source == recommend.Popular }) {
			popularAmong = true
		}
	}
	if popularAmong {
		// scores rank results of one source: a popular product has no
		// co-purchase evidence above chance and shows its popularity
		fmt.Fprintln(w, "     (popular: ranked among the co-purchase results, scored by popularity against the shop's most popular product)")
	}
}

// openOptions returns the shop's options for the flags: the neighbours'
// scope and measure, and the neighbours as the engine's model when
// -measure or -scope was given (otherwise the shop chooses).
func openOptions(fs *flag.FlagSet, scope, measure string) shop.Options {
	opts := shop.Options{Scope: scope, Measure: measure, Progress: shop.TerminalProgress(os.Stderr)}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "measure" || f.Name == "scope" {
			opts.Model = "neighbours"
		}
	})
	return opts
}
