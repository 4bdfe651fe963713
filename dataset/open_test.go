package dataset_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	for _, f := range dataset.Formats() {
		t.Run(f, func(t *testing.T) {
			o, err := dataset.Defaults(f)
			require.NoError(t, err)
			assert.Equal(t, f, o.Format)
			assert.True(t, o.Lenient, "user files are read leniently, with a report")
			named := f == "onlineretail" || f == "baskets" || f == "members" || f == "csv" || f == "shopify" || f == "woocommerce"
			assert.Equal(t, named, o.Categories != nil, "categories derived exactly where the format has names but no categories")
		})
	}
	o, err := dataset.Defaults("")
	require.NoError(t, err)
	assert.Equal(t, "csv", o.Format)
	_, err = dataset.Defaults("parquet")
	require.ErrorContains(t, err, "unknown format \"parquet\"")
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	h, rep, err := dataset.Open(ctx, filepath.Join("testdata", "members.csv"), "members")
	require.NoError(t, err)
	assert.Equal(t, "members", rep.Format)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	assert.Positive(t, h.NumLines())
	assert.Positive(t, h.Catalog().NumCategories(), "categories derived from the item names")

	_, _, err = dataset.Open(ctx, filepath.Join("testdata", "members.csv"), "nope")
	require.Error(t, err)
	_, _, err = dataset.Open(ctx, filepath.Join("testdata", "missing.csv"), "csv")
	require.Error(t, err)
}

// Open a user's file with the format's defaults: lenient, with categories
// derived from product names where the format has none.
func ExampleOpen() {
	h, report, err := dataset.Open(context.Background(), "testdata/baskets.csv", "baskets")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Rows == report.Loaded+report.SkippedRows())
	fmt.Println(h.NumOrders() > 0)
	// Output:
	// true
	// true
}
