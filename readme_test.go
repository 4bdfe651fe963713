package affinity_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeSnippets keeps every Go snippet of README.md compiling and
// running: each must stand, line for line, in a test file between the
// comments "// README: <title>" and "// README: end", inside an Example
// function (indentation aside).
func TestReadmeSnippets(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks, "README.md has Go snippets")

	regions := map[string]string{} // normalized text → file
	start := regexp.MustCompile(`(?m)^\s*// README: (.+)$`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(src), "\n")
		for i := 0; i < len(lines); i++ {
			m := start.FindStringSubmatch(lines[i])
			if m == nil || m[1] == "end" {
				continue
			}
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "// README: end"; i++ {
				body = append(body, lines[i])
			}
			regions[normalize(strings.Join(body, "\n"))] = path
		}
		return nil
	})
	require.NoError(t, err)
	for _, b := range blocks {
		snippet := normalize(b[1])
		_, ok := regions[snippet]
		assert.True(t, ok, "README snippet not found in any Example between // README: markers:\n%s", b[1])
	}
}

// normalize drops each line's leading tabs and the blank lines at the ends.
func normalize(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}
