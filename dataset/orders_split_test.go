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

// TestSplitOrderTakesBackItsFirstRows: when an order's rows are not
// adjacent (#1, #2, #1), a lenient load skips the later rows of #1 as
// "split order" and takes back the put of its first rows, which would
// replace the whole order without the skipped rows' lines. On a History
// that holds #1 it keeps #1 as it was (a Shopify refund line included);
// on a fresh Builder #1 is not loaded at all; in a Builder where an
// earlier load staged #1, that load's version stands. The first rows
// count as "incomplete order", so Rows = Loaded + skipped rows. A
// malformed row with #1's id after #2 does the same; strict mode stops.
func TestSplitOrderTakesBackItsFirstRows(t *testing.T) {
	const (
		shopHead  = "Name,Email,Created at,Refunded Amount,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
		shop1     = "#1,amy@x.com,2024-03-01 11:00:00 +0000,2.00,1,Shirt,10.00,S1\n"
		shop2     = "#1,,,,1,Mug,5.00,M1\n"
		shopNext  = "#2,bob@x.com,2024-03-02 11:00:00 +0000,,1,Hat,7.00,H1\n"
		shopBad   = "#1,,,,1,Mug,5,00,M1\n" // a field too many
		wooHead   = "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total\n"
		woo1      = "1,2024-03-01 10:00:00,completed,7,Shirt,S1,1,10.00\n"
		woo2      = "1,2024-03-01 10:00:00,completed,7,Mug,M1,1,5.00\n"
		wooNext   = "2,2024-03-02 10:00:00,completed,8,Hat,H1,1,7.00\n"
		wooBad    = "1,,2024-03-01 10:00:00,completed,7,Mug,M1,1,5.00\n" // a stray empty field: surely #1's
		wooChange = "1,2024-03-01 10:00:00,completed,7,Cap,C1,1,3.00\n"
	)
	cases := []struct {
		name, format     string
		head, a, b, next string
		bad, change      string // a malformed row of the order; another line
		lines            int    // of the export loaded whole
	}{
		{"shopify", "shopify", shopHead, shop1, shop2, shopNext, shopBad, strings.Replace(shop2, "Mug,5.00,M1", "Cap,3.00,C1", 1), 4},
		{"woocommerce", "woocommerce", wooHead, woo1, woo2, wooNext, wooBad, wooChange, 3},
	}
	ctx := context.Background()
	purchases := func(h *affinity.History) string {
		var s strings.Builder
		for p := range h.Purchases() {
			fmt.Fprintf(&s, "%s|%s|%s|%d|%d|%v\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
		}
		return s.String()
	}
	load := func(t *testing.T, b *affinity.Builder, format, data string, lenient bool) dataset.Report {
		t.Helper()
		rep, err := dataset.Load(ctx, strings.NewReader(data), b, dataset.Options{Format: format, Lenient: lenient})
		require.NoError(t, err)
		require.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "%v", rep.Skipped)
		return rep
	}
	build := func(t *testing.T, b *affinity.Builder) *affinity.History {
		t.Helper()
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	for _, c := range cases {
		whole := c.head + c.a + c.b + c.next
		split := c.head + c.a + c.next + c.b
		var b affinity.Builder
		load(t, &b, c.format, whole, false)
		h1 := build(t, &b)
		require.Equal(t, c.lines, h1.NumLines())
		var b0 affinity.Builder
		load(t, &b0, c.format, c.head+c.next, false)
		only2 := purchases(build(t, &b0))

		t.Run(c.name+" older history", func(t *testing.T) {
			b2 := affinity.NewBuilder(h1)
			rep := load(t, b2, c.format, split, true)
			assert.Equal(t, purchases(h1), purchases(build(t, b2)), "order #1 keeps every line")
			assert.Equal(t, 1, rep.Loaded)
			assert.Equal(t, 1, rep.Purchases)
			assert.Equal(t, 0, rep.Returns)
			assert.Equal(t, []dataset.Skip{{Reason: "incomplete order", Count: 1, FirstLine: 2}, {Reason: "split order", Count: 1, FirstLine: 4}}, rep.Skipped)
		})
		t.Run(c.name+" fresh builder", func(t *testing.T) {
			var b2 affinity.Builder
			rep := load(t, &b2, c.format, split+c.b, true)
			h := build(t, &b2)
			assert.Equal(t, only2, purchases(h), "order #1 is not loaded")
			assert.Equal(t, 1, rep.Loaded)
			assert.Equal(t, []dataset.Skip{{Reason: "incomplete order", Count: 1, FirstLine: 2}, {Reason: "split order", Count: 2, FirstLine: 4}}, rep.Skipped)
		})
		t.Run(c.name+" earlier load in the builder", func(t *testing.T) {
			var b2 affinity.Builder
			load(t, &b2, c.format, whole, false)
			load(t, &b2, c.format, c.head+c.a+c.change+c.next+c.b, true)
			assert.Equal(t, purchases(h1), purchases(build(t, &b2)), "the earlier load's #1 stands")
		})
		t.Run(c.name+" malformed row", func(t *testing.T) {
			b2 := affinity.NewBuilder(h1)
			rep := load(t, b2, c.format, c.head+c.a+c.next+c.bad, true)
			assert.Equal(t, purchases(h1), purchases(build(t, b2)), "order #1 keeps every line")
			assert.Equal(t, []dataset.Skip{{Reason: "incomplete order", Count: 1, FirstLine: 2}, {Reason: "wrong field count", Count: 1, FirstLine: 4}}, rep.Skipped)
		})
		t.Run(c.name+" strict", func(t *testing.T) {
			_, err := dataset.Load(ctx, strings.NewReader(split), affinity.NewBuilder(h1), dataset.Options{Format: c.format})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "split order", pe.Reason)
			assert.Equal(t, 4, pe.Line)
		})
	}
}
