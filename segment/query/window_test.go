package query_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment/query"
)

// A window of a whole number of days, weeks, months or years is too long
// from 65,536 days on, however many digits it has; a fraction is not a
// whole number.
func TestWindowLength(t *testing.T) {
	syn := query.NewSyntax()
	for _, c := range []struct {
		window string
		days   int // accepted length, 0 when refused
		msg    string
	}{
		{"65535d", 65535, ""},
		{"9362w", 65534, ""},
		{"179y", 65335, ""},
		{"65536d", 0, "too long"},
		{"9363w", 0, "too long"},
		{"2185m", 0, "too long"},
		{"200y", 0, "too long"},
		{"4294967296d", 0, "too long"},
		{"99999999999d", 0, "too long"},
		{"99999999999999999999999999y", 0, "too long"},
		{"1.5d", 0, "whole number"},
	} {
		for _, src := range []string{`bought("x" within ` + c.window + `)`, `abandoned(within ` + c.window + `)`} {
			e, err := syn.Parse(src)
			if c.days > 0 {
				require.NoError(t, err, src)
				var got time.Duration
				switch e := e.(type) {
				case query.Activity:
					got = e.Window
				case *query.Abandoned:
					got = e.Window
				}
				assert.Equal(t, time.Duration(c.days)*24*time.Hour, got, src)
				continue
			}
			var se *query.SyntaxError
			require.True(t, errors.As(err, &se), "%s: %v", src, err)
			assert.Contains(t, se.Msg, c.msg, src)
			assert.Equal(t, len(src)-len(c.window)-1, se.Offset, src)
		}
	}
}
