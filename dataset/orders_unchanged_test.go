package dataset_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestUnchangedExportBuildsNothing: loading an order export again onto
// the History it built puts nothing (every order is held as it is,
// refund and split lines included), so Build returns that History; the
// rows still count as loaded, cancelled orders included. A changed
// export still changes the History, in that order alone.
func TestUnchangedExportBuildsNothing(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ format, file, from, to string }{
		{"shopify", "testdata/shopify_orders.csv", ",2,Water Bottle 750ml,25.00", ",3,Water Bottle 750ml,25.00"},
		{"woocommerce", "testdata/woocommerce_orders.csv", ",Kaffeebecher,MUG-1,2,", ",Kaffeebecher,MUG-1,4,"},
	} {
		t.Run(c.format, func(t *testing.T) {
			raw, err := os.ReadFile(c.file)
			require.NoError(t, err)
			data := string(raw)
			changed := strings.Replace(data, c.from, c.to, 1)
			require.NotEqual(t, data, changed)
			opts, err := dataset.Defaults(c.format)
			require.NoError(t, err)
			load := func(base *affinity.History, in string) (*affinity.History, dataset.Report) {
				b := affinity.NewBuilder(base)
				rep, err := dataset.Load(ctx, strings.NewReader(in), b, opts)
				require.NoError(t, err)
				h, err := b.Build(ctx)
				require.NoError(t, err)
				return h, rep
			}
			h1, rep1 := load(nil, data)
			require.Positive(t, h1.NumOrders())

			h2, rep2 := load(h1, data)
			assert.True(t, h1 == h2, "the same export built a new History")
			assert.Equal(t, rep1.Loaded, rep2.Loaded)
			assert.Equal(t, rep1.Purchases, rep2.Purchases)
			assert.Equal(t, rep1.Skipped, rep2.Skipped)

			h3, _ := load(h1, changed)
			require.False(t, h1 == h3, "the changed export changed nothing")
			want, _ := load(nil, changed)
			assert.Equal(t, purchasesText(want), purchasesText(h3), "the products keep the entries h1 gave them")

			// Into one Builder, a second load of the same export changes
			// nothing either.
			var b affinity.Builder
			for range 2 {
				_, err := dataset.Load(ctx, strings.NewReader(data), &b, opts)
				require.NoError(t, err)
			}
			h4, err := b.Build(ctx)
			require.NoError(t, err)
			assert.Equal(t, opnDump(h1), opnDump(h4))
		})
	}
}

// purchasesText lists the purchase lines of h, one a line.
func purchasesText(h *affinity.History) string {
	var b strings.Builder
	for p := range h.Purchases() {
		fmt.Fprintf(&b, "%s|%s|%s|%d|%d|%v\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
	}
	return b.String()
}
