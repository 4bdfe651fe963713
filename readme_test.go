package affinity_test

import (
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeSnippets keeps every Go snippet of README.md compiling and
// running: each must stand, line for line, in a test file between the
// comments "// README: <title>" and "// README: end", inside an Example
// function (indentation aside). A plain block right after a snippet is
// what it prints: the output its Example checks.
func TestReadmeSnippets(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```(?:\\s*```\n(.*?)```)?").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks, "README.md has Go snippets")

	regions := map[string]string{} // normalized text → file
	outputs := map[string]string{} // normalized text → its Example's output
	fset := token.NewFileSet()
	start := regexp.MustCompile(`(?m)^\s*// README: (.+)$`)
	eachTestFile(t, func(path string, src []byte) error {
		var examples []*doc.Example
		if start.Match(src) {
			f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
			if err != nil {
				return err
			}
			examples = doc.Examples(f)
		}
		lines := strings.Split(string(src), "\n")
		for i := 0; i < len(lines); i++ {
			m := start.FindStringSubmatch(lines[i])
			if m == nil || m[1] == "end" {
				continue
			}
			first := i + 1 // the region's first line, 0-based
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "// README: end"; i++ {
				body = append(body, lines[i])
			}
			text := normalize(strings.Join(body, "\n"))
			regions[text] = path
			for _, ex := range examples {
				if lo, hi := fset.Position(ex.Code.Pos()).Line, fset.Position(ex.Code.End()).Line; lo <= first && first < hi {
					outputs[text] = ex.Output
				}
			}
		}
		return nil
	})
	shown := 0
	for _, b := range blocks {
		snippet := normalize(b[1])
		_, ok := regions[snippet]
		assert.True(t, ok, "README snippet not found in any Example between // README: markers:\n%s", b[1])
		if ok && b[2] != "" {
			shown++
			assert.Equal(t, strings.TrimSpace(outputs[snippet]), strings.TrimSpace(b[2]),
				"the output the README shows after the snippet is not what its Example (in %s) checks:\n%s", regions[snippet], b[1])
		}
	}
	assert.Positive(t, shown, "README shows a snippet's output")
}

// normalize drops each line's leading tabs and the blank lines at the ends.
func normalize(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// eachTestFile calls f with the path and text of every test file of the
// repository (hidden and testdata directories left out), and fails the
// test on any error.
func eachTestFile(t *testing.T, f func(path string, src []byte) error) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
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
		return f(path, src)
	})
	require.NoError(t, err)
}

// TestReadmeTestCounts keeps the README's reliability rows that count
// tests ("(a_test.go, b_test.go) | 16 tests |") equal to the Test
// functions those files hold.
func TestReadmeTestCounts(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	rows := regexp.MustCompile(`\(([^()]*_test\.go)\) \| (\d+) tests \|`).FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, rows, "README rows that count tests")
	test := regexp.MustCompile(`(?m)^func Test`)
	for _, row := range rows {
		n := 0
		for _, pattern := range strings.Split(row[1], ", ") {
			paths, err := filepath.Glob(filepath.FromSlash(pattern))
			require.NoError(t, err)
			require.NotEmpty(t, paths, "the README names %s", pattern)
			for _, path := range paths {
				src, err := os.ReadFile(path)
				require.NoError(t, err)
				n += len(test.FindAll(src, -1))
			}
		}
		assert.Equal(t, row[2], strconv.Itoa(n), "README counts %s tests in %s", row[2], row[1])
	}
}
