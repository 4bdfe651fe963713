package dataset_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestCDNOWWidthFromFirstGoodRow: the width of a CDNOW file (4 fields in
// the master file, 5 in the sample) is that of its first row that loads,
// so a bad first line of the other width (a title, a header) costs that
// line alone in a lenient load, not every row after it.
func TestCDNOWWidthFromFirstGoodRow(t *testing.T) {
	cases := []struct{ name, data string }{
		{"header of 5 words", "id customer date cds dollars\n00001 19970101 1 11.77\n00002 19970112 2 12.00\n00003 19970113 1 1.00 x\n"},
		{"bad sample row", "00001 1 1997010X 1 11.77\n00001 19970101 1 11.77\n00002 19970112 2 12.00\n00003 19970113 1 1.00 x\n"},
		{"bad master row", "00001 1997010X 1 11.77\n00001 1 19970101 1 11.77\n00002 2 19970112 2 12.00\n00003 19970113 1 1.00\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, rep := loadString(t, c.data, dataset.Options{Format: "cdnow", Lenient: true})
			assert.Equal(t, 4, rep.Rows)
			assert.Equal(t, 2, rep.Loaded)
			assert.Equal(t, 2, h.NumOrders())
			require.Len(t, rep.Skipped, 2, "%v", rep)
			assert.Equal(t, dataset.Skip{Reason: "invalid time", Count: 1, FirstLine: 1}, rep.Skipped[0])
			assert.Equal(t, dataset.Skip{Reason: "wrong field count", Count: 1, FirstLine: 4}, rep.Skipped[1])
		})
	}
}
