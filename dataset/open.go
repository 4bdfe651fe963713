package dataset

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
)

// Defaults returns the options format is best read with when nothing else
// is known about the file, as every example program and the front door
// read user files:
//
//   - lenient: bad rows are skipped and counted by reason in the [Report]
//     rather than stopping the load — print the report;
//   - categories derived from product names ([CategoryFromName]) for
//     formats that carry none ("onlineretail", "baskets", "members",
//     "shopify", "woocommerce") and
//     for "csv" rows without a category column; "cdnow" has one product
//     and "movielens" has no names, so they get none.
//
// It returns an error for an unknown format, listing the known ones.
func Defaults(format string) (Options, error) {
	if format == "" {
		format = "csv"
	}
	if !slices.Contains(Formats(), format) {
		return Options{}, fmt.Errorf("dataset: unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
	}
	o := Options{Format: format, Lenient: true}
	switch format {
	case "onlineretail", "baskets", "members", "csv", "shopify", "woocommerce":
		o.Categories = CategoryFromName
	}
	return o, nil
}

// Open reads the file at path in format with [Defaults] and builds its
// History: the one-call way in for a user's file. The Report is returned
// in every case; print it, since lenient loads skip bad rows.
func Open(ctx context.Context, path, format string) (*affinity.History, Report, error) {
	opts, err := Defaults(format)
	if err != nil {
		return nil, Report{Format: format}, err
	}
	return ReadFile(ctx, path, opts)
}
