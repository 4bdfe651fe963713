package csvtext_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/internal/csvtext"
)

func TestCellGuardsFormulas(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\r=1", "'\r=1"},
		{"＝1+1", "'＝1+1"},
		{"'=1", "''=1"},
		{"''+1", "'''+1"},
		{"plain", "plain"},
		{"a=b", "a=b"},
		{"'quoted", "'quoted"},
		{"'", "'"},
		{"", ""},
		{"12.50", "12.50"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, csvtext.Cell(tc.in))
			assert.Equal(t, tc.in, csvtext.Text(csvtext.Cell(tc.in)), "Text undoes Cell")
		})
	}
}
