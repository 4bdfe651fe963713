// Command pairs prints the product pairs that go together most strongly:
// association rules A → B with their support, confidence and lift, ranked
// by a chosen measure.
//
//	go run ./examples/pairs                                   # the demo storefront
//	go run ./examples/pairs -data ../shared/data/online-retail/online_retail_2010-2011.csv.gz -format onlineretail
//	go run ./examples/pairs -data ../shared/data/groceries/groceries.csv -format baskets -min-support 20
//	go run ./examples/pairs -measure npmi -scope customer -top 10
//
// Support is the share of transactions (baskets, or customers with
// -scope customer or sequential) with both products, confidence is
// P(B|A), lift is P(A,B) / (P(A)·P(B)). For a symmetric measure each pair
// is listed once, as the rule with the higher confidence; a directed
// measure (confidence, conviction) or the sequential scope lists rules.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

func main() {
	err := run(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	cli.Exit("pairs", err) // status 2 for a usage error, 1 for others
}

// together says what "bought together" means in each scope.
var together = map[similarity.Scope]string{
	similarity.Basket:     "in one basket",
	similarity.Customer:   "by one customer",
	similarity.Sequential: "one after the other by one customer",
}

type rule struct {
	a, b  affinity.ProductID
	pc    similarity.PairCount
	score float64
}

func run(ctx context.Context, w, errw io.Writer, args []string) error {
	fs := flag.NewFlagSet("pairs", flag.ContinueOnError)
	fs.SetOutput(errw) // usage and flag errors: not the output
	data := fs.String("data", "", "purchase file (default: the built-in demo storefront)")
	format := fs.String("format", "onlineretail", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	measure := fs.String("measure", "lift", "ranking measure: jaccard, cosine, lift, confidence, npmi, pmi, leverage, conviction, support, dice, overlap")
	scope := fs.String("scope", "basket", "what counts as together: basket, customer or sequential")
	minSupport := fs.Int("min-support", 20, "minimum number of transactions with both products")
	shrinkage := fs.Float64("shrinkage", 0, "shrink scores by together/(together+λ)")
	top := fs.Int("top", 20, "number of pairs to print")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil {
		return err
	}
	switch {
	case *top < 1:
		return cli.Usagef("-top %d: want at least 1", *top)
	case *minSupport < 1:
		return cli.Usagef("-min-support %d: want at least 1", *minSupport)
	case !(*shrinkage >= 0) || math.IsInf(*shrinkage, 0):
		return cli.Usagef("-shrinkage %v: want a finite λ ≥ 0", *shrinkage)
	}
	m, err := similarity.ParseMeasure(*measure)
	if err != nil {
		return cli.Usagef("-measure: %w", err)
	}
	if m >= similarity.BM25 {
		return cli.Usagef("-measure %v is not a function of counts", m)
	}
	sc, err := similarity.ParseScope(*scope)
	if err != nil {
		return cli.Usagef("-scope: %w", err)
	}
	h, rep, err := shop.LoadHistory(ctx, shop.FileOrDemo(*data, *format))
	if err != nil {
		return err
	}
	name := *data
	if name == "" {
		name = "demo storefront"
	}
	fmt.Fprintf(w, "%s\n%s\n", rep, h.Summary())
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: sc})
	if err != nil {
		return err
	}
	rules := topRules(c, m, *minSupport, *shrinkage, *top)
	unit := map[similarity.Scope]string{similarity.Basket: "baskets", similarity.Customer: "customers", similarity.Sequential: "customers"}[sc]
	// the matrix holds each pair of a symmetric scope twice, (a, b) and
	// (b, a); a sequential one, ordered pairs (a bought before b)
	pairs, kind := c.NumPairs()/2, "pairs"
	if sc == similarity.Sequential {
		pairs, kind = c.NumPairs(), "ordered pairs"
	}
	fmt.Fprintf(w, "%s: %d %s, %d products, %d %s seen together; %v of pairs seen together ≥ %d times\n\n",
		name, c.Total(), unit, h.Catalog().NumProducts(), pairs, kind, m, *minSupport)
	arrow := "→"
	if sc == similarity.Sequential {
		arrow = "→ later"
	}
	fmt.Fprintf(w, "%4s  %-34s %-7s %-34s %8s %8s %7s %6s", "rank", "A", "", "B", "together", "support", "conf", "lift")
	if m != similarity.Lift && m != similarity.Confidence && m != similarity.Support {
		fmt.Fprintf(w, " %10v", m)
	}
	fmt.Fprintln(w)
	cat := h.Catalog()
	for i, r := range rules {
		fmt.Fprintf(w, "%4d  %-34.34s %-7s %-34.34s %8d %7.3f%% %7.3f %6.2f", i+1, label(cat, r.a), arrow, label(cat, r.b), r.pc.AB,
			100*similarity.Support.Score(r.pc), similarity.Confidence.Score(r.pc), similarity.Lift.Score(r.pc))
		if m != similarity.Lift && m != similarity.Confidence && m != similarity.Support {
			fmt.Fprintf(w, " %10.4f", r.score)
		}
		fmt.Fprintln(w)
	}
	switch {
	case len(rules) > 0:
	case c.NumPairs() == 0:
		// no threshold can help: there is no pair to rank
		fmt.Fprintf(w, "no two products were ever bought together (%s): there is no pair to rank\n", together[sc])
	default:
		fmt.Fprintln(w, "no pair is seen together often enough: lower -min-support")
	}
	return nil
}

// topRules ranks the pairs seen together at least minSupport times by m
// (after shrinkage); ties by co-count, then product ids.
func topRules(c *similarity.Counts, m similarity.Measure, minSupport int, shrinkage float64, top int) []rule {
	directed := c.Directed() || m.Directed()
	var rules []rule
	for a := range c.NumProducts() {
		pa := affinity.ProductID(a)
		cols, vals := c.Row(pa)
		for i, pb := range cols {
			if int(vals[i]) < minSupport || (!directed && pb < pa) {
				continue
			}
			r := rule{a: pa, b: pb, pc: c.PairCount(pa, pb)}
			if !directed && r.pc.B < r.pc.A {
				// show the rule with the higher confidence
				r.a, r.b = r.b, r.a
				r.pc.A, r.pc.B = r.pc.B, r.pc.A
			}
			r.score = similarity.Shrink(m.Score(r.pc), r.pc.AB, shrinkage)
			rules = append(rules, r)
		}
	}
	slices.SortFunc(rules, func(x, y rule) int {
		return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(y.pc.AB, x.pc.AB), cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	return rules[:min(top, len(rules))]
}

func label(cat *affinity.Catalog, p affinity.ProductID) string {
	key, name := cat.ProductKey(p), cat.ProductName(p)
	if name == "" || name == key {
		return key
	}
	return key + " " + strings.ToLower(name)
}
