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
	csv := func(rows string) shop.Source {
		return shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
			return dataset.Load(ctx, strings.NewReader("customer,product,time,quantity\n"+rows), b, dataset.Options{Lenient: true})
		})
	}
	s, err := shop.Open(ctx, csv("c1,mug,2026-01-05T10:00:00Z,1\nc1,tea,2026-01-05T10:00:00Z,2\nc2,mug,yesterday,1\n"), shop.Options{
		Model: "neighbours",
		OnLoad: func(rep dataset.Report) {
			fmt.Printf("%d rows, %d loaded, skipped %v\n", rep.Rows, rep.Loaded, rep.Skipped)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	before := s.Snapshot()
	if err := s.Refresh(ctx, csv("c2,tea,today,1\nc2,mug,2026-01-06T09:00:00Z,none\n")); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("snapshot kept:", s.Snapshot() == before)
	// Output:
	// 3 rows, 2 loaded, skipped [{invalid time 1 4}]
	// 2 rows, 0 loaded, skipped [{invalid time 1 2} {invalid quantity 1 3}]
	// snapshot kept: true
}
