package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of the clv program's command-line contract (README.md,
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
	return []string{"-data", advCLICDNOW(t), "-format", "cdnow", "-customers", "1"}
}

func advCLICall(w *bytes.Buffer, args []string) error { return run(context.Background(), w, args) }

// advCLICDNOW writes a small CDNOW-format file (customer, id, date, CDs,
// dollars) of 40 customers buying in 1997, seeded.
func advCLICDNOW(t *testing.T) string {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	start := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := 1; c <= 40; c++ {
		d := r.IntN(60)
		for range 1 + r.IntN(6) {
			fmt.Fprintf(&b, " %05d %04d %s  %d   %.2f\n", c, c, start.AddDate(0, 0, d).Format("20060102"), 1+r.IntN(3), 5+45*r.Float64())
			d += 1 + r.IntN(60)
			if d > 364 {
				break
			}
		}
	}
	return advCLIWrite(t, "cdnow.txt", []byte(b.String()))
}

func advCLIBadFlagValues(path string) [][]string {
	return [][]string{
		{"-data", path, "-format", "onlineretail", "-unit", "year"},
		{"-data", path, "-format", "onlineretail", "-model", "pareto"},
		{"-data", path, "-format", "onlineretail", "-months", "0"},
		{"-data", path, "-format", "onlineretail", "-workers", "0"},
		{"-data", path, "-format", "onlineretail", "-customers", "-1"},
		{"-data", path, "-format", "onlineretail", "-horizon", "-1"},
		{"-data", path, "-format", "onlineretail", "-penalty", "-1"},
		{"-data", path, "-format", "onlineretail", "-discount", "1%"},
	}
}

func TestAdvCLILateFlagChecks(t *testing.T) {
	path := advCLICDNOW(t)
	for _, args := range [][]string{
		{"-discount", "-1"},
		{"-discount", "NaN"},
		{"-margin", "-1"},
		{"-margin", "NaN"},
		{"-horizon", "NaN"},
		{"-penalty", "NaN"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := advCLIRun(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Contains(t, err.Error(), args[0], "the error names the flag")
			assert.NotContains(t, out, advCLIReport, "a bad flag is found before the load")
		})
	}
}

func TestAdvCLIDatesOutOfOrder(t *testing.T) {
	path := advCLICDNOW(t)
	for _, args := range [][]string{
		{"-calibration-end", "1997-07-01", "-holdout-end", "1997-02-01"},
		{"-calibration-end", "1997-07-01", "-holdout-end", "1997-06-30"},
		{"-calibration-end", "2030-01-01"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := advCLIRun(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			assert.Error(t, err, "%s", out)
		})
	}
}

// TestAdvCLIBadDates: a date that is not YYYY-MM-DD is an error naming
// its flag.
func TestAdvCLIBadDates(t *testing.T) {
	path := advCLICDNOW(t)
	for _, args := range [][]string{
		{"-calibration-end", "1997-13-01"},
		{"-calibration-end", "1997-02-30"},
		{"-calibration-end", "30/09/1997"},
		{"-holdout-end", "1997-12-31T00:00:00Z"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := advCLIRun(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), args[0])
		})
	}
}

// TestAdvCLINothingLoaded: a file of which no row loads is an error after
// the load report that says why.
func TestAdvCLINothingLoaded(t *testing.T) {
	for _, c := range []struct{ name, format, data, reason string }{
		{"header only", "onlineretail", advCLIHeader, "no rows after its header"},
		{"onlineretail as cdnow", "cdnow", advCLIHeader + advCLIRows, "wrong field count"},
		{"onlineretail without -format", "", advCLIHeader + advCLIRows, "wrong field count"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"-data", advCLIWrite(t, "orders.csv", []byte(c.data))}
			if c.format != "" {
				args = append(args, "-format", c.format)
			}
			out, err := advCLIRun(args...)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Contains(t, out+err.Error(), c.reason, "what was skipped: in the report or the error")
			assert.NotContains(t, out, "calibration to")
		})
	}
}

// TestAdvCLISmallFile: a small CDNOW file is fitted and previewed, the
// report and the summary first; -format defaults to cdnow and gzip is
// recognised by content.
func TestAdvCLISmallFile(t *testing.T) {
	path := advCLICDNOW(t)
	named, err := advCLIRun("-data", path, "-format", "cdnow", "-customers", "3")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(named, "format     cdnow\nrows       "), named)
	assert.Contains(t, named, "customers          40\n")
	assert.Contains(t, named, "cdnow.txt (cdnow): 40 customers")
	unnamed, err := advCLIRun("-data", path, "-customers", "3")
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	zipped, err := advCLIRun("-data", advCLIWrite(t, "cdnow.txt", advCLIGzip(t, string(data))), "-customers", "3")
	require.NoError(t, err)
	// the timings differ from run to run
	norm := func(s string) string {
		return regexp.MustCompile(`[\d.]+(ms|µs|s)\b`).ReplaceAllString(s, "T")
	}
	assert.Equal(t, norm(named), norm(unnamed))
	assert.Equal(t, norm(named), norm(zipped))
}
