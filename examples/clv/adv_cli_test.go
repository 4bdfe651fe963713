package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the clv program's command-line contract (README.md,
// "Runnable examples"; the shared part in [testdata.CLI]).

func advCLIValidArgs(t *testing.T) []string {
	return []string{"-data", advCLICDNOW(t), "-format", "cdnow", "-customers", "1"}
}

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
	return testdata.WriteFile(t, "cdnow.txt", []byte(b.String()))
}

// advCLI is the clv program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run:     testdata.Args(run),
	Streams: testdata.Streams(run),
	Valid:   advCLIValidArgs,
	BadFlags: [][]string{
		{"-unit", "year"}, {"-model", "pareto"}, {"-months", "0"}, {"-workers", "0"},
		{"-customers", "-1"}, {"-horizon", "-1"}, {"-penalty", "-1"},
		{"-horizon", "15300"}, {"-horizon", "106752", "-unit", "day"}, // beyond time.Duration's 292 years
		{"-discount", "1%"}, {"-months", "100000000"},
	},
	Never: []string{"calibration to"},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

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
			out, err := advCLI.Run(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Contains(t, err.Error(), args[0], "the error names the flag")
			assert.NotContains(t, out, "format     ", "a bad flag is found before the load")
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
			out, err := advCLI.Run(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			require.Error(t, err, "%s", out)
			if len(args) == 4 { // both dates given: they do not go together
				assert.ErrorIs(t, err, cli.ErrUsage, "a usage error: exit status 2")
				assert.Empty(t, out)
			}
		})
	}
}

// TestAdvCLIBadDates: a date that is not YYYY-MM-DD is an error of the
// command line naming its flag, found before the data is read.
func TestAdvCLIBadDates(t *testing.T) {
	path := advCLICDNOW(t)
	for _, args := range [][]string{
		{"-calibration-end", "1997-13-01"},
		{"-calibration-end", "1997-02-30"},
		{"-calibration-end", "30/09/1997"},
		{"-holdout-end", "1997-12-31T00:00:00Z"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := advCLI.Run(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), args[0])
			assert.ErrorIs(t, err, cli.ErrUsage, "a usage error: exit status 2")
			assert.Empty(t, out, "a bad date is found before the load")
		})
	}
}

// TestAdvCLISmallFile: a small CDNOW file is fitted and previewed, the
// report and the summary first; -format defaults to cdnow and gzip is
// recognised by content.
func TestAdvCLISmallFile(t *testing.T) {
	path := advCLICDNOW(t)
	named, err := advCLI.Run("-data", path, "-format", "cdnow", "-customers", "3")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(named, "format     cdnow\nrows       "), named)
	assert.Contains(t, named, "customers          40\n")
	assert.Contains(t, named, "cdnow.txt (cdnow): 40 customers")
	unnamed, err := advCLI.Run("-data", path, "-customers", "3")
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	zipped, err := advCLI.Run("-data", testdata.WriteFile(t, "cdnow.txt", testdata.Gzip(t, string(data))), "-customers", "3")
	require.NoError(t, err)
	// the timings differ from run to run
	norm := func(s string) string {
		return regexp.MustCompile(`[\d.]+(ms|µs|s)\b`).ReplaceAllString(s, "T")
	}
	assert.Equal(t, norm(named), norm(unnamed))
	assert.Equal(t, norm(named), norm(zipped))
}

// TestAdvCLIDefaultFormatNothingLoaded: -format defaults to cdnow, of
// which no row of an Online Retail file loads: an error after the load
// report that says why.
func TestAdvCLIDefaultFormatNothingLoaded(t *testing.T) {
	out, err := advCLI.Run("-data", testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "PANIC")
	assert.Contains(t, out+err.Error(), "wrong field count", "what was skipped: in the report or the error")
	assert.NotContains(t, out, "calibration to")
}

// TestAdvCLIHoldoutEndDefault: the default end of the holdout is the last
// order itself. It was the midnight of its day, which left that day's
// orders of a file with times out of the holdout.
func TestAdvCLIHoldoutEndDefault(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer,product,time,price\n")
	for c := range 30 {
		for m := 1; m <= 12; m += 1 + c%3 {
			fmt.Fprintf(&b, "c%d,p%d,2024-%02d-%02d 10:00:00,9.50\n", c, m%4, m, 1+c%28)
		}
		fmt.Fprintf(&b, "c%d,p1,2024-12-31 %02d:30:00,9.50\n", c, 8+c%12) // the last day
	}
	path := testdata.WriteFile(t, "orders.csv", []byte(b.String()))
	actual := func(args ...string) string {
		out, err := advCLI.Run(append([]string{"-data", path, "-format", "csv", "-customers", "0", "-calibration-end", "2024-06-30"}, args...)...)
		require.NoError(t, err)
		m := regexp.MustCompile(`total holdout purchases: actual (\d+)`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		return m[1]
	}
	all := actual("-holdout-end", "2025-01-01")
	assert.Equal(t, all, actual(), "the default holdout ends with the last order")
	assert.NotEqual(t, all, actual("-holdout-end", "2024-12-31"), "a date is its midnight: the last day's orders are after it")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "clv", main) }
