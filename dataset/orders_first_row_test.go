package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestShopifyMalformedFirstRow: in lenient mode, when an order's first
// row, the only one with its order-level columns (Created at, Cancelled
// at, …), has a field too few or too many, the order's next rows are
// "incomplete order", as Load's documentation says, counted at the
// first of them (a bad line item under its own reason): they were read
// as the order's first row and skipped as "invalid time" for want of
// its Created at. Every row counts once, and the orders around load.
func TestShopifyMalformedFirstRow(t *testing.T) {
	const head = "Name,Email,Created at,Cancelled at,Lineitem quantity,Lineitem name,Lineitem price\n"
	const before = "#1,a@x.com,2024-03-01 10:00:00 +0000,,1,Shoe,10.00\n"
	const after = "#3,c@x.com,2024-03-03 10:00:00 +0000,,2,Cap,7.00\n"
	for _, tc := range []struct {
		name, first string
	}{
		{"a field too few", "#2,b@x.com,2024-03-02 10:00:00 +0000,,1,Sock\n"},
		{"a field too many", "#2,b@x.com,2024-03-02 10:00:00 +0000,,1,Sock,5.00,extra\n"},
		{"a cancelled one", "#2,b@x.com,2024-03-02 10:00:00 +0000,2024-03-02 11:00:00 +0000,1,Sock\n"},
		{"no email", "#2,,2024-03-02 10:00:00 +0000,,1,Sock,5.00,extra\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := head + before + tc.first +
				"#2,,,,3,Mug,4.00\n" +
				"#2,,,,x,Jar,4.00\n" + // a bad line item: its own reason
				"#2,,,,1,Pin,1.00\n" +
				after
			for _, workers := range []int{-1, 3} {
				var b affinity.Builder
				rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "shopify", Lenient: true, Workers: workers})
				require.NoError(t, err)
				assert.Equal(t, []dataset.Skip{
					{Reason: "wrong field count", Count: 1, FirstLine: 3},
					{Reason: "incomplete order", Count: 2, FirstLine: 4},
					{Reason: "invalid quantity", Count: 1, FirstLine: 5},
				}, rep.Skipped, "workers %d", workers)
				assert.Equal(t, 2, rep.Loaded, "workers %d", workers)
				assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "workers %d: every row counted once", workers)
				h, err := b.Build(context.Background())
				require.NoError(t, err)
				var orders []string
				for p := range h.Purchases() {
					orders = append(orders, p.Order)
				}
				assert.Equal(t, []string{"#1", "#3"}, orders, "workers %d", workers)
			}
		})
	}
}

// TestWooMalformedFirstRow: a WooCommerce row repeats the order-level
// columns, so after an order's malformed first row its next row is read
// as the first: the order is not put, its rows "incomplete order", or
// "cancelled order" for a cancelled one, which is deleted.
func TestWooMalformedFirstRow(t *testing.T) {
	const head = "order_number,order_date,status,customer_id,item_sku,item_name,item_quantity,item_total\n"
	for _, status := range []string{"completed", "cancelled"} {
		data := head +
			"1,2024-03-01 10:00:00,completed,7,s1,Mug,1,10.00\n" +
			"2,2024-03-02 10:00:00," + status + ",8,s2,Jar,1\n" +
			"2,2024-03-02 10:00:00," + status + ",8,s3,Cap,2,8.00\n" +
			"2,2024-03-02 10:00:00," + status + ",8,s4,Pin,1,1.00\n"
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "woocommerce", Lenient: true})
		require.NoError(t, err)
		reason := "incomplete order"
		if status == "cancelled" {
			reason = "cancelled order"
		}
		assert.Equal(t, []dataset.Skip{
			{Reason: "wrong field count", Count: 1, FirstLine: 3},
			{Reason: reason, Count: 2, FirstLine: 4},
		}, rep.Skipped, status)
		assert.Equal(t, 1, rep.Loaded, status)
		assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), status)
	}
}
