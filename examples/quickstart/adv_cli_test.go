package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// Adversarial tests of the quickstart's command-line contract (README.md,
// "Runnable examples"; the shared part in [testdata.CLI]; parse errors
// name the line and the column). The flags are parsed in main, so these
// tests drive run with the source main builds,
// shop.FileOrDemo(data, format).

// advCLIRun runs the program as main does on -data path -format format,
// turning a panic into an error that says so.
func advCLIRun(path, format string) (string, error) {
	return testdata.Capture(func(w io.Writer) error {
		return run(context.Background(), w, shop.FileOrDemo(path, format), nil)
	})
}

func TestAdvCLIContract(t *testing.T) {
	testdata.CLI{
		Run: func(args ...string) (string, error) {
			return advCLIRun(testdata.DataFormat(args))
		},
		NoFlags: true,
	}.Check(t)
}

func TestAdvCLIGzipErrorMessage(t *testing.T) {
	_, err := advCLIRun(testdata.WriteFile(t, "orders.csv.gz", []byte("\x1f\x8bnot really gzip at all")), "onlineretail")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gzip")
	assert.NotContains(t, err.Error(), "gzip: gzip:")
}

// TestAdvCLIOneRow: the smallest file loads, and the report and the
// summary come first.
func TestAdvCLIOneRow(t *testing.T) {
	for _, rows := range []string{
		testdata.RetailRow,
		strings.TrimSuffix(testdata.RetailRow, "\n"), // no final newline
	} {
		out, err := advCLIRun(testdata.WriteFile(t, "one.csv", []byte(testdata.RetailHeader+rows)), "onlineretail")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(out, "# The shop\nformat     onlineretail\nrows       1\nloaded     1\n"), out)
		assert.Contains(t, out, "customers          1\n")
		assert.Contains(t, out, "orders             1\n")
		assert.Contains(t, out, "revenue            15.30\n")
		assert.Contains(t, out, "first order        2010-12-01 08:26:00\n")
	}
}

// TestAdvCLIGzipSameAsPlain: gzip is recognised by content, whatever the
// name, and the output is the plain file's.
func TestAdvCLIGzipSameAsPlain(t *testing.T) {
	plain, err := advCLIRun(testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)), "onlineretail")
	require.NoError(t, err)
	gz := testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows)
	for _, name := range []string{"orders.csv.gz", "orders.csv"} {
		got, err := advCLIRun(testdata.WriteFile(t, name, gz), "onlineretail")
		require.NoError(t, err)
		assert.Equal(t, plain, got, name)
	}
	assert.Contains(t, plain, "# Thank-you mail for 17850")
}

// TestAdvCLIDefaultFormat: the quickstart's -format defaults to csv, and
// an empty format is csv too (dataset.Defaults).
func TestAdvCLIDefaultFormat(t *testing.T) {
	path := testdata.WriteFile(t, "shop.csv", []byte("order_id,customer_id,sku,qty,unit_price,date\n"+
		"1001,alice,tea-01,2,4.50,2024-03-01T09:15:00Z\n"+
		"1001,alice,mug-07,1,12.00,2024-03-01T09:15:00Z\n"+
		"1002,bob,tea-01,1,4.50,2024-03-02T18:40:00Z\n"))
	csv, err := advCLIRun(path, "csv")
	require.NoError(t, err)
	empty, err := advCLIRun(path, "")
	require.NoError(t, err)
	assert.Equal(t, csv, empty)
	assert.Contains(t, csv, "format     csv\n")
	assert.Contains(t, csv, "orders             2\n")
}

// TestAdvCLILastOrderNotAReturn: the thank-you mail went to the customer
// of the latest order of two lines, also when that order was returns
// only, and then listed no product after "last order:".
func TestAdvCLILastOrderNotAReturn(t *testing.T) {
	data := "customer,order,product,time,quantity,price\n" +
		"a,a1,p1,2024-01-01,1,5\na,a2,p2,2024-02-01,1,5\na,a3,p1,2024-03-01,1,5\na,a3,p2,2024-03-01,1,5\n" +
		"b,b1,p1,2024-01-02,1,5\nb,b2,p3,2024-02-02,1,5\nb,b3,p1,2024-03-02,1,5\nb,b3,p3,2024-03-02,1,5\n" +
		"b,b4,p1,2024-04-02,-1,5\nb,b4,p3,2024-04-02,-1,5\n" // b's latest order: two returns
	out, err := advCLIRun(testdata.WriteFile(t, "orders.csv", []byte(data)), "csv")
	require.NoError(t, err)
	assert.Contains(t, out, "# Thank-you mail for a (last order: p1, p2)")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "quickstart", main) }
