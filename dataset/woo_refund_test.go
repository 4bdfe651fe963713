package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWooRefundCapped: a WooCommerce refund returns at most the units
// bought, for at most the line's total, as Shopify's Refunded Amount is
// capped at the order's lines; it loaded as a return of five units of a
// line that sold one, leaving the order at −40.00.
func TestWooRefundCapped(t *testing.T) {
	head := "order_number,order_date,status,customer_id,item_sku,item_name,item_quantity,item_total,item_refunded,item_refunded_qty\n"
	for _, tc := range []struct {
		name, row string
		want      affinity.Money // the order's net value
	}{
		{"five of one unit", "1,2024-03-01 10:00:00,completed,7,s1,Mug,1,10.00,-50.00,5\n", 0},
		{"amount above the total", "1,2024-03-01 10:00:00,completed,7,s1,Mug,2,10.00,-15.00,\n", 0},
		{"one of two units", "1,2024-03-01 10:00:00,completed,7,s1,Mug,2,10.00,-5.00,1\n", affinity.MoneyFromFloat(5)},
		{"amount only", "1,2024-03-01 10:00:00,completed,7,s1,Mug,2,10.00,-4.00,\n", affinity.MoneyFromFloat(6)},
	} {
		var b affinity.Builder
		_, err := dataset.Load(context.Background(), strings.NewReader(head+tc.row), &b, dataset.Options{Format: "woocommerce"})
		require.NoError(t, err, tc.name)
		h, err := b.Build(context.Background())
		require.NoError(t, err, tc.name)
		require.Equal(t, 1, h.NumOrders(), tc.name)
		for o := range h.Orders() {
			assert.Equal(t, tc.want, h.OrderValue(o), tc.name)
		}
	}
}
