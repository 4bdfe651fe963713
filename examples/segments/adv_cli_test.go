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
)

// Adversarial tests of the segments program's command-line contract (README.md,
// "Runnable examples"): with -data FILE -format NAME it reads the file and
// prints the load report and History.Summary() first; a failed load or a
// bad flag is an error (exit 1) naming the file, with the line for parse
// errors, never a panic and never a success-looking report.

const (
	advCLIHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
	advCLIRows   = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
		"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n" +
		"536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom\n" +
		"536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047,United Kingdom\n" +
		"536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-20 09:00:00,2.55,13047,United Kingdom\n" +
		"536368,71053,WHITE METAL LANTERN,1,2010-12-20 09:00:00,3.39,13047,United Kingdom\n" +
		"536369,22633,HAND WARMER UNION JACK,3,2011-01-03 10:00:00,1.85,17850,United Kingdom\n" +
		"536369,84879,ASSORTED COLOUR BIRD ORNAMENT,3,2011-01-03 10:00:00,1.69,17850,United Kingdom\n"
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

// advCLIRun runs the program on args, turning a panic into an error that
// says so.
func advCLIRun(args ...string) (out string, err error) {
	var w bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
		out = w.String()
	}()
	return "", advCLICall(&w, args)
}

// advCLIReport is the start of the printed load report.
const advCLIReport = "format     "

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
		{name: "cdnow as onlineretail", format: "onlineretail", data: []byte(" 00004 0001 19970101  2   29.33\n"), parse: true},
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
			out, err := advCLIRun("-data", path, "-format", c.format)
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
			_, err := advCLIRun("-data", path, "-format", "onlineretail")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "my-orders-file.csv", "the error names the file the user gave")
		})
	}
}

// TestAdvCLIBadFlags: unknown flags, flags without their value and bad
// values are errors; the load report is not printed.
func TestAdvCLIBadFlags(t *testing.T) {
	path := advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows))
	cases := [][]string{
		{"-data", path, "-format", "onlineretail", "-bogus"},
		{"-data", path, "-format", "onlineretail", "--bogus=1"},
		{"-data", path, "-format"},
		{"-format", "onlineretail", "-data"},
	}
	cases = append(cases, advCLIBadFlagValues(path)...)
	for _, args := range cases {
		t.Run(strings.Join(args[2:], " "), func(t *testing.T) {
			out, err := advCLIRun(args...)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.NotContains(t, out, advCLIReport, "no report after a bad flag")
		})
	}
}

// TestAdvCLIStrayArgument: a positional argument (say, the format given
// without its -format) is an error, not silently ignored.
func TestAdvCLIStrayArgument(t *testing.T) {
	args := advCLIValidArgs(t)
	out, err := advCLIRun(args...)
	require.NoError(t, err, "the run without the stray argument succeeds")
	require.Contains(t, out, advCLIReport)
	for _, stray := range []string{"onlineretail", "extra"} {
		out, err := advCLIRun(append(args, stray)...)
		assert.Error(t, err, "the stray argument %q is ignored:\n%s", stray, out)
	}
}

func advCLIValidArgs(t *testing.T) []string {
	return []string{"-data", advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows)), "-format", "onlineretail"}
}

func advCLICall(w *bytes.Buffer, args []string) error { return run(context.Background(), w, args) }

func advCLIBadFlagValues(path string) [][]string {
	return [][]string{
		{"-data", path, "-format", "onlineretail", "-asof", "2011-02-30"},
		{"-data", path, "-format", "onlineretail", "-asof", "2011-12-10T00:00:00Z"},
		{"-data", path, "-format", "onlineretail", "-asof", "10/12/2011"},
		{"-data", path, "-format", "onlineretail", "-lookback", "-1"},
		{"-data", path, "-format", "onlineretail", "-lookback", "twelve"},
		{"-data", path, "-format", "onlineretail", "-categories", "1.5"},
	}
}

func TestAdvCLINothingLoaded(t *testing.T) {
	for _, c := range []struct{ name, format, data, reason string }{
		{"header only", "onlineretail", advCLIHeader, "no rows after its header"},
		{"onlineretail as cdnow", "cdnow", advCLIHeader + advCLIRows, "wrong field count"},
		{"every row bad", "onlineretail", advCLIHeader + "536365,85123A,X,six,2010-12-01 08:26:00,2.55,17850,UK\n", "invalid quantity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := advCLIRun("-data", advCLIWrite(t, "orders.csv", []byte(c.data)), "-format", c.format)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Contains(t, out+err.Error(), c.reason, "what was skipped: in the report or the error")
		})
	}
}

// TestAdvCLIOneRow: the smallest file loads, the report and the summary
// come first, and its one customer is segmented.
func TestAdvCLIOneRow(t *testing.T) {
	row := advCLIRows[:strings.IndexByte(advCLIRows, '\n')+1]
	for _, data := range []string{advCLIHeader + row, advCLIHeader + strings.TrimSuffix(row, "\n")} {
		out, err := advCLIRun("-data", advCLIWrite(t, "one.csv", []byte(data)), "-format", "onlineretail")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(out, "format     onlineretail\nrows       1\nloaded     1\n"), out)
		assert.Contains(t, out, "customers          1\n")
		assert.Contains(t, out, "one.csv: 1 customers known as of 2010-12-01 23:59:59")
		assert.Contains(t, out, "RFM segments")
	}
}

// TestAdvCLIDefaultFormat: -data without -format reads onlineretail (the
// flag's documented default), plain or gzip alike.
func TestAdvCLIDefaultFormat(t *testing.T) {
	path := advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows))
	named, err := advCLIRun("-data", path, "-format", "onlineretail")
	require.NoError(t, err)
	unnamed, err := advCLIRun("-data", path)
	require.NoError(t, err)
	assert.Equal(t, named, unnamed)
	gz := advCLIWrite(t, "orders.csv", advCLIGzip(t, advCLIHeader+advCLIRows))
	zipped, err := advCLIRun("-data", gz)
	require.NoError(t, err)
	assert.Equal(t, named, strings.ReplaceAll(zipped, gz, path))
	assert.Contains(t, named, "customers          2\n")
}

func TestAdvCLILookbackZero(t *testing.T) {
	path := advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows))
	out, err := advCLIRun("-data", path, "-lookback", "0")
	if err != nil {
		return // rejecting 0 is fine too
	}
	def, err := advCLIRun("-data", path, "-lookback", "24")
	require.NoError(t, err)
	if strings.Replace(out, "look-back 0 months", "look-back 24 months", 1) != def {
		return // a real zero-month look-back: then it says so rightly
	}
	assert.NotContains(t, out, "look-back 0 months", "the output is the 24-month one")
}
