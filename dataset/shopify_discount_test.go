package dataset_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

const shopifyDiscountHead = "Name,Email,Created at,Refunded Amount,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount\n"

// TestShopifyLineDiscount: a line's Lineitem discount comes off its
// value, spread exactly over its units (two lines of the order when the
// net unit price does not divide), as WooCommerce's item_total is net of
// discounts; lines without a discount load as before, and a refund is
// capped at the net value.
func TestShopifyLineDiscount(t *testing.T) {
	data := shopifyDiscountHead +
		"#1,a@x.com,2024-03-01 10:00:00 +0000,,1,Shoe,100.00,S1,20.00\n" +
		"#1,,,,3,Sock,10.00,K1,5.00\n" +
		"#1,,,,2,Cap,7.00,C1,\n" +
		"#1,,,,1,Pin,3.00,P1,9.00\n" + // beyond the line's value: free
		"#2,b@x.com,2024-03-02 10:00:00 +0000,50.00,2,Sock,10.00,K1,4.00\n"
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	var got []string
	for p := range h.Purchases() {
		got = append(got, fmt.Sprint(p.Order, " ", p.Product, " ", p.Quantity, " ", p.Price))
	}
	assert.Equal(t, []string{
		"#1 S1 1 80.00",
		"#1 K1 2 8.3333", "#1 K1 1 8.3334",
		"#1 C1 2 7.00",
		"#1 P1 1 0.00",
		"#2 K1 2 8.00",
		"#2 refund -1 16.00",
	}, got)
	assert.Equal(t, 5, rep.Loaded)
	assert.Equal(t, 7, rep.Purchases)
	want, err := affinity.ParseMoney("119.00", '.')
	require.NoError(t, err)
	assert.Equal(t, want, h.Summary().Revenue, "80 + 25 + 14 + 0, and 16 − 16")

	// The catalog keeps the list price.
	sock, ok := h.Catalog().LookupProduct("K1")
	require.True(t, ok)
	assert.Equal(t, "10.00", h.Catalog().ProductPrice(sock).String())
}

// TestShopifyLineDiscountErrors: a discount that is not an amount, or is
// negative, is the row's error, and a line whose value is beyond Money
// cannot take a discount.
func TestShopifyLineDiscountErrors(t *testing.T) {
	cases := []struct {
		row, reason string
		column      int
	}{
		{"#1,a@x.com,2024-03-01 10:00:00 +0000,,1,Shoe,100.00,S1,x\n", "invalid price", 9},
		{"#1,a@x.com,2024-03-01 10:00:00 +0000,,1,Shoe,100.00,S1,-1.00\n", "negative price", 9},
		{"#1,a@x.com,2024-03-01 10:00:00 +0000,,2000000000,Shoe,900000000000.00,S1,1.00\n", "amount out of range", 7},
	}
	for _, c := range cases {
		var b affinity.Builder
		_, err := dataset.Load(context.Background(), strings.NewReader(shopifyDiscountHead+c.row), &b, dataset.Options{Format: "shopify"})
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe, c.row)
		assert.Equal(t, c.reason, pe.Reason, c.row)
		assert.Equal(t, 2, pe.Line, c.row)
		assert.Equal(t, c.column, pe.Column, c.row)
	}
}
