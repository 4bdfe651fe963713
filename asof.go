package affinity

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// ErrNoAsOf is returned (wrapped) by every build function of the affinity
// packages when it is given the zero as-of time. There is no hidden
// "latest": a caller that wants the end of its data passes
// [History.Latest].
var ErrNoAsOf = errors.New("affinity: as-of time required")

// CheckAsOf returns an error when asOf is the zero time, and nil
// otherwise: "pkg: as-of time required (…)", prefixed with pkg (such as
// "segment") once, matching [ErrNoAsOf] and each of also (a package's own
// sentinel, such as segment.ErrInvalid) with errors.Is. Build functions
// call it first.
func CheckAsOf(pkg string, asOf time.Time, also ...error) error {
	if asOf.IsZero() {
		return pkgerr.New(pkg+": as-of time required (pass an explicit time, such as History.Latest())",
			append([]error{ErrNoAsOf}, also...)...)
	}
	return nil
}

// Latest returns the time of the last order or event in h, in UTC: the
// natural as-of time of a snapshot of the whole history. It is the zero
// time when h has neither. O(1).
func (h *History) Latest() time.Time { return h.latest }

// Lookback is a look-back window ending at an as-of time: Months calendar
// months plus Duration before it. Calendar months follow the calendar, so
// Months(24) before 2012-03-01 starts on 2010-03-01 whatever leap days lie
// between, where 730 days would not. A day the month does not have is
// clamped to the month's last day, at the same time of day, as SQL's
// interval arithmetic has it (PostgreSQL's and DuckDB's
// ts - interval 'N months'), not rolled over into the next month as
// time.Time.AddDate would: Months(1) before 2024-03-31 starts on
// 2024-02-29, and Months(24) before 2024-02-29 on 2022-02-28.
// They follow the UTC calendar, as the History stores times: the same
// instant gives the same window whatever the time zone of the time.Time
// that holds it.
//
// The zero Lookback means the documented default of the option that holds
// it; [AllTime] means no bound. Negative fields are invalid: see
// [Lookback.Validate].
type Lookback struct {
	// Months is the number of calendar months.
	Months int
	// Duration is added to Months; whole days are the usual unit.
	Duration time.Duration
	// All means no bound: everything up to the as-of time.
	All bool
}

// AllTime is the Lookback without bound.
var AllTime = Lookback{All: true}

// Months returns the Lookback of n calendar months.
func Months(n int) Lookback { return Lookback{Months: n} }

// Days returns the Lookback of n days of 24 hours. A time.Duration holds
// at most 106,751 days (about 292 years, twice the span of any History);
// a longer n gives that longest Duration, not one wrapped round (and a
// more negative n the most negative, which Validate refuses as any
// negative look-back).
func Days(n int) Lookback {
	const maxDays = int(math.MaxInt64 / int64(24*time.Hour))
	switch {
	case n > maxDays:
		return Lookback{Duration: math.MaxInt64}
	case n < -maxDays:
		return Lookback{Duration: math.MinInt64}
	}
	return Lookback{Duration: time.Duration(n) * 24 * time.Hour}
}

// IsZero reports whether l is the zero Lookback, which means "the default".
func (l Lookback) IsZero() bool { return l == Lookback{} }

// Validate returns an error wrapping [ErrInvalid] for negative fields, for
// All combined with a bound, or for more than 120,000 Months (10,000
// years: the calendar arithmetic of Start stays exact below). Its message
// names the look-back, not a record: "affinity: invalid look-back -1
// months: negative".
func (l Lookback) Validate() error {
	switch {
	case l.Months < 0 || l.Duration < 0:
		return invalidLookback{l, "negative"}
	case l.All && (l.Months != 0 || l.Duration != 0):
		return invalidLookback{l, "both unbounded and bounded"}
	case l.Months > 12*10_000:
		return invalidLookback{l, "beyond 120,000 months (10,000 years)"}
	}
	return nil
}

