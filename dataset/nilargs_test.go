package dataset_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// TestNilArguments calls every loader with a nil context, Builder,
// reader or sequence: each returns an error matching
// affinity.ErrNilArgument, none panics.
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	var b affinity.Builder
	r := func() *strings.Reader { return strings.NewReader("customer_id,product_id,time,quantity,price\n") }
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 5, Products: 3, Seed: 1})
	calls := map[string]func() error{
		"Load nil ctx":         func() error { _, err := dataset.Load(nilCtx, r(), &b, dataset.Options{}); return err },
		"Load nil Builder":     func() error { _, err := dataset.Load(ctx, r(), nil, dataset.Options{}); return err },
		"Load nil reader":      func() error { _, err := dataset.Load(ctx, nil, &b, dataset.Options{}); return err },
		"LoadFile nil ctx":     func() error { _, err := dataset.LoadFile(nilCtx, "x.csv", &b, dataset.Options{}); return err },
		"LoadFile nil Builder": func() error { _, err := dataset.LoadFile(ctx, "x.csv", nil, dataset.Options{}); return err },
		"ReadFile nil ctx":     func() error { _, _, err := dataset.ReadFile(nilCtx, "x.csv", dataset.Options{}); return err },
		"Open nil ctx":         func() error { _, _, err := dataset.Open(nilCtx, "x.csv", "csv"); return err },
		"LoadSeq nil ctx": func() error {
			_, err := dataset.LoadSeq(nilCtx, slices.Values(sf.Purchases), &b, dataset.Options{})
			return err
		},
		"LoadSeq nil Builder": func() error {
			_, err := dataset.LoadSeq(ctx, slices.Values(sf.Purchases), nil, dataset.Options{})
			return err
		},
		"LoadSeq nil sequence":       func() error { _, err := dataset.LoadSeq(ctx, nil, &b, dataset.Options{}); return err },
		"LoadCatalog nil ctx":        func() error { _, err := dataset.LoadCatalog(nilCtx, r(), &b, dataset.CatalogOptions{}); return err },
		"LoadCatalog nil Builder":    func() error { _, err := dataset.LoadCatalog(ctx, r(), nil, dataset.CatalogOptions{}); return err },
		"LoadCatalog nil reader":     func() error { _, err := dataset.LoadCatalog(ctx, nil, &b, dataset.CatalogOptions{}); return err },
		"Storefront.History nil ctx": func() error { _, err := sf.History(nilCtx); return err },
		"nil Storefront.History":     func() error { _, err := (*dataset.Storefront)(nil).History(ctx); return err },
		"SQLSource.Poll nil ctx":     func() error { _, err := (&dataset.SQLSource{}).Poll(nilCtx, int64(0)); return err },
		"nil SQLSource.Poll":         func() error { _, err := (*dataset.SQLSource)(nil).Poll(ctx, int64(0)); return err },
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "dataset loaders: nil context, Builder, reader, sequence or source",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, calls, affinity.ErrNilArgument)
}
