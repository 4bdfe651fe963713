package segment_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSavedLongAndDeepDefinitions: a named segment built in Go that is
// longer than a query's text limit, or nested deeper than the parser's
// default depth, saves and reads back with the same members. The index
// saved, then refused as corrupt on reading.
func TestSavedLongAndDeepDefinitions(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 50, Categories: 10}).History(ctx)
	require.NoError(t, err)
	x, err := segment.Build(ctx, h, h.Latest(), segment.Options{})
	require.NoError(t, err)
	var xs []segment.Expr
	for i := range 4000 {
		xs = append(xs, segment.Monetary().GE(float64(i)))
	}
	long := segment.Or(xs...)
	require.Greater(t, len(long.String()), 64<<10)
	deep := segment.All()
	for range 301 {
		deep = segment.Not(deep)
	}
	y, err := x.Define("long", long)
	require.NoError(t, err)
	y, err = y.Define("deep", deep)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = y.WriteTo(&buf)
	require.NoError(t, err)
	z, err := segment.ReadIndex(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	for _, name := range []string{"long", "deep"} {
		want, err := y.Query(`segment("` + name + `")`)
		require.NoError(t, err)
		got, err := z.Query(`segment("` + name + `")`)
		require.NoError(t, err)
		assert.Equal(t, want.ToArray(), got.ToArray(), name)
	}
}

// TestScoreRFMNegativeRecency: a customer with orders and the "none"
// recency is an ErrInvalid, not a panic.
func TestScoreRFMNegativeRecency(t *testing.T) {
	fs := []segment.Features{{Frequency: 1, Recency: -1}, {Frequency: 2, Recency: 3}}
	err := segment.ScoreRFM(fs, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	require.ErrorIs(t, err, segment.ErrInvalid)
	// without orders the recency is not read
	fs[0].Frequency = 0
	require.NoError(t, segment.ScoreRFM(fs, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{}))
}

// TestRFMRuleNamesWithSpaces: a rule name with a space at either end is
// refused, since rfm("…") trims the name it looks up and the segment
// could never be queried.
func TestRFMRuleNamesWithSpaces(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 50, Products: 20, Categories: 4}).History(ctx)
	require.NoError(t, err)
	for _, name := range []string{"VIP ", " VIP", "\tVIP"} {
		_, err := segment.Build(ctx, h, h.Latest(), segment.Options{RFMRules: []segment.RFMRule{{Name: name, R: segment.ScoreRange{Min: 1, Max: 5}, F: segment.ScoreRange{Min: 1, Max: 5}, M: segment.ScoreRange{Min: 1, Max: 5}}}})
		require.ErrorIs(t, err, segment.ErrInvalid, "%q", name)
	}
	x, err := segment.Build(ctx, h, h.Latest(), segment.Options{RFMRules: []segment.RFMRule{{Name: "VIP", R: segment.ScoreRange{Min: 1, Max: 5}, F: segment.ScoreRange{Min: 1, Max: 5}, M: segment.ScoreRange{Min: 1, Max: 5}}}})
	require.NoError(t, err)
	vip, err := x.Query(`rfm(" VIP ")`)
	require.NoError(t, err)
	assert.False(t, vip.IsEmpty())
}
