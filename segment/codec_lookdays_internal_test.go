package segment

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestDecodeLookDaysOfAnEarlierCalendar: an index saved as of a month end
// by a version whose calendar months rolled the day over (Months(1)
// before 2024-03-31 started on 03-02, two days later than the clamped
// 02-29) stores a look-back two days shorter than its options now span.
// ReadIndex refuses it with an error that says so, not "invalid options:
// <nil>".
func TestDecodeLookDaysOfAnEarlierCalendar(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "p", Order: "o", Time: asOf.Add(-time.Hour), Quantity: 1, Price: 10000}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	x, err := Build(ctx, h, asOf, Options{Lookback: affinity.Months(1)})
	require.NoError(t, err)
	require.Equal(t, 31, x.lookDays, "2024-02-29 to 03-31")

	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	_, err = ReadIndex(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err, "the index as written now")

	y := x.shallowCopy()
	y.lookDays = 29 // from 03-02, as AddDate had it
	buf.Reset()
	_, err = y.WriteTo(&buf)
	require.NoError(t, err)
	_, err = ReadIndex(bytes.NewReader(buf.Bytes()))
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "a look-back of 29 days where 1 month before 2024-03-31 spans 31")
	require.ErrorContains(t, err, "build it again")
}
