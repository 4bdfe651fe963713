package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the segments program's command-line contract
// (README.md, "Runnable examples"; the shared part in [testdata.CLI]).

// advCLI is the segments program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run:     testdata.Args(run),
	Streams: testdata.Streams(run),
	BadFlags: [][]string{
		{"-asof", "2011-02-30"}, {"-asof", "2011-12-10T00:00:00Z"},
		{"-asof", "10/12/2011"}, {"-lookback", "-1"}, {"-lookback", "twelve"},
		{"-categories", "1.5"},
		{"-lookback", "1000000000"}, // beyond the 10,000 years a look-back may span
	},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

// TestAdvCLIOneRow: the smallest file loads, the report and the summary
// come first, and its one customer is segmented.
func TestAdvCLIOneRow(t *testing.T) {
	for _, data := range []string{testdata.RetailHeader + testdata.RetailRow, testdata.RetailHeader + strings.TrimSuffix(testdata.RetailRow, "\n")} {
		out, err := advCLI.Run("-data", testdata.WriteFile(t, "one.csv", []byte(data)), "-format", "onlineretail")
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
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	named, err := advCLI.Run("-data", path, "-format", "onlineretail")
	require.NoError(t, err)
	unnamed, err := advCLI.Run("-data", path)
	require.NoError(t, err)
	assert.Equal(t, named, unnamed)
	gz := testdata.WriteFile(t, "orders.csv", testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows))
	zipped, err := advCLI.Run("-data", gz)
	require.NoError(t, err)
	assert.Equal(t, named, strings.ReplaceAll(zipped, gz, path))
	assert.Contains(t, named, "customers          2\n")
}

// TestAdvCLILookbackZero: -lookback 0 ran with the default 24 months
// silently; a look-back under a month is refused.
func TestAdvCLILookbackZero(t *testing.T) {
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	for _, n := range []string{"0", "-3"} {
		_, err := advCLI.Run("-data", path, "-lookback", n)
		require.ErrorContains(t, err, "-lookback "+n)
	}
	_, err := advCLI.Run("-data", path, "-lookback", "12")
	require.NoError(t, err)
}

// TestAdvCLIShortLookbackTransitions: the transitions table builds the
// index of three months earlier with the options as given; with the
// filled-in ones, -lookback 1 as of 2025-06-01 (31 days back) failed for
// 2025-03-01 (28 days back: "LapseAfter 31d exceeds Lookback").
func TestAdvCLIShortLookbackTransitions(t *testing.T) {
	out, err := advCLI.Run("-lookback", "1", "-asof", "2025-06-01")
	require.NoError(t, err)
	assert.Contains(t, out, "Champions")
}

// TestAdvCLINoChampionsThen: as of a time long after the last order
// nobody was a Champion three months before, and the section ended with
// its heading; a line says so.
func TestAdvCLINoChampionsThen(t *testing.T) {
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	out, err := advCLI.Run("-data", path, "-asof", "2015-01-01")
	require.NoError(t, err)
	assert.Contains(t, out, "\nWhere the Champions of 2014-10-01 are now\n  none: nobody was a Champion then\n")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "segments", main) }
