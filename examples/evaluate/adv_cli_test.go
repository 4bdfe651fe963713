package main

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the evaluate program's command-line contract
// (README.md, "Runnable examples"; the shared part in [testdata.CLI]; a
// bad flag exits 2).

// advCLIRun runs evaluate on args with its report (stderr) and tables
// (stdout) both written to the output, turning a panic into an error that
// says so.
func advCLIRun(args ...string) (string, error) {
	return testdata.Capture(func(w io.Writer) error {
		return run(context.Background(), append([]string{"-recommenders", "popular"}, args...), w, w)
	})
}

func advCLIValidArgs(t *testing.T) []string {
	return []string{"-data", testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)), "-format", "onlineretail", "-recommenders", "popular"}
}

// advCLI is the evaluate program's command line, for [testdata.CLI.Check].
var advCLI = testdata.CLI{
	Run: advCLIRun,
	Streams: testdata.Streams(func(ctx context.Context, w, errw io.Writer, args []string) error {
		return run(ctx, append([]string{"-recommenders", "popular"}, args...), w, errw)
	}),
	Valid: advCLIValidArgs,
	BadFlags: [][]string{
		{"-recommenders", "nope"}, {"-k", "ten"}, {"-seed", "-1"},
		// values, and flags of another split than the one run, are refused
		{"-split", "temporal", "-cutoff", "notadate"}, {"-split", "stratified", "-by", "foo"},
		{"-split", "ratio", "-ratio", "7"}, {"-split", "stratified", "-cutoff", "2024-01-01"},
		{"-by", "product"}, {"-ratio", "0.5"}, {"-tifu-alpha", "5"},
		// days beyond time.Duration's 292 years wrapped to a negative
		// half-life; a negative one was accepted where no engine row runs
		{"-half-life", "200000"}, {"-half-life", "1e12"}, {"-half-life", "NaN"}, {"-half-life", "-3"},
	},
	BadArgs: func(path string) [][]string {
		return [][]string{
			{"-data", path, "-synthetic", "demo"},
			{"-data", path},
			{"-train", path},
			{"-synthetic", "nope"},
		}
	},
	// no -cutoff was given: the problem is that nothing loaded
	Never: []string{"cutoff"},
}

func TestAdvCLIContract(t *testing.T) { advCLI.Check(t) }

func TestAdvCLILateFlagChecks(t *testing.T) {
	args := advCLIValidArgs(t)
	for _, bad := range [][]string{{"-split", "random", "random"}, {"-map", "max", "max"}, {"-metrics", "ndcg,nope", "nope"}} {
		t.Run(strings.Join(bad[:2], " "), func(t *testing.T) {
			out, err := advCLIRun(append(args, bad[:2]...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), bad[2])
			assert.NotContains(t, out, "format     ", "a bad flag is found before the load")
		})
	}
}

func TestAdvCLIKNegative(t *testing.T) {
	args := advCLIValidArgs(t)
	out, err := advCLIRun(append(args, "-k", "-1")...)
	if err == nil {
		assert.NotContains(t, out, "@10", "-k -1 gave the tables of K = 10")
	}
	assert.Error(t, err)
}

// TestAdvCLISmallFile: eight rows give the tables, plain or gzip alike.
func TestAdvCLISmallFile(t *testing.T) {
	args := advCLIValidArgs(t)
	plain, err := advCLIRun(args...)
	require.NoError(t, err)
	assert.Contains(t, plain, "| popular |")
	gz := testdata.WriteFile(t, "orders.csv.gz", testdata.Gzip(t, testdata.RetailHeader+testdata.RetailRows))
	zipped, err := advCLIRun(append([]string{"-data", gz}, args[2:]...)...)
	require.NoError(t, err)
	// the same but for the time taken ("evaluated in 0.01s" on standard
	// error, captured with the output)
	took := regexp.MustCompile(`evaluated in \d+\.\d+s`)
	assert.Equal(t, took.ReplaceAllString(plain, "evaluated in Ts"), took.ReplaceAllString(zipped, "evaluated in Ts"))
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "evaluate", main) }

// TestAdvCLIHalfLifeMessage: a -half-life beyond time.Duration was
// reported after the load as a negative duration the user never gave;
// the error names the flag and its range.
func TestAdvCLIHalfLifeMessage(t *testing.T) {
	for _, hl := range []string{"200000", "NaN", "-3"} {
		_, err := advCLIRun("-recommenders", "engine", "-half-life", hl)
		require.Error(t, err, hl)
		assert.Contains(t, err.Error(), "-half-life "+hl+": want a finite number of days from 0 to ")
	}
}

// TestAdvCLIPNGFolder: a -png in a folder that is not there failed only
// once the whole evaluation was done; it fails before the data is read.
func TestAdvCLIPNGFolder(t *testing.T) {
	args := advCLIValidArgs(t)
	for _, png := range []string{
		filepath.Join(t.TempDir(), "missing", "chart.png"),
		filepath.Join(testdata.WriteFile(t, "a-file", []byte("x")), "chart.png"),
	} {
		out, err := advCLIRun(append(args, "-png", png)...)
		require.Error(t, err, png)
		assert.Contains(t, err.Error(), "-png")
		assert.NotContains(t, out, "format     ", "found before the load")
	}
}
