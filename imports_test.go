package affinity_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLibraryImports keeps the drivers and test tools out of what an
// importer of the library compiles: no library package depends, directly
// or not, on pgx, chromedp, DuckDB or Beam (tests and examples may).
func TestLibraryImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// one go command: every package with its dependencies, one per line
	list, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...").Output()
	require.NoError(t, err)
	var deps strings.Builder
	n := 0
	for line := range strings.Lines(string(list)) {
		if p, _, _ := strings.Cut(line, " "); !strings.Contains(p, "/examples/") {
			deps.WriteString(line)
			n++
		}
	}
	require.Positive(t, n)
	for _, forbidden := range []string{"github.com/jackc/pgx", "github.com/chromedp", "github.com/duckdb", "github.com/apache/beam"} {
		assert.NotContains(t, deps.String(), forbidden, "a library package pulls %s", forbidden)
	}
}
