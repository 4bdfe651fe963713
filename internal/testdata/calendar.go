package testdata

import "time"

// MonthsBefore is the tests' reference for the start of a look-back of n
// calendar months ending at t, written apart from affinity.Lookback.Start
// so that the two check each other: the month counted on from year 0 of
// the UTC calendar, the day of t kept unless the target month is shorter,
// then its last day (as PostgreSQL and DuckDB take ts - interval 'n
// months'), the time of day kept. The result is in UTC; n < 0 counts
// forwards.
func MonthsBefore(t time.Time, n int) time.Time {
	t = t.UTC()
	k := t.Year()*12 + int(t.Month()) - 1 - n // months since January of year 0
	y, m := k/12, k%12
	if m < 0 {
		y, m = y-1, m+12
	}
	days := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 1 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return time.Date(y, time.Month(m+1), min(t.Day(), days), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
