package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/shop"
)

// Adversarial tests of the quickstart's command-line contract (README.md,
// "Runnable examples"): with -data FILE -format NAME it reads the file,
// prints the load report and History.Summary() first, and a failed load
// is an error (exit 1) naming the file, with line and column for parse
// errors, never a panic and never a success-looking report. The flags
// are parsed in main, so these tests drive run with the source main
// builds, shop.FileOrDemo(data, format).

const (
	advCLIHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
	advCLIRows   = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
		"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n" +
		"536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom\n" +
		"536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047,United Kingdom\n" +
		"536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-02 09:00:00,2.55,13047,United Kingdom\n" +
		"536368,71053,WHITE METAL LANTERN,1,2010-12-02 09:00:00,3.39,13047,United Kingdom\n" +
		"536369,22633,HAND WARMER UNION JACK,3,2010-12-03 10:00:00,1.85,17850,United Kingdom\n" +
		"536369,84879,ASSORTED COLOUR BIRD ORNAMENT,3,2010-12-03 10:00:00,1.69,17850,United Kingdom\n"
)

func advCLIWrite(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func advCLIGzip(t *testing.T, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// advCLIRun runs the program as main does on -data path -format format,
// turning a panic into an error that says so.
func advCLIRun(path, format string) (out string, err error) {
	var w bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
		out = w.String()
	}()
	return "", run(context.Background(), &w, shop.FileOrDemo(path, format), nil)
}

// TestAdvCLIBadFiles: every file that cannot be loaded is an error, not a
// panic, and nothing that looks like a report is printed.
func TestAdvCLIBadFiles(t *testing.T) {
	gz := advCLIGzip(t, advCLIHeader+advCLIRows)
	for _, c := range []struct {
		name, format string
		data         []byte // nil: no file
		dir          bool
		parse        bool // a parse error: names a line
	}{
		{name: "missing", format: "onlineretail"},
		{name: "directory", format: "onlineretail", dir: true},
		{name: "empty", format: "onlineretail", data: []byte{}},
		{name: "unknown format", format: "excel", data: []byte(advCLIHeader + advCLIRows)},
		{name: "corrupt gzip", format: "onlineretail", data: []byte("\x1f\x8bnot really gzip at all"), parse: true},
		{name: "truncated gzip", format: "onlineretail", data: gz[:len(gz)/2]},
		{name: "baskets as onlineretail", format: "onlineretail", data: []byte("milk,bread\nbeer\n"), parse: true},
		{name: "binary", format: "onlineretail", data: []byte("\x00\x01\x02\xff\xfe\n\x00"), parse: true},
		{name: "onlineretail as csv", format: "csv", data: []byte(advCLIHeader + advCLIRows), parse: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "orders.csv")
			switch {
			case c.dir:
				path = t.TempDir()
			case c.data != nil:
				path = advCLIWrite(t, "orders.csv", c.data)
			}
			out, err := advCLIRun(path, c.format)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Empty(t, out, "no report for a failed load")
			if c.parse {
				assert.Contains(t, err.Error(), "line ", "a parse error names its line")
			}
		})
	}
}

func TestAdvCLILoadErrorNamesFile(t *testing.T) {
	gz := advCLIGzip(t, advCLIHeader+advCLIRows)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"corrupt gzip", []byte("\x1f\x8bnot really gzip at all")},
		{"truncated gzip", gz[:len(gz)/2]},
		{"missing columns", []byte("milk,bread\nbeer\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := advCLIWrite(t, "my-orders-file.csv", c.data)
			_, err := advCLIRun(path, "onlineretail")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "my-orders-file.csv", "the error names the file the user gave")
		})
	}
}

func TestAdvCLIGzipErrorMessage(t *testing.T) {
	_, err := advCLIRun(advCLIWrite(t, "orders.csv.gz", []byte("\x1f\x8bnot really gzip at all")), "onlineretail")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gzip")
	assert.NotContains(t, err.Error(), "gzip: gzip:")
}

func TestAdvCLINothingLoaded(t *testing.T) {
	for _, c := range []struct{ name, format, data string }{
		{"header only", "onlineretail", advCLIHeader},
		{"onlineretail as cdnow", "cdnow", advCLIHeader + advCLIRows},
		{"onlineretail as movielens", "movielens", advCLIHeader + advCLIRows},
		{"every row bad", "onlineretail", advCLIHeader + "536365,85123A,X,six,2010-12-01 08:26:00,2.55,17850,UK\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := advCLIRun(advCLIWrite(t, "orders.csv", []byte(c.data)), c.format)
			assert.NotContains(t, fmt.Sprint(err), "PANIC")
			assert.Error(t, err, "no order loaded: not a successful run\n%s", out)
		})
	}
}

// TestAdvCLIOneRow: the smallest file loads, and the report and the
// summary come first.
func TestAdvCLIOneRow(t *testing.T) {
	for _, rows := range []string{
		advCLIRows[:strings.IndexByte(advCLIRows, '\n')+1],
		strings.TrimSuffix(advCLIRows[:strings.IndexByte(advCLIRows, '\n')+1], "\n"), // no final newline
	} {
		out, err := advCLIRun(advCLIWrite(t, "one.csv", []byte(advCLIHeader+rows)), "onlineretail")
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
	plain, err := advCLIRun(advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows)), "onlineretail")
	require.NoError(t, err)
	gz := advCLIGzip(t, advCLIHeader+advCLIRows)
	for _, name := range []string{"orders.csv.gz", "orders.csv"} {
		got, err := advCLIRun(advCLIWrite(t, name, gz), "onlineretail")
		require.NoError(t, err)
		assert.Equal(t, plain, got, name)
	}
	assert.Contains(t, plain, "# Thank-you mail for 17850")
}

// TestAdvCLIDefaultFormat: the quickstart's -format defaults to csv, and
// an empty format is csv too (dataset.Defaults).
func TestAdvCLIDefaultFormat(t *testing.T) {
	path := advCLIWrite(t, "shop.csv", []byte("order_id,customer_id,sku,qty,unit_price,date\n"+
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
