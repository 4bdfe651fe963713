package shop

import (
	"os"
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
