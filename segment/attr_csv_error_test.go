package segment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrLoadMalformedCSVPosition: malformed CSV (a stray quote, a quote
// that closes too early, a row with the wrong number of fields) is an
// error at the line where the record starts, as the dataset loaders give
// it; where encoding/csv stopped is a line and a byte, never a "column",
// which in this package's errors is a field's 1-based position. The
// reader's own message gave its byte offset as "column 9".
func TestAttrLoadMalformedCSVPosition(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Flags: []string{"optin"}, Texts: []string{"email"}}
	for _, c := range []struct {
		name, csv string
		want      []string
	}{
		{"bare quote", "customer,optin,email\nc000,1,a@b\nc001,1,an\"n@b\n", []string{"line 3:", "bare", "(line 3, byte 10)"}},
		{"extraneous quote", "customer,optin,email\nc000,\"1\"x,a@b\n", []string{"line 2:", "extraneous", "(line 2, byte 8)"}},
		{"over lines", "customer,optin,email\nc000,1,\"a\nb\"c\n", []string{"line 2:", "(line 3, byte 2)"}},
		{"field count", "customer,optin,email\nc000,1\n", []string{"line 2:", "2 fields, the header has 3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, _, err := segment.LoadAttributes(strings.NewReader(c.csv), x, o)
			require.Error(t, err)
			assert.Nil(t, a)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "column")
			assert.True(t, strings.HasPrefix(err.Error(), "segment: attributes: line "), err.Error())
		})
	}
}