// invalidLookback is the error of [Lookback.Validate]: an option out of
// range rather than a record, but matching [ErrInvalid] as before.
type invalidLookback struct {
	l      Lookback
	reason string
}

func (e invalidLookback) Error() string {
	return fmt.Sprintf("affinity: invalid look-back %v: %s", e.l, e.reason)
}

func (e invalidLookback) Unwrap() error { return ErrInvalid }

// Or returns l, or def when l is zero.
func (l Lookback) Or(def Lookback) Lookback {
	if l.IsZero() {
		return def
	}
	return l
}

// Start returns the start of the window (Start, asOf], in UTC: asOf minus
// Months calendar months of the UTC calendar (the day clamped to the last
// of the month, see [Lookback]) minus Duration, or the zero time for
// [AllTime]. The zero Lookback starts at asOf itself (an empty window);
// resolve defaults with [Lookback.Or] first.
func (l Lookback) Start(asOf time.Time) time.Time {
	if l.All {
		return time.Time{}
	}
	return monthsBefore(asOf, l.Months).Add(-l.Duration)
}

// monthsBefore returns t minus n calendar months of the UTC calendar, in
// UTC: the same time of day, on t's day of the month or the target month's
// last day when it has fewer days, as SQL's ts - interval 'n months'
// (time.Time.AddDate would roll over into the next month instead).
func monthsBefore(t time.Time, n int) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	// day 0 of the month after the target month is the target's last day
	last := time.Date(y, m-time.Month(n)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	h, mi, s := t.Clock()
	return time.Date(y, m-time.Month(n), min(d, last), h, mi, s, t.Nanosecond(), time.UTC)
}

// Contains reports whether t lies in the window (Start(asOf), asOf].
func (l Lookback) Contains(asOf, t time.Time) bool {
	if t.After(asOf) {
		return false
	}
	return l.All || t.After(l.Start(asOf))
}

// String formats l as "24 months", "30 days", "1 month 12h0m0s" or "all".
func (l Lookback) String() string {
	switch {
	case l.All:
		return "all"
	case l.IsZero():
		return "default"
	}
	s := ""
	if l.Months != 0 {
		s = fmt.Sprintf("%d month", l.Months)
		if l.Months != 1 {
			s += "s"
		}
	}
	if l.Duration != 0 {
		if s != "" {
			s += " "
		}
		day := 24 * time.Hour
		if l.Duration%day == 0 {
			n := int(l.Duration / day)
			s += fmt.Sprintf("%d day", n)
			if n != 1 {
				s += "s"
			}
		} else {
			s += l.Duration.String()
		}
	}
	return s
}

// Progress is one report of a long step (load, build, count, fit,
// evaluate): Done of Total units of Step, such as bytes read or customers
// built. Total is 0 when unknown. A step reports its start first (Done 0)
// and its end last (Done == Total): the first report of a step is its
// start even when Done == Total == 0 (a size not known yet, or nothing to
// do), and a later report with Done == Total is its end.
type Progress struct {
	// Step names the step, such as "load", "history", "segment",
	// "count", "neighbours", "engine", "clv" or "evaluate".
	Step string
	// Done and Total count the step's units; Unit names them ("bytes",
	// "lines", "customers", "products").
	Done, Total int64
	Unit        string
}

// ProgressFunc receives [Progress] reports. The packages call it a few
// times a second at most, and never while holding a lock a request needs;
// it must return quickly. A build calls it from one goroutine at a time;
// a shop's refresh also reports the steps it runs in the background (a
// segment index, a model fit) from their own goroutines, so a callback
// given to shop.Options must be safe for concurrent use. A callback that
// panics makes the call that reported panic on the caller's goroutine
// (when it reported from a worker, once the other workers have stopped),
// or, for work in the background, fail with that panic as its error: it
// never ends the process from a goroutine of the packages. A nil
// ProgressFunc is never called.
type ProgressFunc func(Progress)

// Report calls f with p when f is not nil.
func (f ProgressFunc) Report(p Progress) {
	if f != nil {
		f(p)
	}
}
