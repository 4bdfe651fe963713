package affinity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
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
		err := bad.Validate()
		assert.True(t, errors.Is(err, affinity.ErrInvalid), "%+v", bad)
		// an option, not a record: the message says which look-back
		assert.NotContains(t, err.Error(), "record", "%+v", bad)
		assert.Contains(t, err.Error(), "affinity: invalid look-back "+bad.String(), "%+v", bad)
	}
}

// TestLookbackMonthEnds: the month ends of Lookback's doc, and more. A day
// the target month lacks becomes its last day, at the same time of day,
// as in SQL's ts - interval 'N months'; Duration comes off after.
func TestLookbackMonthEnds(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		l          affinity.Lookback
		asOf, want time.Time
	}{
		{"doc: 1 month before March 31", affinity.Months(1), utc(2024, 3, 31, 0, 0), utc(2024, 2, 29, 0, 0)},
		{"doc: 24 months before a leap day", affinity.Months(24), utc(2024, 2, 29, 0, 0), utc(2022, 2, 28, 0, 0)},
		{"non-leap February", affinity.Months(1), utc(2023, 3, 30, 17, 45), utc(2023, 2, 28, 17, 45)},
		{"a 30-day month", affinity.Months(1), utc(2024, 5, 31, 23, 59), utc(2024, 4, 30, 23, 59)},
		{"a day every month has", affinity.Months(1), utc(2024, 3, 28, 6, 0), utc(2024, 2, 28, 6, 0)},
		{"across a year", affinity.Months(10), utc(2024, 12, 31, 0, 0), utc(2024, 2, 29, 0, 0)},
		{"12 months before a leap day", affinity.Months(12), utc(2024, 2, 29, 12, 0), utc(2023, 2, 28, 12, 0)},
		{"48 months before a leap day", affinity.Months(48), utc(2024, 2, 29, 12, 0), utc(2020, 2, 29, 12, 0)},
		{"months, then days", affinity.Lookback{Months: 1, Duration: 24 * time.Hour}, utc(2024, 3, 31, 0, 0), utc(2024, 2, 28, 0, 0)},
		{"the UTC calendar decides", affinity.Months(1), time.Date(2024, 4, 1, 1, 0, 0, 0, time.FixedZone("+02", 2*3600)), utc(2024, 2, 29, 23, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.l.Start(tc.asOf)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want, testdata.MonthsBefore(tc.asOf, tc.l.Months).Add(-tc.l.Duration), "the tests' reference")
			assert.False(t, tc.l.Contains(tc.asOf, tc.want), "the start is excluded")
			assert.True(t, tc.l.Contains(tc.asOf, tc.want.Add(time.Nanosecond)))
		})
	}
}

// TestLookbackStartClampProperty compares Lookback.Start and Contains
// with the tests' reference (testdata.MonthsBefore) on every day of
// 2023–2025 (of the leap year 2024 in the quick suite: its days reach
// back to both kinds of February and every month's end), 0 to 30 months
// back, at times of day and in time zones where the local date and the
// UTC one differ.
func TestLookbackStartClampProperty(t *testing.T) {
	first, end, days := testdata.Scale(2023, 2024), testdata.Scale(2026, 2025), testdata.Scale(1096, 366)
	zones := []*time.Location{time.UTC, time.FixedZone("+14", 14*3600), time.FixedZone("-11", -11*3600), time.FixedZone("+0530", 5*3600+30*60)}
	clocks := []time.Duration{0, 12*time.Hour + 34*time.Minute + 56*time.Second + 789*time.Millisecond, 24*time.Hour - time.Nanosecond}
	n := 0
	for day := time.Date(first, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < end; day = day.AddDate(0, 0, 1) {
		for _, c := range clocks {
			at := day.Add(c)
			for _, z := range zones {
				asOf := at.In(z)
				for months := 0; months <= 30; months++ {
					l := affinity.Lookback{Months: months, Duration: time.Duration(months%3) * 24 * time.Hour}
					want := testdata.MonthsBefore(at, months).Add(-l.Duration)
					got := l.Start(asOf)
					if !got.Equal(want) || got.Location() != time.UTC {
						t.Fatalf("%v before %v: Start %v, want %v", l, asOf, got, want)
					}
					for _, x := range []time.Time{want.Add(-time.Nanosecond), want, want.Add(time.Nanosecond), at, at.Add(time.Nanosecond)} {
						if in := x.After(want) && !x.After(at); l.Contains(asOf, x) != in {
							t.Fatalf("%v before %v: Contains(%v) = %v, want %v", l, asOf, x, !in, in)
						}
					}
					n++
				}
			}
		}
	}
	assert.Equal(t, days*3*4*31, n)
}
