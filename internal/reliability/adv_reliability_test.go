package reliability_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/reliability"
)

// advLog is go test -fuzz output as Go 1.26 prints it: elapsed is a
// time.Duration rounded to seconds ("1m3s" past a minute).
func advLog(elapsed string, execs int64, interesting int) string {
	return fmt.Sprintf(`fuzz: elapsed: 0s, gathering baseline coverage: 0/3 completed
fuzz: elapsed: 0s, gathering baseline coverage: 3/3 completed, now fuzzing with 2 workers
fuzz: elapsed: 3s, execs: 100 (33/sec), new interesting: 1 (total: 4)
fuzz: elapsed: %s, execs: %d (1000/sec), new interesting: %d (total: %d)
PASS
ok  	github.com/shopaffinity/affinity/segment	63.2s
`, elapsed, execs, interesting, interesting+3)
}

// TestAdvParseFuzzLogDurations: the last elapsed, execs and new
// interesting, for runs past a minute or an hour and exec counts past
// 2^31.
func TestAdvParseFuzzLogDurations(t *testing.T) {
	cases := []struct {
		elapsed string
		seconds int
		execs   int64
	}{
		{"59s", 59, 1234},
		{"1m0s", 60, 5_000_000},
		{"1m3s", 63, 3_000_000_000},
		{"10m0s", 600, 1 << 40},
		{"1h0m5s", 3605, 7},
	}
	for _, c := range cases {
		f, err := reliability.ParseFuzzLog("FuzzX", "segment", strings.NewReader(advLog(c.elapsed, c.execs, 6)))
		require.NoError(t, err, c.elapsed)
		assert.Equal(t, reliability.Fuzz{Target: "FuzzX", Package: "segment", Execs: c.execs, Seconds: c.seconds, NewInteresting: 6, Passed: true}, f, c.elapsed)
	}
}

// TestAdvParseFuzzLogFailures: a failing input is not a pass; the
// deadline race is only a bare "context deadline exceeded" with no
// failing input written.
func TestAdvParseFuzzLogFailures(t *testing.T) {
	base := advLog("10s", 100, 1)
	crash := strings.Replace(base, "PASS\nok  \tgithub.com/shopaffinity/affinity/segment\t63.2s\n",
		"--- FAIL: FuzzX (10.01s)\n    --- FAIL: FuzzX (0.00s)\n        testing.go:1: panic: boom\n    Failing input written to testdata/fuzz/FuzzX/abc\n    To re-run:\n    go test -run=FuzzX/abc\nFAIL\nexit status 1\nFAIL\tgithub.com/shopaffinity/affinity/segment\t10.1s\n", 1)
	f, err := reliability.ParseFuzzLog("FuzzX", "segment", strings.NewReader(crash))
	require.NoError(t, err)
	assert.False(t, f.Passed, "a failing input")
	assert.False(t, f.DeadlineRace)

	// a deadline message together with a failing input is a failure
	both := strings.Replace(crash, "testing.go:1: panic: boom", "context deadline exceeded", 1)
	f, err = reliability.ParseFuzzLog("FuzzX", "segment", strings.NewReader(both))
	require.NoError(t, err)
	assert.False(t, f.Passed, "failing input written: not the deadline race")
}

// TestAdvAddNoEnv: without the variable, Add writes nothing anywhere.
func TestAdvAddNoEnv(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(reliability.EnvLog, "")
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "x", Cases: 1, Outcome: "y"})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// TestAdvAddConcurrent: Adds from several goroutines at once (as from
// several processes) give whole lines that ReadRecords reads back, with
// awkward text (quotes, pipes, newlines, non-ASCII) intact.
func TestAdvAddConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	t.Setenv(reliability.EnvLog, path)
	outcome := "all \"rejected\" | with\nErrCorrupt, ≤ 70 KiB"
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				reliability.Add(t, reliability.Record{Kind: "hostile", Subject: fmt.Sprintf("s%d-%d", g, i), Cases: g*10 + i, Outcome: outcome})
			}
		})
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := reliability.ReadRecords(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, recs, 80)
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Subject] = r.Cases
		assert.Equal(t, outcome, r.Outcome)
		assert.Equal(t, "hostile", r.Kind)
	}
	for g := range 8 {
		for i := range 10 {
			assert.Equal(t, g*10+i, seen[fmt.Sprintf("s%d-%d", g, i)])
		}
	}
}

