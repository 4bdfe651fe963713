// Package reliability collects what the hostile-input tests of the
// repository tried and saw, and turns it, with the logs of the fuzzers,
// into the reliability table of the README. Tests call [Add]; it does
// nothing unless the environment variable named by [EnvLog] names a file.
package reliability

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvLog names the environment variable holding the path of the JSON-lines
// file that [Add] appends to.
const EnvLog = "AFFINITY_RELIABILITY_LOG"

// Record is one line of the table: a class of hostile input a test tried.
type Record struct {
	// Kind is "cut" (a saved format cut short, at every length or every
	// few), "hostile" (a crafted file or header) or "invalid" (invalid
	// arguments or options given to the API).
	Kind string `json:"kind"`
	// Subject names the format, file or function, e.g. "similarity index".
	Subject string `json:"subject"`
	// Cases counts the inputs tried.
	Cases int `json:"cases"`
	// Outcome says what every one of them did, e.g. "all rejected with
	// ErrCorrupt, at most 70 KiB allocated".
	Outcome string `json:"outcome"`
}

var mu sync.Mutex

// Add appends r to the file named by [EnvLog]; without it, it does
// nothing. Several test processes may append to the same file.
func Add(t testing.TB, r Record) {
	t.Helper()
	path := os.Getenv(EnvLog)
	if path == "" {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("reliability: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("reliability: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatalf("reliability: %v", err)
	}
}

// ReadRecords reads the records of a file written by [Add], merging equal
// kinds and subjects (the last outcome wins, cases add up only when a test
// ran more than once, so they are taken from the last record too).
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("reliability: %w", err)
		}
		i := slices.IndexFunc(out, func(o Record) bool { return o.Kind == rec.Kind && o.Subject == rec.Subject })
		if i >= 0 {
			out[i] = rec
		} else {
			out = append(out, rec)
		}
	}
	return out, sc.Err()
}

// Fuzz is the result of one fuzzer run, read from the output of
// go test -fuzz.
type Fuzz struct {
	Target, Package string
	// Execs is the number of executions the fuzzer reported last.
	Execs int64
	// Seconds is the elapsed time it reported last.
	Seconds int
	// NewInteresting counts the inputs it added to the corpus.
	NewInteresting int
	// Passed reports whether the run found no failing input: it ended in
	// ok/PASS, or failed only on Go's fuzztime deadline race.
	Passed bool
	// DeadlineRace reports a run that go test failed with a bare "context
	// deadline exceeded" as -fuzztime expired, writing no failing input:
	// a race in Go's fuzzing coordinator (go.dev/issue/75804, fixed in
	// Go 1.27), not a finding.
	DeadlineRace bool
}

// fuzzLine matches a fuzzer's progress line; elapsed is a rounded
// time.Duration ("3s", "1m3s", "1h0m5s").
var fuzzLine = regexp.MustCompile(`fuzz: elapsed: ((?:\d+h)?(?:\d+m)?\d+s), execs: (\d+) \([^)]*\)(?:, new interesting: (\d+))?`)

// ParseFuzzLog reads the output of `go test -run='^$' -fuzz=^Target$` for
// the named target and package.
func ParseFuzzLog(target, pkg string, r io.Reader) (Fuzz, error) {
	f := Fuzz{Target: target, Package: pkg}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	failed, deadline, input := false, false, false
	for sc.Scan() {
		line := sc.Text()
		if m := fuzzLine.FindStringSubmatch(line); m != nil {
			d, _ := time.ParseDuration(m[1])
			f.Seconds = int(d / time.Second)
			f.Execs, _ = strconv.ParseInt(m[2], 10, 64)
			if m[3] != "" {
				f.NewInteresting, _ = strconv.Atoi(m[3])
			}
		}
		switch {
		case line == "PASS" || strings.HasPrefix(line, "ok "):
			f.Passed = true
		case line == "FAIL" || strings.HasPrefix(line, "--- FAIL"):
			failed = true
		case strings.TrimSpace(line) == "context deadline exceeded":
			deadline = true
		case strings.Contains(line, "Failing input written"):
			input = true
		}
	}
	if failed {
		f.DeadlineRace = deadline && !input
		f.Passed = f.DeadlineRace
	}
	return f, sc.Err()
}

// Table writes the reliability table in Markdown: the fuzzers first, then
// the records by kind.
func Table(w io.Writer, fuzz []Fuzz, recs []Record) error {
	var b strings.Builder
	b.WriteString("| Input class | Subject | Tried | Outcome |\n|---|---|---:|---|\n")
	for _, f := range fuzz {
		outcome := "no failure"
		if f.DeadlineRace {
			outcome = "no failure (the run ended on Go's fuzztime deadline race, go.dev/issue/75804)"
		}
		if !f.Passed {
			outcome = "**FAILED** (crasher saved under testdata/fuzz)"
		}
		fmt.Fprintf(&b, "| fuzzer, %d s | `%s` (%s) | %s execs | %s |\n", f.Seconds, f.Target, f.Package, group(f.Execs), outcome)
	}
	kinds := map[string]string{"cut": "saved file cut short", "hostile": "hostile file", "invalid": "invalid API input"}
	for _, kind := range []string{"cut", "hostile", "invalid"} {
		for _, r := range recs {
			if r.Kind == kind {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", kinds[kind], cell(r.Subject), group(int64(r.Cases)), cell(r.Outcome))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell makes s one Markdown table cell: a '|' escaped, line breaks as
// spaces.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// group formats n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Calls runs each of calls as a subtest of t, named by its key, and
// checks that the error it returns matches every one of want
// (errors.Is); then it adds r with Cases set to the number of calls. It
// is the table test of invalid arguments: a call that panics fails the
// test like any other.
func Calls(t *testing.T, r Record, calls map[string]func() error, want ...error) {
	t.Helper()
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil {
				t.Fatalf("no error; want one matching %v", want)
			}
			for _, w := range want {
				if !errors.Is(err, w) {
					t.Fatalf("error %q does not match %q", err, w)
				}
			}
		})
	}
	r.Cases = len(calls)
	Add(t, r)
}
