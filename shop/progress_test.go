package shop

import (
	"os"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
)

func TestProgressLine(t *testing.T) {
	assert.Equal(t, "load        50.0% of 2.0 MB", progressLine(affinity.Progress{Step: "load", Done: 1e6, Total: 2e6, Unit: "bytes"}))
	assert.Equal(t, "segment    10/20 customers", progressLine(affinity.Progress{Step: "segment", Done: 10, Total: 20, Unit: "customers"}))
	assert.Equal(t, "load       7 rows", progressLine(affinity.Progress{Step: "load", Done: 7, Unit: "rows"}))
}

func TestTerminalProgressSilentOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	assert.NoError(t, err)
	defer f.Close()
	assert.Nil(t, TerminalProgress(f), "a file is not a terminal")
}

// TestStatusLineClearsAfterBuilds: the status line is empty once a build
// is done — after the engine of an Open, and after the segment index that
// a refresh builds in the background once its engine is done.
func TestStatusLineClearsAfterBuilds(t *testing.T) {
	const clear = "\r\033[K"
	var b strings.Builder
	report := statusLine(&b)
	steps := func(names ...string) {
		for _, s := range names {
			report(affinity.Progress{Step: s, Total: 10, Unit: "x"})
			report(affinity.Progress{Step: s, Done: 10, Total: 10, Unit: "x"})
		}
	}
	steps("load", "history", "segment", "count", "neighbours", "engine") // Open
	assert.True(t, strings.HasSuffix(b.String(), clear), "cleared after Open: %q", b.String())
	assert.Contains(t, b.String(), "segment    10/10 x")
	b.Reset()
	steps("load", "history", "count", "neighbours", "engine") // a refresh
	assert.True(t, strings.HasSuffix(b.String(), clear), "cleared after the refresh: %q", b.String())
	b.Reset()
	report(affinity.Progress{Step: "segment", Total: 10, Unit: "x"}) // its index, in the background
	report(affinity.Progress{Step: "segment", Done: 10, Total: 10, Unit: "x"})
	assert.True(t, strings.HasSuffix(b.String(), clear), "cleared after the index: %q", b.String())
}
