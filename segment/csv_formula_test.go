package segment_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// TestWriteCSVGuardsFormulas: a customer key or RFM segment name that a
// spreadsheet would run as a formula is written with an apostrophe
// before it; a plain key and a negative monetary value are written as
// they are.
func TestWriteCSVGuardsFormulas(t *testing.T) {
	cells := map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+1":                       "'+1+1",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tx":                        "'\tx",
		"plain":                      "plain",
	}
	b := affinity.NewBuilder(nil)
	at := testAsOf.Add(-48 * time.Hour)
	for k := range cells {
		require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: "p1", Order: "o" + k, Time: at, Quantity: 1, Price: 10000}))
	}
	require.NoError(t, b.Add(affinity.Purchase{Customer: "plain", Product: "p1", Order: "ret", Time: at.Add(time.Hour), Quantity: -3, Price: 10000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{RFMRules: []segment.RFMRule{{Name: "@everyone"}}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(&buf, x.All()))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(cells))
	negative, named := false, 0
	for i, row := range rows[1:] {
		c := affinity.CustomerID(i) // every customer is known: id order
		f, ok := x.Features(c)
		require.True(t, ok)
		assert.Equal(t, cells[h.CustomerKey(c)], row[0], "customer %q", h.CustomerKey(c))
		assert.Equal(t, f.Monetary.String(), row[4], "monetary of %q as it is", h.CustomerKey(c))
		negative = negative || f.Monetary < 0
		if f.RFM != "" {
			assert.Equal(t, "'@everyone", row[9], "the configured RFM name of %q", h.CustomerKey(c))
			named++
		}
	}
	assert.True(t, negative, "a negative monetary value is among the rows")
	assert.Positive(t, named, "some customer is in the configured RFM segment")
}
