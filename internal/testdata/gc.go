package testdata

import (
	"flag"
	"os"
	"runtime/debug"
	"testing"
)

// QuickGCPercent is the GOGC the quick suite runs with ([Main]).
const QuickGCPercent = 400

// Main runs the tests of m, for a package's TestMain, with the garbage
// collector collecting less often in the quick suite: the tests allocate
// many short-lived Histories, indexes and shops, and QuickGCPercent
// saves from a twentieth to a quarter of a package's quick-suite CPU time
// (shop 11 %, dataset 25 %) at up to about 2.7 times the peak memory (shop:
// 200 MB to 540 MB).
// The checks are the same, and allocation tests count
// runtime.MemStats.TotalAlloc, which the collector's pace does not
// change. The long suite (CI, under the race detector), a GOGC set in the
// environment and benchmark runs (-test.bench) keep the runtime's
// setting, so that no benchmark figure depends on it. It returns m.Run's
// exit code.
func Main(m *testing.M) int {
	flag.Parse()
	if !Long() && os.Getenv("GOGC") == "" && !benchmarking() {
		debug.SetGCPercent(QuickGCPercent)
	}
	return m.Run()
}

// benchmarking reports whether the test binary was asked to run
// benchmarks.
func benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}
