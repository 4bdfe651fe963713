package clv

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// RetentionOptions configures [Retention].
type RetentionOptions struct {
	// ActiveMonths defines "a customer at time τ": someone with a bought
	// order in (τ − ActiveMonths calendar months, τ]. 0 means 12; a
	// negative value means any time up to τ (everyone acquired by τ); at
	// most 120000 (10,000 years), as for [HistoricalOptions].Months.
	ActiveMonths int
}

// Period holds the customer sets behind the retention rate of the period
// (Start, End]. The bitmaps are owned by the caller.
type Period struct {
	Start, End time.Time
	// AtStart holds the customers at Start, AtEnd those at End (see
	// [RetentionOptions.ActiveMonths]).
	AtStart, AtEnd *roaring.Bitmap
	// New holds the customers acquired in the period: first bought order
	// in (Start, End].
	New *roaring.Bitmap
}

// Rate returns the retention rate of the period,
//
//	(customers at end − new customers acquired in the period) / customers at start,
//
// where the new customers counted are those that are customers at End
// (all of them when ActiveMonths covers the period). A customer at End who
// bought before Start but was inactive at Start (a reactivated customer)
// counts as retained, as the formula implies, so the rate can exceed 1. It
// returns 0 when there was no customer at Start.
func (p *Period) Rate() float64 {
	s := p.AtStart.GetCardinality()
	if s == 0 {
		return 0
	}
	retained := p.AtEnd.GetCardinality() - p.AtEnd.AndCardinality(p.New)
	return float64(retained) / float64(s)
}

// Retention returns the customer sets of the period (start, end] of h (see
// [Period.Rate] for the rate). Only bought orders count; anything after end
// is ignored. The activity windows are UTC calendar months (see
// [CohortRetention] for what that means to a shop in another time zone).
// It takes time linear in the number of orders and lines and
// returns ctx.Err() if ctx is done first, or an error wrapping [ErrInvalid]
// unless start is before end and ActiveMonths at most 120000.
func Retention(ctx context.Context, h *affinity.History, start, end time.Time, opts RetentionOptions) (*Period, error) {
	if err := checkArgs(ctx, missing(h == nil, "history")...); err != nil {
		return nil, err
	}
	if !start.Before(end) {
		return nil, fmt.Errorf("%w: retention period %v..%v is empty", ErrInvalid, start, end)
	}
	months := opts.ActiveMonths
	if months == 0 {
		months = 12
	}
	if months > 0 {
		if err := affinity.Months(months).Validate(); err != nil {
			return nil, pkgerr.Wrap("clv", "ActiveMonths", err, ErrInvalid)
		}
	}
	// window returns the first instant (exclusive) of the activity window
	// ending at τ.
	window := func(tau time.Time) int64 {
		if months < 0 {
			return minUnix
		}
		return affinity.Months(months).Start(tau).Unix()
	}
	s, e := start.Unix(), end.Unix()
	sLo, eLo := window(start), window(end)
	var atStart, atEnd, acquired []uint32
	pr := progress{ctx: ctx}
	for c := range h.NumCustomers() {
		if err := pr.add(customerWork(h, c)); err != nil {
			return nil, err
		}
		id := affinity.CustomerID(c)
		first, ok := h.FirstPurchase(id)
		if !ok || first.Unix() > e {
			continue
		}
		if f := first.Unix(); f > s {
			acquired = append(acquired, uint32(c))
		}
		inStart, inEnd := false, false
		lo, hi := h.CustomerOrders(id)
		for o := lo; o < hi && !(inStart && inEnd); o++ {
			t := h.OrderUnix(o)
			if t > e {
				break
			}
			if (t > sLo && t <= s || t > eLo) && h.OrderBought(o) {
				inStart = inStart || t > sLo && t <= s
				inEnd = inEnd || t > eLo
			}
		}
		if inStart {
			atStart = append(atStart, uint32(c))
		}
		if inEnd {
			atEnd = append(atEnd, uint32(c))
		}
	}
	return &Period{Start: start, End: end, AtStart: bitmapOf(atStart), AtEnd: bitmapOf(atEnd), New: bitmapOf(acquired)}, nil
}

// minUnix is before any order time.
const minUnix = -1 << 63

