package reliability_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
	if err != nil {
		t.Fatalf("ParseFuzzLog: %v", err)
	}
	if want := (reliability.Fuzz{Target: "FuzzReadIndex", Package: "similarity", Execs: 71234, Seconds: 10, NewInteresting: 5, Passed: true}); f != want {
		t.Errorf("ParseFuzzLog:\n got %+v\nwant %+v", f, want)
	}

	failed := strings.Replace(sampleLog, "PASS", "--- FAIL: FuzzReadIndex (0.02s)\n    fuzz_test.go:12: boom\n    Failing input written to testdata/fuzz/FuzzReadIndex/0123\n", 1)
	f, err = reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(failed))
	if err != nil {
		t.Fatalf("ParseFuzzLog: %v", err)
	}
	if f.Passed {
		t.Errorf("a run with a failing input Passed: %+v", f)
	}

	race := strings.Replace(sampleLog, "PASS", "--- FAIL: FuzzReadIndex (10.10s)\n    context deadline exceeded\nFAIL", 1)
	f, err = reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(race))
	if err != nil {
		t.Fatalf("ParseFuzzLog: %v", err)
	}
	if !f.Passed {
		t.Errorf("no failing input: Go's coordinator race: not Passed: %+v", f)
	}
	if !f.DeadlineRace {
		t.Errorf("not DeadlineRace: %+v", f)
	}
}

func TestRecordsAndTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	t.Setenv(reliability.EnvLog, path)
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "similarity index", Cases: 10, Outcome: "old"})
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "MoneyFromFloatChecked", Cases: 7, Outcome: "all ErrMoneyRange"})
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "similarity index", Cases: 1234, Outcome: "all rejected"})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	recs, err := reliability.ReadRecords(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadRecords: %v", err)
	}
	if want := 2; len(recs) != want {
		t.Fatalf("%d records, want %d: %+v", len(recs), want, recs)
	}
	var buf bytes.Buffer
	f, _ := reliability.ParseFuzzLog("FuzzReadIndex", "similarity", strings.NewReader(sampleLog))
	if err := reliability.Table(&buf, []reliability.Fuzz{f}, recs); err != nil {
		t.Fatalf("Table: %v", err)
	}
	want := `| Input class | Subject | Tried | Outcome |
|---|---|---:|---|
| fuzzer, 10 s | ` + "`FuzzReadIndex`" + ` (similarity) | 71,234 execs | no failure |
| saved file cut at every prefix | similarity index | 1,234 | all rejected |
| invalid API input | MoneyFromFloatChecked | 7 | all ErrMoneyRange |
`
	if got := buf.String(); got != want {
		t.Errorf("Table:\n got %q\nwant %q", got, want)
	}
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
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		recs, err = reliability.ReadRecords(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ReadRecords: %v", err)
		}
	}
	var fuzz []reliability.Fuzz
	if dir := os.Getenv("AFFINITY_FUZZ_LOGS"); dir != "" {
		logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil {
			t.Fatalf("Glob: %v", err)
		}
		slices.Sort(logs)
		for _, name := range logs {
			pkg, target, ok := strings.Cut(strings.TrimSuffix(filepath.Base(name), ".log"), ".")
			if !ok {
				t.Fatalf("log %s is not named package.Target.log", name)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			f, err := reliability.ParseFuzzLog(target, strings.ReplaceAll(pkg, "_", "/"), bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ParseFuzzLog %s: %v", name, err)
			}
			fuzz = append(fuzz, f)
		}
	}
	if len(recs) == 0 && len(fuzz) == 0 {
		t.Fatalf("nothing recorded: run the tests with %s set first", reliability.EnvLog)
	}
	var buf bytes.Buffer
	if err := reliability.Table(&buf, fuzz, recs); err != nil {
		t.Fatalf("Table: %v", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	for _, f := range fuzz {
		if !f.Passed {
			t.Errorf("fuzzer %s in %s failed", f.Target, f.Package)
		}
	}
}
