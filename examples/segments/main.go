// Command segments opens a shop and prints its customer segments: the RFM
// segment table (size, share of customers, revenue share, average order
// value), the R×F grid, the lifecycle stages, category-affinity segments,
// where the Champions of three months before the as-of time are now (the
// number in each RFM segment, or in none), and the answer to a query in
// the segment syntax with its biggest spenders.
//
//	go run ./examples/segments                       # the demo storefront
//	go run ./examples/segments -data ../shared/data/online-retail/online_retail_2010-2011.csv.gz -format onlineretail -asof 2011-12-10
//	go run ./examples/segments -query 'affinity("Apparel") >= 0.3 and recency between 14d and 28d'
//
// Files without a category column (Online Retail) get categories derived
// from the product names with dataset.CategoryFromName.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	err := run(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	cli.Exit("segments", err) // status 2 for a usage error, 1 for others
}

func run(ctx context.Context, w, errw io.Writer, args []string) error {
	fs := flag.NewFlagSet("segments", flag.ContinueOnError)
	fs.SetOutput(errw) // usage and flag errors: not the output
	data := fs.String("data", "", "purchase file (default: the built-in demo storefront)")
	format := fs.String("format", "onlineretail", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	asOfFlag := fs.String("asof", "", "as-of date YYYY-MM-DD: 00:00 UTC of that day (default: the end of the last order's day, 23:59:59 UTC)")
	query := fs.String("query", "", "a segment query to evaluate, e.g. 'rfm(\"Champions\") and recency <= 30d'")
	lookback := fs.Int("lookback", 24, "look-back window in calendar months")
	ncat := fs.Int("categories", 6, "number of top-level categories to show affinity segments for")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil {
		return err
	}
	if *lookback < 1 {
		return cli.Usagef("-lookback %d: want at least 1 month", *lookback)
	}
	if err := affinity.Months(*lookback).Validate(); err != nil {
		return cli.Usagef("-lookback %d: %w", *lookback, err)
	}
	var asOf time.Time // zero: as of the last order or event
	if *asOfFlag != "" {
		t, err := time.Parse(time.DateOnly, *asOfFlag)
		if err != nil {
			return cli.Usagef("-asof %q: use YYYY-MM-DD", *asOfFlag)
		}
		asOf = t
	}
	name := *data
	if name == "" {
		name = "demo storefront"
	}
	// Open the shop: the load report and the summary say what was read.
	// This program asks for no recommendations, so it takes the
	// co-purchase neighbours as they are rather than have the shop choose
	// a recommendation model on its history (seconds on a large shop).
	s, err := shop.Open(ctx, shop.FileOrDemo(*data, *format), shop.Options{
		AsOf: asOf, Lookback: affinity.Months(*lookback), Model: "neighbours", Progress: shop.TerminalProgress(os.Stderr)})
	if err != nil {
		return err
	}
	snap := s.Snapshot()
	h := snap.History()
	fmt.Fprintf(w, "%s\n%s\n", snap.Report(), h.Summary())
	x, err := snap.SegmentIndex(ctx) // a build that failed says why
	if err != nil {
		return err
	}
	if x == nil {
		return errors.New("the shop has no orders yet")
	}
	fmt.Fprintf(w, "%s: %d customers known as of %s (look-back %v)\n\n",
		name, x.Len(), x.AsOf().Format(time.DateTime), x.Options().Lookback)
	if x.Len() == 0 {
		// a file of baskets, or an as-of time before every customer's
		// first order: nobody to segment
		fmt.Fprintln(w, "no segments: no order by then names its customer")
		return nil
	}

	fmt.Fprintln(w, "RFM segments")
	if err := segment.WriteTable(w, x.RFMTable()); err != nil {
		return err
	}
	if err := rfGrid(w, x); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nLifecycle")
	if err := segment.WriteTable(w, x.LifecycleTable()); err != nil {
		return err
	}
	if err := categories(w, x, *ncat); err != nil {
		return err
	}
	if err := transitions(ctx, w, h, x, x.GivenOptions()); err != nil {
		return err
	}
	if *query != "" {
		// An audience: statistics, then members in pages, biggest
		// spenders first.
		aud, err := snap.SegmentContext(ctx, *query)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nQuery %s\n", *query)
		st := aud.Stats()
		st.Name = "result"
		if err := segment.WriteTable(w, []segment.Stats{st}); err != nil {
			return err
		}
		top, err := aud.Page(shop.BySpend, 0, 10)
		if err != nil {
			return err
		}
		var keys []string
		for _, m := range top {
			keys = append(keys, fmt.Sprintf("%s (%s)", m.Customer, m.Spend))
		}
		if len(keys) == 0 {
			keys = []string{"none: nobody matches"}
		}
		fmt.Fprintf(w, "biggest spenders: %s\n", strings.Join(keys, ", "))
	}
	return nil
}

// categories prints, for the top-level categories with the largest share
// of spend, the customers whose favourite category it is and those with a
// strong affinity for it (a share of at least 30 % and twice the average).
func categories(w io.Writer, x *segment.Index, n int) error {
	var tops []string
	for _, c := range x.Categories() {
		if d, _ := x.CategoryDepth(c); d == 1 {
			tops = append(tops, c)
		}
	}
	if len(tops) == 0 || n <= 0 {
		return nil
	}
	share := func(c string) float64 { s, _ := x.PopulationShare(c); return s }
	slices.SortFunc(tops, func(a, b string) int { return cmp.Or(cmp.Compare(share(b), share(a)), cmp.Compare(a, b)) })
	tops = tops[:min(n, len(tops))]
	var fav, fans []segment.Stats
	for _, c := range tops {
		label := fmt.Sprintf("%s (%.1f%% of spend)", c, 100*share(c))
		f, err := x.Eval(segment.Top(c, 1))
		if err != nil {
			return err
		}
		fav = append(fav, x.Stats(label, f))
		s, err := x.Eval(segment.And(segment.Affinity(c).GE(0.3), segment.Lift(c).GE(2)))
		if err != nil {
			return err
		}
		fans = append(fans, x.Stats(label, s))
	}
	fmt.Fprintln(w, "\nFavourite top-level category: top(X, 1)")
	if err := segment.WriteTable(w, fav); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCategory fans: affinity(X) >= 0.3 and lift(X) >= 2")
	return segment.WriteTable(w, fans)
}

// transitions compares the RFM segments of three months ago (the start of
// a three-month look-back, a month end clamped as in SQL) with today's.
func transitions(ctx context.Context, w io.Writer, h *affinity.History, now *segment.Index, opts segment.Options) error {
	before, err := segment.Build(ctx, h, affinity.Months(3).Start(now.AsOf()), opts)
	if errors.Is(err, segment.ErrNoData) {
		return nil // the data starts less than three months before asOf
	}
	if err != nil {
		return err
	}
	names := now.RFMSegments()
	exprs := make([]segment.Expr, len(names))
	for i, s := range names {
		exprs[i] = segment.RFM(s)
	}
	m, err := segment.Transitions(before, now, exprs, exprs)
	if err != nil {
		return err
	}
	i := slices.Index(names, "Champions")
	if i < 0 {
		return nil
	}
	fmt.Fprintf(w, "\nWhere the Champions of %s are now\n", before.AsOf().Format(time.DateOnly))
	row, shown := m[i], false
	for j, s := range append(names, "(no segment)") {
		if row[j] > 0 {
			fmt.Fprintf(w, "  %-20s %6d\n", s, row[j])
			shown = true
		}
	}
	if !shown {
		fmt.Fprintln(w, "  none: nobody was a Champion then")
	}
	return nil
}

// rfGrid prints the classic R×F grid: customers and their share of
// revenue by recency score (rows, 5 = most recent on top) and frequency
// score (columns), from the scores stored in the index.
func rfGrid(w io.Writer, x *segment.Index) error {
	grid, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nR×F grid: customers (share of revenue)")
	fmt.Fprint(w, "   ")
	for f := 1; f <= 5; f++ {
		fmt.Fprintf(w, " %15s", fmt.Sprintf("F%d", f))
	}
	fmt.Fprintln(w)
	for r := 5; r >= 1; r-- {
		fmt.Fprintf(w, "R%d ", r)
		for _, c := range grid[r-1] {
			fmt.Fprintf(w, " %15s", fmt.Sprintf("%d (%.1f%%)", c.Customers, 100*c.RevenueShare))
		}
		fmt.Fprintln(w)
	}
	return nil
}
