package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/segment"
)

// TestKeyList: "-exclude 'POST, DOT'" kept " DOT", a key no product has.
func TestKeyList(t *testing.T) {
	for in, want := range map[string][]string{
		"POST, DOT":   {"POST", "DOT"},
		" POST ,,DOT": {"POST", "DOT"},
		"POST":        {"POST"},
		",":           nil,
	} {
		if got := keyList(in); !slices.Equal(got, want) {
			t.Errorf("keyList(%q) = %q, want %q", in, got, want)
		}
	}
}

// runMain runs the command's main in a child process of the test binary
// with args, and returns its standard output and error.
func runMain(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainChild$")
	cmd.Env = append(os.Environ(), "AFFINITY_BEAM_MAIN_ARGS="+strings.Join(args, "\x1f"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestMainChild is main in a child process (see runMain).
func TestMainChild(t *testing.T) {
	args := os.Getenv("AFFINITY_BEAM_MAIN_ARGS")
	if args == "" {
		t.Skip("run by runMain")
	}
	os.Args = append([]string{"affinity-beam"}, strings.Split(args, "\x1f")...)
	main()
}

func TestWriteReadCounts(t *testing.T) {
	c := func(ns, name string, v int64) metrics.CounterResult {
		return metrics.CounterResult{Attempted: v, Committed: v, Key: metrics.StepKey{Step: "read", Namespace: ns, Name: name}}
	}
	t.Run("skips", func(t *testing.T) {
		var b bytes.Buffer
		writeReadCounts(&b, []metrics.CounterResult{
			c(pipeline.Metrics, "rows", 7), c(pipeline.Metrics, "skipped: zero quantity", 1),
			c(pipeline.Metrics, "skipped: invalid time", 2), c(pipeline.Metrics, "rows", 2),
			c(pipeline.Metrics, "duplicates", 1), c("beam", "rows", 100),
		})
		assert.Equal(t, "rows       9\nskipped    3\n  invalid time           2\n  zero quantity          1\nduplicates 1\n", b.String())
	})
	t.Run("none", func(t *testing.T) {
		var b bytes.Buffer
		writeReadCounts(&b, []metrics.CounterResult{c(pipeline.Metrics, "rows", 3)})
		assert.Equal(t, "rows       3\nskipped    0\n", b.String())
	})
}

// The rows a lenient job skipped were counted nowhere; the command
// prints the read step's counts after the run.
func TestMainPrintsSkippedRows(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.csv")
	require.NoError(t, os.WriteFile(in, []byte("customer,product,order,time,quantity,price\n"+
		"c1,A,o1,2024-01-01T00:00:00Z,1,10\n"+
		"c1,B,o1,not-a-time,1,10\n"+
		"c2,B,o2,2024-01-02T00:00:00Z,0,10\n"+
		"c2,A,o2,2024-01-02T00:00:00Z,1,10\n"), 0o644))
	stdout, stderr, err := runMain(t, "--runner=prism", "-job", "features", "-lenient", "-input", in, "-asof", "2024-02-01", "-output", filepath.Join(dir, "features"))
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "rows       4\nskipped    2\n  invalid time           1\n  zero quantity          1\n")
}

// -months was applied to the co-purchase counts only: the features job
// ignored it and computed frequency and monetary over the default 24
// months.
func TestMainMonthsFeatures(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.csv")
	require.NoError(t, os.WriteFile(in, []byte("customer,product,order,time,quantity,price\n"+
		"c1,A,o1,2023-10-01T00:00:00Z,1,10\n"+
		"c1,B,o2,2024-01-10T00:00:00Z,1,20\n"+
		"c2,A,o3,2024-01-15T00:00:00Z,1,10\n"), 0o644))
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("index %v", index), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "features")
			args := []string{"--runner=prism", "-job", "features", "-input", in, "-asof", "2024-02-01", "-months", "3", "-output", out}
			if index {
				args = append(args, "-index")
			}
			_, stderr, err := runMain(t, args...)
			require.NoError(t, err, stderr)
			got, err := os.ReadFile(filepath.Join(out, "features.csv"))
			require.NoError(t, err)

			ctx := context.Background()
			h, err := pipeline.LoadHistory(ctx, pipeline.Input{Files: []string{in}, Format: "csv"})
			require.NoError(t, err)
			x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: affinity.Months(3)})
			require.NoError(t, err)
			var want bytes.Buffer
			require.NoError(t, x.WriteCSV(&want, x.All()))
			require.Equal(t, want.String(), string(got), "features.csv with -months 3")
		})
	}
}

// Flags of one job were accepted and ignored by the other: -shards by the
// features job, -index by the co-purchase job.
func TestCheckFlags(t *testing.T) {
	for _, c := range []struct {
		job   string
		index bool
		set   []string
		err   string
	}{
		{job: "copurchase", set: []string{"asof", "exclude", "input", "k", "months", "shards"}},
		{job: "features", index: true, set: []string{"asof", "exclude", "index", "months", "namecats"}},
		{job: "features", set: []string{"asof", "months"}},
		{job: "features", set: []string{"asof", "shards"}, err: "-shards applies to -job copurchase only"},
		{job: "features", set: []string{"measure"}, err: "-measure applies to -job copurchase only"},
		{job: "features", set: []string{"maxbasket"}, err: "-maxbasket applies to -job copurchase only"},
		{job: "copurchase", set: []string{"index"}, err: "-index applies to -job features only"},
		{job: "features", set: []string{"exclude"}, err: "-exclude applies to -job copurchase and -job features -index only"},
		{job: "segments", err: `unknown -job "segments"`},
	} {
		t.Run(fmt.Sprintf("%s %v %v", c.job, c.index, c.set), func(t *testing.T) {
			err := checkFlags(c.job, c.index, c.set)
			if c.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

// The command refuses a flag its job ignores, before any work.
func TestMainRefusesFlagOfOtherJob(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.csv")
	require.NoError(t, os.WriteFile(in, []byte("customer,product,order,time,quantity,price\nc1,A,o1,2024-01-01T00:00:00Z,1,10\n"), 0o644))
	for _, args := range [][]string{
		{"-job", "features", "-shards", "4", "-output", filepath.Join(dir, "features")},
		{"-job", "copurchase", "-index", "-output", filepath.Join(dir, "neighbours.idx")},
		{"-job", "copurchase", "-months", "-1", "-output", filepath.Join(dir, "neighbours.idx")},
	} {
		_, stderr, err := runMain(t, append([]string{"--runner=prism", "-input", in, "-asof", "2024-02-01"}, args...)...)
		require.Error(t, err, "%v", args)
		assert.Regexp(t, `applies to -job \w+ only|-months -1: a look-back is 0 or more months`, stderr)
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "files written")
}
