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

// TestDuplicatesNotCountedWhenSkipped: Report.Duplicates counts the
// repeated rows that load, as its doc says; a repeated row skipped for
// another reason (its order's value out of range) is counted under that
// reason only. Both were counted.
func TestDuplicatesNotCountedWhenSkipped(t *testing.T) {
	shHead := "Name,Email,Financial Status,Created at,Cancelled at,Refunded Amount,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
	csvHead := "customer,product,order,time,quantity,price\n"
	for _, tc := range []struct {
		name, format, in string
		dups, loaded     int
	}{
		{"shopify, order out of range", "shopify", shHead +
			"#1,ann@x.com,paid,2024-03-01 10:15:00 -0700,,,2000000000,Shirt,400000,SKU1\n" +
			"#1,,,,,,2000000000,Hat,400000,\n#1,,,,,,2000000000,Hat,400000,\n", 0, 0},
		{"shopify, loaded", "shopify", shHead +
			"#1,ann@x.com,paid,2024-03-01 10:15:00 -0700,,,2,Shirt,4,SKU1\n" +
			"#1,,,,,,1,Hat,4,\n#1,,,,,,1,Hat,4,\n", 1, 3},
		{"csv, order out of range", "csv", csvHead +
			"c1,p1,o1,2024-01-02,2000000000,400000\nc1,p2,o1,2024-01-02,2000000000,400000\nc1,p2,o1,2024-01-02,2000000000,400000\n", 0, 1},
		{"csv, loaded", "csv", csvHead +
			"c1,p1,o1,2024-01-02,2,4\nc1,p2,o1,2024-01-02,1,4\nc1,p2,o1,2024-01-02,1,4\n", 1, 3},
	} {
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), strings.NewReader(tc.in), &b, dataset.Options{Format: tc.format, Lenient: true})
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.dups, rep.Duplicates, "%s: %+v", tc.name, rep)
		assert.Equal(t, tc.loaded, rep.Loaded, tc.name)
		assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), tc.name)
		if tc.dups > 0 {
			assert.Equal(t, 4, rep.FirstDuplicate, tc.name)
		}
	}
}
