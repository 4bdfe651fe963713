package affinity_test

import (
	"os"
	"os/exec"
	"path/filepath"
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
	// one go command: every package with its dependencies, one per line;
	// the patterns are those of ./... less the top-level examples, whose
	// dependencies (Beam, chromedp) cost the go command as much as all
	// the rest and are left out below anyway
	args := []string{"list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "."}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || name == "examples" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		if _, err := os.Stat(filepath.Join(name, "go.mod")); err == nil {
			continue // another module, outside ./...
		}
		args = append(args, "./"+name+"/...")
	}
	list, err := exec.Command("go", args...).Output()
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
