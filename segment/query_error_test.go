package segment_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
)

// TestQueryErrorPositions checks that an error in the meaning of a query
// text that parsed — an unknown name, an unusable window or range — is a
// *segment.QueryError giving where it is, wrapping its sentinel, and that
// the same error of an expression built in Go, which has no text, wraps
// the sentinel without one.
func TestQueryErrorPositions(t *testing.T) {
	x := smallIndex(t, 1, 200)
	cases := []struct {
		q, at    string // the query, and the text its error points at
		sentinel error
	}{
		{"frequency >= 1 and\n  affinity(\"Nope\") >= 0.1", `"Nope"`, segment.ErrUnknown},
		{`bought(product("nope"))`, `"nope"`, segment.ErrUnknown},
		{"rfm(\"Nope\") or\r\n\tlifecycle(\"none\")", `"Nope"`, segment.ErrUnknown},
		{`frequency >= 1 and lifecycle("none")`, `"none"`, segment.ErrUnknown},
		{`segment("nope")`, `"nope"`, segment.ErrUnknown},
		{"all and\n\n  recency between 28d and 14d", "28d", segment.ErrInvalid},
		{`active between "2024-12-02" and "2024-01-01"`, `"2024-12-02"`, segment.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			_, err := x.Query(tc.q)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			var qe *segment.QueryError
			require.ErrorAs(t, err, &qe)
			off := strings.Index(tc.q, tc.at)
			require.GreaterOrEqual(t, off, 0)
			line := 1 + strings.Count(tc.q[:off], "\n")
			col := 1 + len([]rune(tc.q[strings.LastIndexByte(tc.q[:off], '\n')+1:off]))
			assert.Equal(t, off, qe.Offset, "offset")
			assert.Equal(t, line, qe.Line, "line")
			assert.Equal(t, col, qe.Column, "column")
			assert.Contains(t, err.Error(), qe.Msg)
			assert.True(t, strings.HasSuffix(qe.Error(), " at line "+strconv.Itoa(line)+", column "+strconv.Itoa(col)), qe.Error())
		})
	}
	// built in Go: no text, no position
	_, err := x.Eval(segment.Affinity("Nope").GE(0.1))
	require.ErrorIs(t, err, segment.ErrUnknown)
	var qe *segment.QueryError
	assert.False(t, errors.As(err, &qe), "no position without a text: %v", err)
}
