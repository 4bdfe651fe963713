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

// A malformed row (an unquoted comma in the item name) with order_number
// after the name reads customer_id at the order column's place: order
// "7", read whole before, is not taken back, as the shifted reading
// names order "1", which is not put without the row's line.
func TestMalformedRowShiftedOrderColumn(t *testing.T) {
	const data = "item_name,item_sku,item_quantity,item_total,customer_id,order_number,order_date,status\n" +
		"Hat,H1,1,7.00,9,7,2024-03-01 10:00:00,completed\n" +
		"Shirt,S1,1,10.00,7,1,2024-03-02 10:00:00,completed\n" +
		"Mug, large,M1,1,5.00,7,1,2024-03-02 10:00:00,completed\n"
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "woocommerce", Lenient: true})
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	_, ok := h.LookupOrder("7")
	assert.True(t, ok, "order 7, whose one row is well formed, was taken back: %v", rep.Skipped)
	_, ok = h.LookupOrder("1")
	assert.False(t, ok, "order 1 was put without its malformed row's line")
	assert.Equal(t, []dataset.Skip{{Reason: "incomplete order", Count: 1, FirstLine: 3}, {Reason: "wrong field count", Count: 1, FirstLine: 4}}, rep.Skipped)
}

// A malformed row with order #3's id, another order between it and #3's
// rows: #3 is skipped as a split order, not put without the row's line.
func TestMalformedRowBeforeLaterOrder(t *testing.T) {
	const head = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
	const data = head +
		"#1,amy@x.com,2024-03-01 11:00:00 +0000,1,Shirt,10.00,S1\n" +
		"#3,,,1,Mug,5,00,M1\n" + // #3's row, a field too many
		"#2,bob@x.com,2024-03-02 11:00:00 +0000,1,Hat,7.00,H1\n" +
		"#3,cy@x.com,2024-03-03 11:00:00 +0000,1,Cap,3.00,C1\n"
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "shopify", Lenient: true})
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	_, ok := h.LookupOrder("#3")
	assert.False(t, ok, "order #3 was put without the line of its malformed row")
	assert.Equal(t, 2, h.NumOrders())
	assert.Equal(t, []dataset.Skip{{Reason: "wrong field count", Count: 1, FirstLine: 3}, {Reason: "split order", Count: 1, FirstLine: 5}}, rep.Skipped)
}
