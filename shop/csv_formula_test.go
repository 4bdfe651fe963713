package shop_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// formulaKeys maps customer keys a spreadsheet would run as formulas, and
// one it would not, to the cell an export writes for each.
var formulaKeys = map[string]string{
	`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
	"+1+1":                       "'+1+1",
	"-2+3":                       "'-2+3",
	"@SUM(A1)":                   "'@SUM(A1)",
	"\tx":                        "'\tx",
	"plain":                      "plain",
}

// formulaLines gives each key of formulaKeys one order of two lines, and
// key "plain" a later return that leaves its spend negative.
func formulaLines() []affinity.Purchase {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var ps []affinity.Purchase
	for i, k := range slices.Sorted(maps.Keys(formulaKeys)) {
		at := t0.Add(time.Duration(i) * time.Hour)
		ps = append(ps,
			affinity.Purchase{Customer: k, Product: "p1", Order: "o" + k, Time: at, Quantity: 1, Price: affinity.Money(10000 * int64(i+1))},
			affinity.Purchase{Customer: k, Product: "p2", Order: "o" + k, Time: at, Quantity: 1, Price: 25000})
	}
	return append(ps, affinity.Purchase{Customer: "plain", Product: "p3", Order: "oret", Time: t0.Add(24 * time.Hour), Quantity: -10, Price: 100000})
}

// TestAudienceCSVGuardsFormulas: a customer key or RFM segment name that a
// spreadsheet would run as a formula is written with an apostrophe
// before it; a plain key and the numbers (a negative spend included) are
// written as they are.
func TestAudienceCSVGuardsFormulas(t *testing.T) {
	ctx := context.Background()
	segOpts := segment.Options{RFMRules: []segment.RFMRule{{Name: "=1+1"}}}
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(formulaLines())), shop.Options{Model: "neighbours", Segment: segOpts})
	require.NoError(t, err)
	defer s.Close()
	aud, err := s.Snapshot().Segment("all")
	require.NoError(t, err)
	for _, order := range []shop.Order{shop.ByKey, shop.BySpend, shop.ByRecency} {
		var buf bytes.Buffer
		require.NoError(t, aud.WriteCSV(&buf, order))
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 1+len(formulaKeys))
		members, err := aud.All(order)
		require.NoError(t, err)
		negative, named := false, 0
		for i, m := range members {
			row := rows[1+i]
			assert.Equal(t, formulaKeys[m.Customer], row[0], "customer %q", m.Customer)
			assert.Equal(t, m.Spend.String(), row[1], "spend of %q as it is", m.Customer)
			negative = negative || m.Spend < 0
			if m.RFM != "" {
				assert.Equal(t, "'=1+1", row[4], "the configured RFM name of %q", m.Customer)
				named++
			}
		}
		assert.True(t, negative, "a negative spend is among the rows, written as is")
		assert.Positive(t, named, "some customer is in the configured RFM segment")
	}
}
