package pipeline_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/segment"
)

// TestFeaturesCSVGuardsFormulasAsWriteCSV: FeaturesCSV writes a key or
// RFM segment name that a spreadsheet would run as a formula as
// segment.Index.WriteCSV does, byte for byte.
func TestFeaturesCSVGuardsFormulasAsWriteCSV(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b := affinity.NewBuilder(nil)
	for _, k := range []string{`=HYPERLINK("http://x")`, "+1+1", "-2+3", "@SUM(A1)", "\tx", "'=quoted", "plain"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: "p1", Order: "o" + k, Time: at, Quantity: 1, Price: 10000}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, at.AddDate(0, 0, 7), segment.Options{RFMRules: []segment.RFMRule{{Name: "=everyone"}}})
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, x.WriteCSV(&want, x.All()))
	got := pipeline.FeaturesCSV(x.FeaturesOf(x.All()))
	assert.Equal(t, want.String(), string(got))
	assert.Contains(t, string(got), "'=HYPERLINK", "the guard is there")
	assert.Contains(t, string(got), "'=everyone")
}
