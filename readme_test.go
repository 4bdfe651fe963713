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
	"sync"
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
	start := regexp.MustCompile(`(?m)^\s*// README: (.+)$`)
	eachTestFile(t, func(fset *token.FileSet, tf testFile) error {
		path, src := tf.path, tf.src
		if !start.Match(src) {
			return nil // no line of the file can match start either
		}
		examples, err := tf.examples()
		if err != nil {
			return err
		}
		lines := strings.Split(string(src), "\n")
		for i := 0; i < len(lines); i++ {
			if !strings.Contains(lines[i], "// README: ") {
				continue // what start matches contains it
			}
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

// testFile is a test file of the repository as [repoTestFiles] read it.
type testFile struct {
	path string
	src  []byte
	// examples parses the file with its comments into the file set of
	// repoTestFiles, on the first call, and returns doc.Examples of the
	// file alone, or the error that parsing it gave.
	examples func() ([]*doc.Example, error)
}

// testFiles is what [repoTestFiles] read: the files, the file set that
// positions their trees, and the error that ended the walk, if any (the
// files read before it are kept).
type testFiles struct {
	fset  *token.FileSet
	files []testFile
	err   error
}

// repoTestFiles reads every test file of the repository (hidden and
// testdata directories left out) once, in walk order, for the tests that
// read the sources (README snippets, examples, documentation); each file
// is parsed once, by the first test that asks. The files, trees and
// examples are shared: the tests only read them (doc.Examples leaves its
// files as they were).
var repoTestFiles = sync.OnceValue(func() *testFiles {
	r := &testFiles{fset: token.NewFileSet()}
	r.err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
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
		r.files = append(r.files, testFile{path: path, src: src, examples: sync.OnceValues(func() ([]*doc.Example, error) {
			f, err := parser.ParseFile(r.fset, path, src, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			return doc.Examples(f), nil
		})})
		return nil
	})
	return r
})

// eachTestFile calls f with every test file of the repository
// ([repoTestFiles]) and the file set that positions their trees, and
// fails the test on any error, f's or the walk's.
func eachTestFile(t *testing.T, f func(fset *token.FileSet, tf testFile) error) {
	t.Helper()
	r := repoTestFiles()
	for _, tf := range r.files {
		require.NoError(t, f(r.fset, tf))
	}
	require.NoError(t, r.err)
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
