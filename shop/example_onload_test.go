package shop_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// A shop fed by a lenient source logs the rows each load skipped through
// OnLoad: a refresh whose every row is bad keeps the snapshot, and is
// seen only there.
func ExampleOptions_onLoad() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{
		Model: "neighbours",
		OnLoad: func(rep dataset.Report) {
			fmt.Printf("%s: %d rows, %d loaded, skipped %v\n", rep.Format, rep.Rows, rep.Loaded, rep.Skipped)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	today := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		orders := "customer,product,time,quantity\nc000042,p00007,yesterday,1\nc000042,p00008,2026-01-05T10:00:00Z,none\n"
		return dataset.Load(ctx, strings.NewReader(orders), b, dataset.Options{Lenient: true})
	})
	before := s.Snapshot()
	if err := s.Refresh(ctx, today); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("snapshot kept:", s.Snapshot() == before)
	// Output:
	// synthetic: 155768 rows, 155768 loaded, skipped []
	// csv: 2 rows, 0 loaded, skipped [{invalid time 1 2} {invalid quantity 1 3}]
	// snapshot kept: true
}