// Cohorts is a monthly cohort retention matrix: customers grouped by the
// calendar month (UTC) of their first bought order, and counted in each
// later month in which they bought. It is read-only once returned.
type Cohorts struct {
	// Months holds the first instant (UTC) of each acquisition month, from
	// the month of the first purchase in the History to the month of asOf,
	// ascending.
	Months []time.Time
	// Size is the number of customers acquired in each month.
	Size []int
	// Active[i][k] is the number of customers of cohort i with a bought
	// order in month i+k (k = 0 is the acquisition month, so Active[i][0]
	// == Size[i]). Row i has one entry per observed month up to asOf's
	// month: len(Months) − i; the last one may be partial.
	Active [][]int
}

// Rate returns Active[i][k]/Size[i], the share of cohort i still buying k
// months after acquisition; 0 for an empty cohort. It panics if (i, k) is
// outside the matrix.
func (c *Cohorts) Rate(i, k int) float64 {
	if c.Size[i] == 0 {
		return 0
	}
	return float64(c.Active[i][k]) / float64(c.Size[i])
}

// CohortRetention builds the monthly cohort retention matrix of h as of
// asOf: orders after asOf are ignored, and so are customers acquired after
// it. Months are UTC calendar months, as everywhere in the library: a
// shop in another time zone sees a purchase near midnight at a month's
// turn in the UTC month (00:30 on 1 March in Berlin is 23:30 on 28
// February UTC, so the February cohort). It takes time linear in the number
// of orders and lines (and memory quadratic in the months from the first
// purchase to asOf) and returns ctx.Err() if ctx is done first; an empty
// matrix when nobody bought by asOf; an error wrapping [ErrInvalid] (and
// [affinity.ErrNoAsOf]) for a zero asOf, and [ErrInvalid] for an asOf after the last time a History holds ([affinity.MaxUnix], in
// 2106), whose matrix would run to asOf's month.
func CohortRetention(ctx context.Context, h *affinity.History, asOf time.Time) (*Cohorts, error) {
	if err := checkArgs(ctx, missing(h == nil, "history")...); err != nil {
		return nil, err
	}
	if err := affinity.CheckAsOf("clv", asOf, ErrInvalid); err != nil {
		return nil, err
	}
	end := asOf.Unix()
	if end > affinity.MaxUnix {
		return nil, fmt.Errorf("%w: cohort retention as of %v, after the last time a History holds (%v)", ErrInvalid, asOf, time.Unix(affinity.MaxUnix, 0).UTC())
	}
	first := int64(0)
	found := false
	for c := range h.NumCustomers() {
		if t, ok := h.FirstPurchase(affinity.CustomerID(c)); ok && t.Unix() <= end && (!found || t.Unix() < first) {
			first, found = t.Unix(), true
		}
	}
	out := &Cohorts{}
	if !found {
		return out, nil
	}
	m0 := monthIndex(first)
	n := monthIndex(end) - m0 + 1
	out.Months = make([]time.Time, n)
	out.Size = make([]int, n)
	out.Active = make([][]int, n)
	for i := range n {
		out.Months[i] = monthStart(m0 + i)
		out.Active[i] = make([]int, n-i)
	}
	pr := progress{ctx: ctx}
	for c := range h.NumCustomers() {
		if err := pr.add(customerWork(h, c)); err != nil {
			return nil, err
		}
		id := affinity.CustomerID(c)
		ft, ok := h.FirstPurchase(id)
		if !ok || ft.Unix() > end {
			continue
		}
		cohort := monthIndex(ft.Unix()) - m0
		out.Size[cohort]++
		row := out.Active[cohort]
		last := -1
		lo, hi := h.CustomerOrders(id)
		for o := lo; o < hi; o++ {
			t := h.OrderUnix(o)
			if t > end {
				break
			}
			k := monthIndex(t) - m0 - cohort
			if k != last && k >= 0 && h.OrderBought(o) {
				row[k]++
				last = k
			}
		}
	}
	return out, nil
}

// monthIndex returns the number of UTC calendar months from January of
// year 0 to the month holding Unix time u.
func monthIndex(u int64) int {
	t := time.Unix(u, 0).UTC()
	return t.Year()*12 + int(t.Month()) - 1
}

// monthStart is the inverse of monthIndex: the first instant of month m.
func monthStart(m int) time.Time {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
}
