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

// TestShopifyLineValueRange: a Shopify line whose quantity × Lineitem
// price is beyond Money's range is the error of its own row, at the
// price's column, with or without a discount column and whatever its
// discount; in lenient mode that row is skipped as "amount out of range"
// and the order's other rows as "incomplete order".
func TestShopifyLineValueRange(t *testing.T) {
	const huge = "2000000000,Shoe,900000000000.00,S1"
	cases := []struct{ name, head, first, bad string }{
		{"no discount column", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n",
			"#1,a@x.com,2024-03-01 10:00:00 +0000,1,Cap,7.00,C1\n", "#1,,," + huge + "\n"},
		{"zero discount", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount\n",
			"#1,a@x.com,2024-03-01 10:00:00 +0000,1,Cap,7.00,C1,0.00\n", "#1,,," + huge + ",0.00\n"},
		{"discount", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount\n",
			"#1,a@x.com,2024-03-01 10:00:00 +0000,1,Cap,7.00,C1,0.00\n", "#1,,," + huge + ",1.00\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.head + c.first + c.bad + "#2,b@x.com,2024-03-02 10:00:00 +0000,1,Cap,7.00,C1" +
				strings.Repeat(",0.00", strings.Count(c.head, ",")-6) + "\n"
			var b affinity.Builder
			_, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "shopify"})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "amount out of range", pe.Reason, "%v", err)
			assert.Equal(t, 3, pe.Line, "%v", err)
			assert.Equal(t, 6, pe.Column, "%v", err)
			assert.ErrorIs(t, err, affinity.ErrMoneyRange)

			var lb affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(data), &lb, dataset.Options{Format: "shopify", Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, []dataset.Skip{
				{Reason: "incomplete order", Count: 1, FirstLine: 2},
				{Reason: "amount out of range", Count: 1, FirstLine: 3},
			}, rep.Skipped)
			assert.Equal(t, 1, rep.Loaded)
			assert.Equal(t, 1, rep.Purchases)
		})
	}
}
