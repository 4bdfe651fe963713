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
	list, err := exec.Command("go", "list", "./...").Output()
	require.NoError(t, err)
	var pkgs []string
	for _, p := range strings.Fields(string(list)) {
		if !strings.Contains(p, "/examples/") {
			pkgs = append(pkgs, p)
		}
	}
	require.NotEmpty(t, pkgs)
	deps, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
	require.NoError(t, err)
	for _, forbidden := range []string{"github.com/jackc/pgx", "github.com/chromedp", "github.com/duckdb", "github.com/apache/beam"} {
		assert.NotContains(t, string(deps), forbidden, "a library package pulls %s", forbidden)
	}
}
