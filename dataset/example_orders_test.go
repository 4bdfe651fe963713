package dataset_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A Shopify orders export: only each order's first row carries Email and
// Created at. #1002 was partly refunded; #1003 was cancelled.
const shopifyExport = `Name,Email,Financial Status,Created at,Cancelled at,Refunded Amount,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku
#1001,alice@example.com,paid,2024-03-01 10:15:00 -0700,,0.00,1,Trail Runner,89.90,TR-42
#1001,,,,,,3,Merino Socks,4.50,SOCK-M
#1002,bob@example.com,partially_refunded,2024-03-02 18:40:12 -0700,,4.50,2,Merino Socks,4.50,SOCK-M
#1003,carol@example.com,voided,2024-03-04 12:00:00 -0700,2024-03-04 13:30:00 -0700,0.00,1,Trail Runner,89.90,TR-42
`

func ExampleLoad_shopify() {
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(shopifyExport), &b, dataset.Options{Format: "shopify"})
	if err != nil {
		log.Fatal(err)
	}
	h, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for p := range h.Purchases() {
		fmt.Println(p.Order, p.Customer, p.Time.Format("2006-01-02 15:04"), p.Product, p.Quantity, p.Price)
	}
	fmt.Println("skipped:", rep.Skipped[0].Reason, rep.Skipped[0].Count)
	fmt.Println("revenue:", h.Summary().Revenue)
	// Output:
	// #1001 alice@example.com 2024-03-01 17:15 TR-42 1 89.90
	// #1001 alice@example.com 2024-03-01 17:15 SOCK-M 3 4.50
	// #1002 bob@example.com 2024-03-03 01:40 SOCK-M 2 4.50
	// #1002 bob@example.com 2024-03-03 01:40 refund -1 4.50
	// skipped: cancelled order 1
	// revenue: 107.90
}

// Purchases from Go code: here the purchases of one History, filtered, into
// a new Builder.
func ExampleLoadSeq() {
	var b affinity.Builder
	if _, err := dataset.Load(context.Background(), strings.NewReader(shopifyExport), &b, dataset.Options{Format: "shopify"}); err != nil {
		log.Fatal(err)
	}
	h, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	socks := func(yield func(affinity.Purchase) bool) {
		for p := range h.Purchases() {
			if p.Product == "SOCK-M" && !yield(p) {
				return
			}
		}
	}
	var nb affinity.Builder
	rep, err := dataset.LoadSeq(context.Background(), socks, &nb, dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded:", rep.Loaded)
	// Output:
	// loaded: 2
}

// Polling a shop database: each poll reads the orders changed since the
// last cursor and applies them onto the current History; the cursor moves
// on only with the History built from them. It needs a database, so it is
// compiled but not run; the PostgreSQL tests of SQLSource.Load cover what
// it does.
func ExampleSQLSource() {
	poll := func(ctx context.Context, db *sql.DB, current *affinity.History, cursor any) (*affinity.History, any, error) {
		const query = `SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
       l.sku AS product_id, l.quantity, l.price
FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
WHERE o.updated_at >= $1`
		// README: SQL source
		src := &dataset.SQLSource{DB: db, Query: query, Cancelled: []string{"cancelled"},
			Overlap: 5 * time.Minute} // orders committed late with an earlier updated_at
		b := affinity.NewBuilder(current)
		batch, err := src.Load(ctx, cursor, b) // cursor: time.Time{} at first
		if err != nil {
			return nil, cursor, err
		}
		next, err := b.Build(ctx)
		if err != nil {
			return nil, cursor, err // the old cursor: the next poll reads them again
		}
		return next, batch.Cursor, nil
		// README: end
	}
	_ = poll
}
