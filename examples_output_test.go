package affinity_test

import (
	"go/token"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExamplesCheckTheirOutput: an Example whose body has an output
// comment is run and checked by go test. The comment must begin its
// comment group: a comment directly above it ("// README: end" was one)
// makes the group another comment, so the Example is only compiled, and
// what it prints (and the README quotes) goes stale unseen.
func TestExamplesCheckTheirOutput(t *testing.T) {
	output := regexp.MustCompile(`(?m)^\s*// (Unordered output|Output):`)
	checked := 0
	eachTestFile(t, func(fset *token.FileSet, tf testFile) error {
		examples, err := tf.examples()
		if err != nil {
			return err
		}
		for _, ex := range examples {
			body := tf.src[fset.Position(ex.Code.Pos()).Offset:fset.Position(ex.Code.End()).Offset]
			if !output.Match(body) {
				continue
			}
			checked++
			if ex.Output == "" && !ex.EmptyOutput {
				t.Errorf("%s: Example%s has an output comment that go test does not see: it does not begin its comment group (a comment directly above it?), so the example is only compiled, never run",
					fset.Position(ex.Code.Pos()), ex.Name)
			}
		}
		return nil
	})
	require.Greater(t, checked, 50, "examples with output found")
}
