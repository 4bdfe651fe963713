package testdata

import (
	"os"
	"testing"
)

// LongEnv is the environment variable that turns on the long test suite:
// set to a non-empty value other than "0", the property tests run all their
// random seeds and full sizes, and the slow quality, browser and load tests
// run too. CI (.ci/run) sets it for the race-detector step; without it
// `go test ./...` runs the quick suite, the same checks on fewer seeds and
// smaller inputs.
const LongEnv = "AFFINITY_LONG_TESTS"

// Long reports whether the long test suite is on, that is whether the
// environment variable [LongEnv] is set to a non-empty value other than
// "0". It reads the environment on every call.
func Long() bool {
	v := os.Getenv(LongEnv)
	return v != "" && v != "0"
}

// Scale returns long under [Long] and short otherwise: the number of random
// seeds or the size of an input a test uses in the long and the quick
// suite. Short should still take the test through its interesting paths.
func Scale(long, short int) int {
	if Long() {
		return long
	}
	return short
}

// SkipUnlessLong skips t, saying how to run it, unless the long suite is
// on ([Long]): for the few tests that cannot be made cheap enough for the
// quick suite, which CI runs in full.
func SkipUnlessLong(t testing.TB) {
	t.Helper()
	if !Long() {
		t.Skip("long test: set " + LongEnv + "=1 to run it")
	}
}

// SkipUnderRace skips t under the race detector, saying where it runs
// instead: for the few real-data runs whose numeric work (EASE fits on
// Online Retail) takes minutes there, while the concurrency they go
// through is the same as on the demo data the race detector checks. CI
// (.ci/run) runs them without the detector in a step of their own.
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if Race {
		t.Skip("real-data run skipped under the race detector: .ci/run runs it without (step \"real data without the race detector\")")
	}
}
