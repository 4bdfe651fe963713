package reliability_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/reliability"
)

const sampleLog = `fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed
fuzz: elapsed: 0s, gathering baseline coverage: 12/12 completed, now fuzzing with 2 workers
fuzz: elapsed: 3s, execs: 20911 (6969/sec), new interesting: 3 (total: 15)
fuzz: elapsed: 10s, execs: 71234 (7301/sec), new interesting: 5 (total: 17)
PASS
ok  	github.com/shopaffinity/affinity/similarity	10.139s
`

func TestParseFuzzLog(t *testing.T) {
	f, err := reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(sampleLog))
	require.NoError(t, err)
	assert.Equal(t, reliability.Fuzz{Target: "FuzzReadIndex", Package: "similarity", Execs: 71234, Seconds: 10, NewInteresting: 5, Passed: true}, f)

	failed := strings.Replace(sampleLog, "PASS", "--- FAIL: FuzzReadIndex (0.02s)\n    fuzz_test.go:12: boom\n    Failing input written to testdata/fuzz/FuzzReadIndex/0123\n", 1)
	f, err = reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(failed))
	require.NoError(t, err)
	assert.False(t, f.Passed)

	race := strings.Replace(sampleLog, "PASS", "--- FAIL: FuzzReadIndex (10.10s)\n    context deadline exceeded\nFAIL", 1)
	f, err = reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(race))
	require.NoError(t, err)
	assert.True(t, f.Passed, "no failing input: Go's coordinator race")
	assert.True(t, f.DeadlineRace)
}

func TestRecordsAndTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	t.Setenv(reliability.EnvLog, path)
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "similarity index", Cases: 10, Outcome: "old"})
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "MoneyFromFloatChecked", Cases: 7, Outcome: "all ErrMoneyRange"})
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "similarity index", Cases: 1234, Outcome: "all rejected"})
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := reliability.ReadRecords(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	var buf bytes.Buffer
	f, _ := reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(sampleLog))
	require.NoError(t, reliability.Table(&buf, []reliability.Fuzz{f}, recs))
	assert.Equal(t, `| Input class | Subject | Tried | Outcome |
|---|---|---:|---|
| fuzzer, 10 s | `+"`FuzzReadIndex`"+` (similarity) | 71,234 execs | no failure |
| saved file cut short | similarity index | 1,234 | all rejected |
| invalid API input | MoneyFromFloatChecked | 7 | all ErrMoneyRange |
`, buf.String())
}

// TestReliabilityTable writes the README's reliability table to the file
// named by AFFINITY_RELIABILITY, from the records of the tests
// (AFFINITY_RELIABILITY_LOG) and the fuzzer logs in AFFINITY_FUZZ_LOGS
// (files named package.Target.log). .ci/run sets all three.
func TestReliabilityTable(t *testing.T) {
	out := os.Getenv("AFFINITY_RELIABILITY")
	if out == "" {
		t.Skip("AFFINITY_RELIABILITY not set: no table to write")
	}
	var recs []reliability.Record
	if log := os.Getenv(reliability.EnvLog); log != "" {
		data, err := os.ReadFile(log)
		require.NoError(t, err)
		recs, err = reliability.ReadRecords(bytes.NewReader(data))
		require.NoError(t, err)
	}
	var fuzz []reliability.Fuzz
	if dir := os.Getenv("AFFINITY_FUZZ_LOGS"); dir != "" {
		logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
		require.NoError(t, err)
		slices.Sort(logs)
		for _, name := range logs {
			pkg, target, ok := strings.Cut(strings.TrimSuffix(filepath.Base(name), ".log"), ".")
			require.True(t, ok, "log %s is not named package.Target.log", name)
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			f, err := reliability.ParseFuzzLog(target, strings.ReplaceAll(pkg, "_", "/"), bytes.NewReader(data))
			require.NoError(t, err)
			fuzz = append(fuzz, f)
		}
	}
	require.False(t, len(recs) == 0 && len(fuzz) == 0, "nothing recorded: run the tests with %s set first", reliability.EnvLog)
	var buf bytes.Buffer
	require.NoError(t, reliability.Table(&buf, fuzz, recs))
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
	for _, f := range fuzz {
		assert.True(t, f.Passed, "fuzzer %s in %s failed", f.Target, f.Package)
	}
}
