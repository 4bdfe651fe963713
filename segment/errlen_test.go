package segment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorsQuoteLongNamesShort: an error about an attribute whose
// argument is a long name quotes 60 characters of it, as every other
// error quotes input; two paths quoted it whole (5,000 characters).
func TestErrorsQuoteLongNamesShort(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("x", 5000) // a category of the shop
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{long}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o", Quantity: 1, Price: 10000,
		Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	x, err := segment.Build(ctx, h, h.Latest(), segment.Options{})
	require.NoError(t, err)
	for _, q := range []string{
		`affinity("` + long + `") soon`,                // no comparison after it
		`affinity("` + long + `") between 0.5 and 0.3`, // an empty range
	} {
		_, err := x.Query(q)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 400, "%.200s", err.Error())
		assert.Contains(t, err.Error(), "…")
	}
}

// TestUnknownTargetIsAQueryError: a bare target that is neither a
// category nor a product is a *QueryError itself, as Index.Query's doc
// says of unknown names, with its position; it was wrapped in another
// error, so that only errors.As found it.
func TestUnknownTargetIsAQueryError(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"Home"}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o", Quantity: 1, Price: 10000,
		Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	x, err := segment.Build(ctx, h, h.Latest(), segment.Options{})
	require.NoError(t, err)
	_, err = x.Query(`bought("nope")`)
	qe, ok := err.(*segment.QueryError)
	require.True(t, ok, "%T: %v", err, err)
	assert.ErrorIs(t, err, segment.ErrUnknown)
	assert.Equal(t, 1, qe.Line)
	assert.Equal(t, 8, qe.Column)
	assert.Contains(t, err.Error(), "nor a product")
}

// TestErrorsQuoteLongValuesShort: an empty range between numbers of
// hundreds of digits quotes 60 characters of each; the message held both
// whole (385 characters for a 300-digit bound).
func TestErrorsQuoteLongValuesShort(t *testing.T) {
	x := tinyIndex(t)
	big := "1" + strings.Repeat("0", 300)
	for _, q := range []string{
		`monetary between ` + big + ` and 5`,
		`monetary between -` + big + ` and -` + big + `0`,
	} {
		_, err := x.Query(q)
		require.ErrorIs(t, err, segment.ErrInvalid, q)
		assert.Contains(t, err.Error(), "empty range")
		assert.Less(t, len(err.Error()), 260, "%.400s", err.Error())
		assert.Contains(t, err.Error(), "…")
	}
}
