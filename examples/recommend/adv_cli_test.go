package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the recommend program's command-line contract
// (README.md, "Runnable examples"; the shared part in [testdata.CLI]).

// advCLI is the recommend program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run:     testdata.Args(run),
	Streams: testdata.Streams(run),
	BadFlags: [][]string{
		{"-k", "0"}, {"-k", "-1"}, {"-k", "1001"}, {"-k", "ten"},
		{"-scope", "sequential"}, {"-scope", ""}, {"-measure", "nope"}, {"-measure", "ease"},
	},
	Never: []string{"Frequently bought together"},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

// TestAdvCLISmallFiles: one row and eight rows load and are served, the
// report and summary first; -data without -format reads onlineretail,
// gzip by content; an unknown -product is an error, an unknown -customer
// a cold start (README: served from the popularity fallbacks).
func TestAdvCLISmallFiles(t *testing.T) {
	out, err := advCLI.Run("-data", testdata.WriteFile(t, "one.csv", []byte(testdata.RetailHeader+testdata.RetailRow)), "-format", "onlineretail", "-k", "1")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "format     onlineretail\nrows       1\nloaded     1\n"), out)
	assert.Contains(t, out, "1 customers, 1 products, 1 orders; as of 2010-12-01")

	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	named, err := advCLI.Run("-data", path, "-format", "onlineretail", "-k", "3")
	require.NoError(t, err)
	assert.Contains(t, named, "2 customers, 4 products, 5 orders; as of 2011-01-03")
	assert.Contains(t, named, "For customer 17850:")
	unnamed, err := advCLI.Run("-data", path, "-k", "3")
	require.NoError(t, err)
	assert.Equal(t, named, unnamed)
	gz := testdata.WriteFile(t, "orders.csv.gz", testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows))
	zipped, err := advCLI.Run("-data", gz, "-k", "3")
	require.NoError(t, err)
	assert.Equal(t, named, strings.ReplaceAll(zipped, gz, path))

	_, err = advCLI.Run("-data", path, "-product", "NOPE")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NOPE")
	out, err = advCLI.Run("-data", path, "-customer", "99999", "-k", "2")
	require.NoError(t, err, out)
	assert.Contains(t, out, "For customer 99999 (not a customer of this shop: the popular products):")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "recommend", main) }
