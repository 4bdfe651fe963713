package dataset_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestSkippedRowKeepsOrder: a newer export whose row for one line of an
// order is bad (or malformed) puts nothing of that order in a lenient
// load: a put replaces the whole order, and would drop the line the
// History holds. The order's good rows count as "incomplete order" at the
// first of them; the History keeps the order as the older export loaded
// it, and the other orders of the export load.
func TestSkippedRowKeepsOrder(t *testing.T) {
	const (
		shopHead = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
		shop1    = "#1,amy@x.com,2024-03-01 11:00:00 +0000,1,Shirt,10.00,S1\n"
		shop2    = "#1,,,1,Mug,5.00,M1\n"
		shopNext = "#2,bob@x.com,2024-03-02 11:00:00 +0000,1,Hat,7.00,H1\n"
		wooHead  = "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total\n"
		woo1     = "1,2024-03-01 10:00:00,completed,7,Shirt,S1,1,10.00\n"
		woo2     = "1,2024-03-01 10:00:00,completed,7,Mug,M1,1,5.00\n"
		wooNext  = "2,2024-03-02 10:00:00,completed,8,Hat,H1,1,7.00\n"
	)
	cases := []struct {
		name, format, good, bad, reason string
		firstOK                         int // line of the order's first good row
	}{
		{"shopify bad quantity", "shopify", shopHead + shop1 + shop2 + shopNext,
			shopHead + shop1 + strings.Replace(shop2, ",1,Mug", ",one,Mug", 1) + shopNext, "invalid quantity", 2},
		{"shopify bad price", "shopify", shopHead + shop1 + shop2 + shopNext,
			shopHead + shop1 + strings.Replace(shop2, "5.00", "5.0.0", 1) + shopNext, "invalid price", 2},
		{"shopify malformed row", "shopify", shopHead + shop1 + shop2 + shopNext,
			shopHead + shop1 + strings.Replace(shop2, "5.00", "5,00", 1) + shopNext, "wrong field count", 2},
		{"shopify no product", "shopify", shopHead + shop1 + shop2 + shopNext,
			shopHead + shop1 + "#1,,,1,,5.00,\n" + shopNext, "missing product", 2},
		{"woocommerce bad quantity", "woocommerce", wooHead + woo1 + woo2 + wooNext,
			wooHead + woo1 + strings.Replace(woo2, ",1,5.00", ",one,5.00", 1) + wooNext, "invalid quantity", 2},
		{"woocommerce negative total", "woocommerce", wooHead + woo1 + woo2 + wooNext,
			wooHead + woo1 + strings.Replace(woo2, "5.00", "-5.00", 1) + wooNext, "negative price", 2},
		{"woocommerce malformed row", "woocommerce", wooHead + woo1 + woo2 + wooNext,
			wooHead + woo1 + strings.Replace(woo2, ",Mug,", ",Mug,x,", 1) + wooNext, "wrong field count", 2},
		{"woocommerce malformed first row", "woocommerce", wooHead + woo1 + woo2 + wooNext,
			wooHead + strings.Replace(woo1, ",Shirt,", ",Shirt,x,", 1) + woo2 + wooNext, "wrong field count", 3},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b affinity.Builder
			_, err := dataset.Load(ctx, strings.NewReader(c.good), &b, dataset.Options{Format: c.format})
			require.NoError(t, err)
			h1, err := b.Build(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, h1.NumLines())

			b2 := affinity.NewBuilder(h1)
			rep, err := dataset.Load(ctx, strings.NewReader(c.bad), b2, dataset.Options{Format: c.format, Lenient: true})
			require.NoError(t, err)
			h2, err := b2.Build(ctx)
			require.NoError(t, err)
			assert.Equal(t, opnDump(h1), opnDump(h2), "the order keeps its lines")
			assert.Equal(t, 1, rep.Loaded, "the other order loads: %v", rep.Skipped)
			assert.Contains(t, rep.Skipped, dataset.Skip{Reason: "incomplete order", Count: 1, FirstLine: c.firstOK})
			assert.True(t, slices.ContainsFunc(rep.Skipped, func(s dataset.Skip) bool { return s.Reason == c.reason }), "%v", rep.Skipped)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())

			_, err = dataset.Load(ctx, strings.NewReader(c.bad), affinity.NewBuilder(h1), dataset.Options{Format: c.format})
			require.Error(t, err, "strict mode stops at the bad row")
		})
	}
}