// TestAdvReadRecords: kinds and subjects merge only when both are equal,
// the last record wins; empty input is no records; a broken line is an
// error.
func TestAdvReadRecords(t *testing.T) {
	in := `{"kind":"cut","subject":"a","cases":1,"outcome":"o1"}
{"kind":"hostile","subject":"a","cases":2,"outcome":"o2"}
{"kind":"cut","subject":"b","cases":3,"outcome":"o3"}
{"kind":"cut","subject":"a","cases":4,"outcome":"o4"}
`
	recs, err := reliability.ReadRecords(strings.NewReader(in))
	require.NoError(t, err)
	assert.ElementsMatch(t, []reliability.Record{
		{Kind: "cut", Subject: "a", Cases: 4, Outcome: "o4"},
		{Kind: "hostile", Subject: "a", Cases: 2, Outcome: "o2"},
		{Kind: "cut", Subject: "b", Cases: 3, Outcome: "o3"},
	}, recs)

	recs, err = reliability.ReadRecords(strings.NewReader(""))
	require.NoError(t, err)
	assert.Empty(t, recs)

	_, err = reliability.ReadRecords(strings.NewReader(in + "{\"kind\":\"cut\",\n"))
	assert.Error(t, err, "a broken line")
	_, err = reliability.ReadRecords(strings.NewReader("not json\n"))
	assert.Error(t, err)
}

// TestAdvTable: counts get thousands separators; a failed fuzzer is not
// "no failure"; one line per row.
func TestAdvTable(t *testing.T) {
	recs := []reliability.Record{
		{Kind: "cut", Subject: "index", Cases: 1_234_567, Outcome: "all rejected"},
		{Kind: "invalid", Subject: "New", Cases: 0, Outcome: "all ErrX"},
		{Kind: "hostile", Subject: "header", Cases: 999, Outcome: "ErrCorrupt"},
		{Kind: "hostile", Subject: "body", Cases: 1000, Outcome: "ErrCorrupt"},
	}
	var buf bytes.Buffer
	require.NoError(t, reliability.Table(&buf, []reliability.Fuzz{{Target: "FuzzA", Package: "p", Execs: 1_000_000, Seconds: 75, Passed: false}}, recs))
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2+1+len(recs), "one line per row:\n%s", out)
	for _, l := range lines {
		assert.Equal(t, 5, strings.Count(l, "|"), "row %q does not have 4 cells", l)
	}
	assert.Contains(t, out, "1,234,567")
	assert.Contains(t, out, "1,000,000")
	assert.Contains(t, out, "| 999 |")
	assert.Contains(t, out, "| 1,000 |")
	assert.NotContains(t, out, "no failure", "a failed fuzzer")
}

func TestAdvTableEscapes(t *testing.T) {
	recs := []reliability.Record{
		{Kind: "cut", Subject: "index a|b", Cases: 1, Outcome: "all rejected | none read"},
		{Kind: "invalid", Subject: "New", Cases: 2, Outcome: "line one\nline two"},
	}
	var buf bytes.Buffer
	require.NoError(t, reliability.Table(&buf, nil, recs))
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Len(t, lines, 2+len(recs), "one line per row:\n%s", out)
	for _, l := range lines {
		cells := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
		assert.Equal(t, 5, cells, "row %q does not have 4 cells", l)
	}
}

// TestAdvCalls: Calls runs each call as a subtest, accepts wrapped
// errors matching every want, and records Cases = number of calls.
func TestAdvCalls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	t.Setenv(reliability.EnvLog, path)
	errA := errors.New("a")
	errB := fmt.Errorf("b: %w", errA)
	ran := map[string]bool{}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "Adv", Outcome: "all errA"}, map[string]func() error{
		"plain":   func() error { ran["plain"] = true; return errA },
		"wrapped": func() error { ran["wrapped"] = true; return fmt.Errorf("ctx: %w", errB) },
		"joined":  func() error { ran["joined"] = true; return errors.Join(errors.New("x"), errB) },
	}, errA)
	assert.Equal(t, map[string]bool{"plain": true, "wrapped": true, "joined": true}, ran)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := reliability.ReadRecords(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, reliability.Record{Kind: "invalid", Subject: "Adv", Cases: 3, Outcome: "all errA"}, recs[0])
}
