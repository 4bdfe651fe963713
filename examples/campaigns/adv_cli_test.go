package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the campaigns program's command-line contract
// (README.md, "Runnable examples"; the shared part in [testdata.CLI]).

func advCLIValidArgs(t *testing.T) []string {
	return []string{"-data", testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)), "-format", "onlineretail"}
}

// advCLI is the campaigns program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run:     testdata.Args(run),
	Streams: testdata.Streams(run),
	BadFlags: [][]string{
		{"-days", "0"}, {"-days", "-14"}, {"-control", "1"}, {"-control", "-0.1"},
		{"-control", "NaN"}, {"-uplift", "0.6"}, {"-uplift", "-0.1"}, {"-uplift", "NaN"},
		{"-restocked", "-1"}, {"-cap", "one"},
		{"-days", "36501"}, {"-days", "9223372036854775807"}, // AddDate would wrap past the last order
	},
	Never: []string{"week's plan"},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

// TestAdvCLISmallFiles: one row cannot hold a plan -days before its last
// order (an error saying so); eight rows over a month make a plan, the
// same from -data without -format and from gzip; -days longer than the
// data is an error naming the flag; -out on a regular file is an error.
func TestAdvCLISmallFiles(t *testing.T) {
	out, err := advCLI.Run("-data", testdata.WriteFile(t, "one.csv", []byte(testdata.RetailHeader+testdata.RetailRow)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-days")
	assert.True(t, strings.HasPrefix(out, "format     onlineretail\nrows       1\n"), out)

	args := advCLIValidArgs(t)
	named, err := advCLI.Run(args...)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(named, "format     onlineretail\nrows       8\n"), named)
	assert.Contains(t, named, "week's plan as of 2010-12-20 10:00:00")
	unnamed, err := advCLI.Run(args[:2]...)
	require.NoError(t, err)
	assert.Equal(t, named, unnamed)
	gz := testdata.WriteFile(t, "orders.csv.gz", testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows))
	zipped, err := advCLI.Run("-data", gz)
	require.NoError(t, err)
	assert.Equal(t, named, strings.ReplaceAll(zipped, gz, args[1]))

	_, err = advCLI.Run(append(args, "-days", "40")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-days")
	file := testdata.WriteFile(t, "not-a-dir", []byte("x"))
	_, err = advCLI.Run(append(args, "-out", file)...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not-a-dir")
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "campaigns", main) }
