package segment_test

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestMain runs the quick suite with the garbage collector set to collect
// less often: the tests allocate many short-lived indexes and Histories,
// and with the default GOGC the collector takes a quarter of the quick
// suite's CPU time. The checks are the same; TotalAlloc-based allocation
// tests do not depend on it. The long suite runs with the default (or the
// GOGC of the environment).
func TestMain(m *testing.M) {
	if !testdata.Long() && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(m.Run())
}
