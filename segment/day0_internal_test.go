package segment

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDecodeChecksFirstDay: the daily activity bitmaps start on day0, a
// Unix day read from the file; their days lie between 1970 and the as-of
// day. A file whose day0 puts them elsewhere is corrupt: a query's dates
// less day0 overflowed for a day0 near the int64 limits and answered
// active(...) from the wrong days.
func TestDecodeChecksFirstDay(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	x, err := Build(ctx, oneProductHistory(t, t0, "a", "b"), t0.Add(48*time.Hour), Options{})
	require.NoError(t, err)
	require.Len(t, x.daily, 1)
	day, last := x.day0, floorDiv(x.asOf, secondsPerDay)
	require.Less(t, day, last)
	for _, tc := range []struct {
		name  string
		day0  int64
		valid bool
	}{
		{"as built", day, true},
		{"on the as-of day", last, true},
		{"after the as-of day", last + 1, false},
		{"before 1970", -1, false},
		{"the lowest int64", math.MinInt64, false},
		{"the highest int64", math.MaxInt64, false},
	} {
		y := x.shallowCopy()
		y.day0 = tc.day0
		var buf bytes.Buffer
		_, err := y.WriteTo(&buf)
		require.NoError(t, err)
		z, err := ReadIndex(bytes.NewReader(buf.Bytes()))
		if !tc.valid {
			require.ErrorIs(t, err, ErrCorrupt, tc.name)
			require.ErrorContains(t, err, "first day", tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.day0, z.day0, tc.name)
	}

	// without daily bitmaps, day0 is 0 as Build leaves it
	for _, day0 := range []int64{0, 5} {
		y := x.shallowCopy()
		y.daily, y.day0 = nil, day0
		var buf bytes.Buffer
		_, err = y.WriteTo(&buf)
		require.NoError(t, err)
		_, err = ReadIndex(bytes.NewReader(buf.Bytes()))
		if day0 == 0 {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, ErrCorrupt)
		}
	}
}
