package clv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
)

// Sentinel errors. Functions wrap them with the details.
var (
	// ErrInvalid reports an option or an input row the models cannot use,
	// for example a negative frequency or a recency beyond T.
	ErrInvalid = errors.New("clv: invalid input")
	// ErrNoData reports that there is nothing to fit: no rows, or (for
	// Gamma-Gamma) no customer with a repeat purchase and a positive value.
	ErrNoData = errors.New("clv: not enough data")
	// ErrNotConverged reports that maximum likelihood estimation stopped
	// before reaching an optimum; the wrapping error gives the reason.
	ErrNotConverged = errors.New("clv: fit did not converge")
)

// Unit is the time unit of the models' recency, T and horizons.
type Unit uint8

const (
	// Week is seven days, the unit of the BG/NBD papers; the default.
	Week Unit = iota
	// Day is 24 hours.
	Day
)

// Duration returns the length of one unit.
func (u Unit) Duration() time.Duration {
	if u == Day {
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// Of returns d measured in units of u, e.g. Week.Of(14*24*time.Hour) == 2.
func (u Unit) Of(d time.Duration) float64 { return d.Seconds() / u.Duration().Seconds() }

// String returns "week" or "day".
func (u Unit) String() string {
	switch u {
	case Week:
		return "week"
	case Day:
		return "day"
	}
	return fmt.Sprintf("Unit(%d)", uint8(u))
}

// ParseUnit returns the Unit named s ("week", "weeks", "day" or "days").
func ParseUnit(s string) (Unit, error) {
	switch s {
	case "week", "weeks":
		return Week, nil
	case "day", "days":
		return Day, nil
	}
	return 0, fmt.Errorf("%w: unknown unit %q (want week or day)", ErrInvalid, s)
}

// RFT is one customer's row of the summary table the BG/NBD and
// Gamma-Gamma models are fitted on (frequency, recency, T and mean value,
// as in Fader, Hardie & Lee 2005). Times are in the model's [Unit].
type RFT struct {
	// Frequency x is the number of repeat transactions in the calibration
	// period: transactions − 1, so 0 for a one-time buyer. It is a count,
	// a whole number ≥ 0: the functions that take rows return an error
	// wrapping [ErrInvalid] for any other value (a fraction below 1
	// would make the BG/NBD dropout odds negative).
	Frequency float64
	// Recency tₓ is the time from the first to the last calibration
	// transaction; 0 when Frequency is 0. 0 ≤ Recency ≤ T.
	Recency float64
	// T is the time from the first transaction to the end of calibration.
	T float64
	// MeanValue is the mean value of the repeat transactions (the first
	// one excluded, as in the Gamma-Gamma papers), in currency units; 0
	// when Frequency is 0 (the Gamma-Gamma model ignores it then). Where a
	// spend model uses it ([Score] and [CLV] with one, [FitGammaGamma]) it
	// must not be NaN or infinite.
	MeanValue float64
}

// Sort orders the rows by frequency, recency, T and mean value, and
// Customers, Spend and Holdout with them. A fit sums its rows in the
// order given, and floating-point sums depend on their order: where the
// likelihood is nearly flat, that can decide whether a fit converges. The
// same customers sorted give the same fit however a History numbers them
// (one refreshed with a new customer and one built anew); rows that tie
// are equal, so their order does not matter. It takes O(n log n).
func (s *Summary) Sort() {
	n := len(s.Rows)
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortStableFunc(perm, func(a, b int32) int { return compareRFT(s.Rows[a], s.Rows[b]) })
	s.Rows = permute(s.Rows, perm)
	if len(s.Customers) == n {
		s.Customers = permute(s.Customers, perm)
	}
	if len(s.Spend) == n {
		s.Spend = permute(s.Spend, perm)
	}
	if len(s.Holdout) == n {
		s.Holdout = permute(s.Holdout, perm)
	}
}

// permute returns the elements of v in the order perm gives.
func permute[T any](v []T, perm []int32) []T {
	out := make([]T, len(v))
	for i, p := range perm {
		out[i] = v[p]
	}
	return out
}

// SummaryOptions configures [Summarize].
type SummaryOptions struct {
	// HoldoutEnd, when after the as-of time, also counts each customer's
	// transactions in (asOf, HoldoutEnd] into [Summary.Holdout],
	// to check predictions against. Zero means no holdout.
	HoldoutEnd time.Time
	// Unit is the time unit of Recency and T; the zero value is Week.
	Unit Unit
}

// Summary is the per-customer summary table of a History: one [RFT] row
// per customer whose first purchase is at or before the calibration end,
// in ascending customer id order. All slices are aligned and owned by the
// caller.
type Summary struct {
	// Customers holds the dense customer id of each row.
	Customers []affinity.CustomerID
	// Rows holds the model input of each customer.
	Rows []RFT
	// Spend is each customer's net spend in the calibration period, in
	// currency units: the value of all their orders at or before the
	// calibration end, returns subtracted.
	Spend []float64
	// Holdout is each customer's number of transactions in the holdout
	// period; nil without [SummaryOptions.HoldoutEnd].
	Holdout []int
	// HoldoutLength is the length of the holdout period in Unit.
	HoldoutLength float64
	// CalibrationEnd is the as-of time given to Summarize; Unit repeats
	// the option.
	CalibrationEnd time.Time
	Unit           Unit
}

// Summarize builds the summary table of h as of asOf, the end of the
// calibration period: transactions at or before it are calibration data,
// and T is measured up to it. For data with dates only (stored at midnight
// UTC), the date itself is the last calibration day: asOf 1997-09-30 gives
// a customer who first bought on 1997-01-01 a T of 272 days (38.86 weeks),
// the convention of the published CDNOW fits.
//
// A transaction is an order with at least one bought (positive quantity)
// line; orders holding only returns are not transactions, but their value
// still counts in Spend. An order's value is its net value (returns in the
// same order subtracted). Lines without an order id at the same second are
// one order already (see [affinity.Purchase]), so the lines of a
// date-only file such as CDNOW merge into one transaction per customer and
// day. Frequency counts the calibration transactions after the first,
// Recency is the time from the first to the last of them and T the time
// from the first to asOf, in opts.Unit.
//
// Customers with no transaction at or before asOf get no row.
// It takes time linear in the number of lines and returns ctx.Err() if ctx
// is done first; an error wrapping both [ErrInvalid] and
// [affinity.ErrNoAsOf] when asOf is zero, and [ErrInvalid] when the unit is
// unknown.
func Summarize(ctx context.Context, h *affinity.History, asOf time.Time, opts SummaryOptions) (*Summary, error) {
	if err := checkArgs(ctx, missing(h == nil, "history")...); err != nil {
		return nil, err
	}
	if err := affinity.CheckAsOf("clv", asOf, ErrInvalid); err != nil {
		return nil, err
	}
	if opts.Unit > Day {
		return nil, fmt.Errorf("%w: unknown unit %v", ErrInvalid, opts.Unit)
	}
	end := asOf.Unix()
	unit := opts.Unit.Duration().Seconds()
	holdout := opts.HoldoutEnd.After(asOf)
	hEnd := opts.HoldoutEnd.Unix()
	s := &Summary{CalibrationEnd: asOf, Unit: opts.Unit}
	if holdout {
		s.HoldoutLength = float64(hEnd-end) / unit
	}
	nc := h.NumCustomers()
	pr := progress{ctx: ctx}
	for c := range nc {
		if err := pr.add(customerWork(h, c)); err != nil {
			return nil, err
		}
		lo, hi := h.CustomerOrders(affinity.CustomerID(c))
		var (
			n            int
			first, last  int64
			repeatValue  affinity.Money
			spend        affinity.Money
			holdoutCount int
		)
		for o := lo; o < hi; o++ {
			t := h.OrderUnix(o)
			if t > end {
				if holdout && t <= hEnd && h.OrderBought(o) {
					holdoutCount++
				}
				continue
			}
			v := h.OrderValue(o)
			spend += v
			if !h.OrderBought(o) {
				continue
			}
			if n == 0 {
				first = t
			} else {
				repeatValue += v
			}
			last = t
			n++
		}
		if n == 0 {
			continue
		}
		row := RFT{
			Frequency: float64(n - 1),
			Recency:   float64(last-first) / unit,
			T:         float64(end-first) / unit,
		}
		if n > 1 {
			row.MeanValue = repeatValue.Float() / float64(n-1)
		}
		s.Customers = append(s.Customers, affinity.CustomerID(c))
		s.Rows = append(s.Rows, row)
		s.Spend = append(s.Spend, spend.Float())
		if holdout {
			s.Holdout = append(s.Holdout, holdoutCount)
		}
	}
	if holdout && s.Holdout == nil {
		s.Holdout = []int{} // with a HoldoutEnd: empty, not nil
	}
	return s, nil
}
