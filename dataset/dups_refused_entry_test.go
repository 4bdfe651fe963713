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

// TestDuplicateOfARefusedEntry: a row skipped because its product's
// catalog entry is refused ("invalid category") is no duplicate, nor is
// the row that repeats it: both are counted under that reason only, with
// or without DropDuplicates, in the order formats as in "csv". In the
// order formats the order's good row is skipped too, as "incomplete
// order": a put holds the whole order.
func TestDuplicateOfARefusedEntry(t *testing.T) {
	tooMany := strings.Repeat("a|", 70)
	cats := func(name string) string {
		if name == "Bad" {
			return tooMany
		}
		return ""
	}
	incomplete := dataset.Skip{Reason: "incomplete order", Count: 1, FirstLine: 2}
	cases := []struct {
		format, data string
		loaded       int
		skipped      []dataset.Skip
	}{
		{"shopify", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n" +
			"#1,a@x,2024-03-01 10:00:00 +0000,1,Mug,1.00,M\n" +
			"#1,,,1,Bad,1.00,B\n" +
			"#1,,,1,Bad,1.00,B\n", 0, []dataset.Skip{incomplete, {Reason: "invalid category", Count: 2, FirstLine: 3}}},
		{"woocommerce", "order_id,order_date,customer_id,item_name,item_sku,item_quantity,item_total\n" +
			"1,2024-05-01 10:00:00,7,Mug,M,1,1.00\n" +
			"1,2024-05-01 10:00:00,7,Bad,B,1,1.00\n" +
			"1,2024-05-01 10:00:00,7,Bad,B,1,1.00\n", 0, []dataset.Skip{incomplete, {Reason: "invalid category", Count: 2, FirstLine: 3}}},
		{"csv", "customer,product,order,time,name\n" +
			"c,M,o,2024-01-01,Mug\n" +
			"c,B,o,2024-01-01,Bad\n" +
			"c,B,o,2024-01-01,Bad\n", 1, []dataset.Skip{{Reason: "invalid category", Count: 2, FirstLine: 3}}},
	}
	for _, c := range cases {
		for _, drop := range []bool{false, true} {
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(c.data), &b,
				dataset.Options{Format: c.format, Lenient: true, Categories: cats, DropDuplicates: drop})
			require.NoError(t, err, c.format)
			assert.Zero(t, rep.Duplicates, "%s drop=%v: %v", c.format, drop, rep)
			assert.Equal(t, c.loaded, rep.Loaded, "%s drop=%v", c.format, drop)
			assert.Equal(t, c.skipped, rep.Skipped, "%s drop=%v", c.format, drop)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		}
	}
}
