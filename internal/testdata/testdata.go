// Package testdata locates the public datasets the tests read: the folder
// shared/data next to the repository checkout, which is never committed.
// Tests that need it skip, with a message, when it is absent. It also holds
// the switch between the quick and the long test suite ([Long], [Scale]).
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Shared returns the path of rel inside ../shared/data next to the
// repository root (the folder holding go.mod), or the folder itself when
// rel is empty. It skips the test when the repository root or the path
// cannot be found.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Skipf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data %s not available: %v", p, err)
	}
	return p
}
