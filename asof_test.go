package affinity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAsOf(t *testing.T) {
	err := affinity.CheckAsOf("segment", time.Time{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	assert.Contains(t, err.Error(), "segment: ")
	assert.NoError(t, affinity.CheckAsOf("segment", t0))
}

func TestLatest(t *testing.T) {
	var empty affinity.Builder
	h, err := empty.Build(context.Background())
	require.NoError(t, err)
	assert.True(t, h.Latest().IsZero(), "empty history")

	h = buildPurchases(t,
		affinity.Purchase{Customer: "a", Product: "p", Order: "o1", Time: at(100), Quantity: 1},
		affinity.Purchase{Customer: "b", Product: "p", Order: "o2", Time: at(50), Quantity: 1})
	assert.Equal(t, at(100), h.Latest())

	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "p", Order: "o1", Time: at(100), Quantity: 1}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "a", Product: "p", Time: at(500), Kind: affinity.View, Weight: 1}))
	h, err = b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, at(500), h.Latest(), "a later event moves Latest")
	assert.Equal(t, at(100), h.Summary().Last, "Summary.Last stays the last order")
}

func TestLookback(t *testing.T) {
	asOf := time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		l     affinity.Lookback
		start time.Time
		str   string
	}{
		{"24 months across a leap day", affinity.Months(24), time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC), "24 months"},
		{"730 days loses the leap day", affinity.Days(730), time.Date(2010, 3, 2, 0, 0, 0, 0, time.UTC), "730 days"},
		{"one month", affinity.Months(1), time.Date(2012, 2, 1, 0, 0, 0, 0, time.UTC), "1 month"},
		{"months and hours", affinity.Lookback{Months: 1, Duration: 12 * time.Hour}, time.Date(2012, 1, 31, 12, 0, 0, 0, time.UTC), "1 month 12h0m0s"},
		{"all", affinity.AllTime, time.Time{}, "all"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.l.Validate())
			assert.Equal(t, tc.start, tc.l.Start(asOf))
			assert.Equal(t, tc.str, tc.l.String())
			assert.False(t, tc.l.Contains(asOf, asOf.Add(time.Second)), "after asOf")
			assert.True(t, tc.l.Contains(asOf, asOf), "asOf itself")
			if !tc.l.All {
				assert.False(t, tc.l.Contains(asOf, tc.start), "the start is excluded")
				assert.True(t, tc.l.Contains(asOf, tc.start.Add(time.Second)))
			}
		})
	}
	assert.Equal(t, affinity.Months(24), affinity.Lookback{}.Or(affinity.Months(24)))
	assert.Equal(t, affinity.Days(3), affinity.Days(3).Or(affinity.Months(24)))
	for _, bad := range []affinity.Lookback{{Months: -1}, {Duration: -time.Second}, {All: true, Months: 1}, {Months: 1 << 40}} {
		assert.True(t, errors.Is(bad.Validate(), affinity.ErrInvalid), "%+v", bad)
	}
}
