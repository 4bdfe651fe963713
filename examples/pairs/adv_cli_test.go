package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the pairs program's command-line contract
// (README.md, "Runnable examples"; the shared part in [testdata.CLI]).

// advCLI is the pairs program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run:     testdata.Args(run),
	Streams: testdata.Streams(run),
	BadFlags: [][]string{
		{"-measure", "nope"}, {"-measure", "bm25"}, {"-scope", "order"},
		{"-min-support", "1.5"}, {"-top", "ten"}, {"-shrinkage", "x"},
	},
	Never: []string{"History.Latest()"},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

func TestAdvCLITopNegative(t *testing.T) {
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	for _, top := range []string{"-1", "-20"} {
		out, err := advCLI.Run("-data", path, "-min-support", "1", "-top", top)
		require.Error(t, err, out)
		assert.NotContains(t, err.Error(), "PANIC")
	}
}

// TestAdvCLISmallFiles: one row gives no pair; the eight rows give their
// pairs, the same from -data without -format (onlineretail) and from
// gzip, the report and summary first.
func TestAdvCLISmallFiles(t *testing.T) {
	out, err := advCLI.Run("-data", testdata.WriteFile(t, "one.csv", []byte(testdata.RetailHeader+testdata.RetailRow)), "-format", "onlineretail", "-min-support", "1")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "format     onlineretail\nrows       1\nloaded     1\n"), out)
	assert.Contains(t, out, "no two products were ever bought together")

	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	named, err := advCLI.Run("-data", path, "-format", "onlineretail", "-min-support", "1")
	require.NoError(t, err)
	assert.Contains(t, named, "5 baskets, 4 products")
	assert.Regexp(t, `(?m)^   1  `, named)
	unnamed, err := advCLI.Run("-data", path, "-min-support", "1")
	require.NoError(t, err)
	assert.Equal(t, named, unnamed)
	gz := testdata.WriteFile(t, "orders.csv.gz", testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows))
	zipped, err := advCLI.Run("-data", gz, "-min-support", "1")
	require.NoError(t, err)
	assert.Equal(t, named, strings.ReplaceAll(zipped, gz, path))
	_, err = advCLI.Run("-data", path, "-min-support", "1", "-top", "0")
	assert.ErrorContains(t, err, "-top 0", "no pair to print is a mistake")
}

// TestAdvCLIPairCount: the count of pairs seen together was that of the
// matrix's entries, each pair twice, (a, b) and (b, a); Groceries printed
// 19,272 for its 9,636 pairs. Sequential counts keep ordered pairs.
func TestAdvCLIPairCount(t *testing.T) {
	path := testdata.WriteFile(t, "baskets.csv", []byte("a,b\na,c\nb,a,d\nc\n"))
	out, err := advCLI.Run("-data", path, "-format", "baskets", "-min-support", "1")
	require.NoError(t, err)
	assert.Contains(t, out, "4 baskets, 4 products, 4 pairs seen together", "ab, ac, ad, bd")
	orders := testdata.WriteFile(t, "orders.csv", []byte("customer,product,time\nx,a,2024-01-01\nx,b,2024-01-05\ny,b,2024-01-01\ny,a,2024-01-05\nz,a,2024-01-01\nz,c,2024-01-09\n"))
	out, err = advCLI.Run("-data", orders, "-format", "csv", "-scope", "sequential", "-min-support", "1")
	require.NoError(t, err)
	assert.Contains(t, out, "3 ordered pairs seen together", "a→b, b→a, a→c")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "pairs", main) }

// TestAdvCLINoPairAdvice: a file in which no two products are ever
// bought together (one product) has no pair at any -min-support; the
// advice to lower it is for a file with pairs under the threshold.
func TestAdvCLINoPairAdvice(t *testing.T) {
	one := testdata.WriteFile(t, "cd.txt", []byte(" 00001 0001 19970101  1   11.77\n 00001 0001 19970201  1   11.77\n 00002 0002 19970101  1   11.77\n"))
	for _, scope := range []string{"basket", "customer", "sequential"} {
		out, err := advCLI.Run("-data", one, "-format", "cdnow", "-min-support", "1", "-scope", scope)
		require.NoError(t, err)
		assert.NotContains(t, out, "lower -min-support", scope)
		assert.Contains(t, out, "no two products were ever bought together", scope)
	}
	retail := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	out, err := advCLI.Run("-data", retail, "-min-support", "3")
	require.NoError(t, err)
	assert.Contains(t, out, "lower -min-support", "pairs seen together twice, fewer than 3 times")
}
