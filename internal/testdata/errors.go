package testdata

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ErrorCase is one bad call of a table of them: Call returns its error,
// which must match each of Is with errors.Is and, when As is not nil (a
// pointer to an error type), errors.As, and whose message must contain
// Text (the context the call puts before its cause, say).
type ErrorCase struct {
	Name string
	Call func() error
	Is   []error
	As   any
	Text string
}

// packagePrefixes are the prefixes of the affinity packages' messages
// ("query:": segment/query's syntax errors).
var packagePrefixes = []string{"affinity:", "beam:", "campaign:", "clv:", "dataset:", "evaluate:", "pipeline:", "query:", "recommend:", "segment:", "shop:", "similarity:"}

// CheckErrors runs each case as a subtest: its error must begin with
// prefix (such as "segment: "), match what the case asks, and name each
// package and say "invalid" at most once (STYLE.md: package-prefixed
// once).
func CheckErrors(t *testing.T, prefix string, cases []ErrorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			err := c.Call()
			require.Error(t, err)
			for _, target := range c.Is {
				assert.ErrorIs(t, err, target)
			}
			if c.As != nil {
				assert.ErrorAs(t, err, c.As)
			}
			msg := err.Error()
			assert.Contains(t, msg, c.Text)
			assert.True(t, strings.HasPrefix(msg, prefix), "%q does not begin with %q", msg, prefix)
			for _, word := range append(packagePrefixes, "invalid") {
				assert.LessOrEqual(t, strings.Count(msg, word), 1, "%q repeated in %q", word, msg)
			}
		})
	}
}
