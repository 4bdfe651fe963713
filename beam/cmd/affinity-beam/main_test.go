package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/beam/pipeline"
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
