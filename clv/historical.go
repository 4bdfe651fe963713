package clv

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// HistoricalOptions configures [Historical].
type HistoricalOptions struct {
	// Months lists the window lengths in calendar months; nil means the
	// usual "lifetime" windows {12, 24}. Each must be in [1, 120000]
	// (10,000 years, the bound of [affinity.Lookback.Validate]).
	Months []int
}

// CustomerValue is one customer's purchases within a [Window].
type CustomerValue struct {
	// Orders counts the customer's orders with a bought (positive
	// quantity) line in the window.
	Orders int
	// Spend is the net value of all the customer's orders in the window,
	// returns subtracted (so it can be negative).
	Spend affinity.Money
}

// AOV returns the customer's average order value Spend/Orders, rounded
// half away from zero to Money units; 0 without orders. To show it at
// fewer decimals, round the quotient once with Spend.FormatQuo(Orders, d).
func (v CustomerValue) AOV() affinity.Money { return divRound(v.Spend, v.Orders) }

// Window holds historical spend and order counts over (Start, End], per
// customer and for the shop. It is read-only once returned.
type Window struct {
	// Months is the window length in calendar months; End is the as-of
	// time and Start = affinity.Months(Months).Start(End): calendar months
	// of the UTC calendar.
	Months     int
	Start, End time.Time
	// Customers is indexed by [affinity.CustomerID]: one entry per
	// customer of the History, zero for those inactive in the window.
	Customers []CustomerValue
	// Buyers holds the customers with at least one order in the window;
	// RepeatBuyers those with at least two.
	Buyers, RepeatBuyers *roaring.Bitmap
	// Orders and Spend are the shop totals over Customers (anonymous
	// orders are left out).
	Orders int
	Spend  affinity.Money
}

// Frequency returns customer c's purchase frequency in the window in
// orders per month.
func (w *Window) Frequency(c affinity.CustomerID) float64 {
	return float64(w.Customers[c].Orders) / float64(w.Months)
}

// AOV returns the shop's average order value Spend/Orders, rounded half
// away from zero to Money units; 0 without orders. To show it at fewer
// decimals, round the quotient once with Spend.FormatQuo(Orders, d):
// AOV().Format(d) rounds twice (2000.99 over 200 orders is 10.00495,
// 10.00 in cents, but AOV() is 10.0050, which Format(2) shows as 10.01).
func (w *Window) AOV() affinity.Money { return divRound(w.Spend, w.Orders) }

// PurchaseFrequency returns the mean number of orders per buyer; 0
// without buyers.
func (w *Window) PurchaseFrequency() float64 {
	n := w.Buyers.GetCardinality()
	if n == 0 {
		return 0
	}
	return float64(w.Orders) / float64(n)
}

// RepeatRate returns the share of buyers with two or more orders in the
// window; 0 without buyers.
func (w *Window) RepeatRate() float64 {
	n := w.Buyers.GetCardinality()
	if n == 0 {
		return 0
	}
	return float64(w.RepeatBuyers.GetCardinality()) / float64(n)
}

// SpendPerBuyer returns the shop's mean spend per buyer — the historical
// CLV over the window, AOV × purchase frequency — rounded half away from
// zero to Money units; 0 without buyers. To show it at fewer decimals,
// round the quotient once with Spend.FormatQuo(buyers, d).
func (w *Window) SpendPerBuyer() affinity.Money {
	return divRound(w.Spend, int(w.Buyers.GetCardinality()))
}

// Historical returns, for each window length of opts (in that order), the
// spend and orders of every customer in (asOf − months, asOf], and the
// shop's totals. Months are calendar months of the UTC calendar (as
// Window.Start; see [CohortRetention] for what that means to a shop in
// another time zone); orders after asOf are ignored. An order counts when it has a bought line; spend is the
// net value of all orders, returns included. It takes time linear in the
// number of orders and lines and returns ctx.Err() if ctx is done first, or
// an error wrapping [ErrInvalid] for a window shorter than a month or
// longer than [affinity.Lookback.Validate] allows (10,000 years, also
// matching [affinity.ErrInvalid]), or a zero asOf (also matching
// [affinity.ErrNoAsOf]).
func Historical(ctx context.Context, h *affinity.History, asOf time.Time, opts HistoricalOptions) ([]*Window, error) {
	if err := checkArgs(ctx, missing(h == nil, "history")...); err != nil {
		return nil, err
	}
	months := opts.Months
	if months == nil {
		months = []int{12, 24}
	}
	if err := affinity.CheckAsOf("clv", asOf, ErrInvalid); err != nil {
		return nil, err
	}
	nc := h.NumCustomers()
	ws := make([]*Window, len(months))
	starts := make([]int64, len(months))
	buyers := make([][]uint32, len(months))
	repeat := make([][]uint32, len(months))
	for k, m := range months {
		if m < 1 {
			return nil, fmt.Errorf("%w: window of %d months", ErrInvalid, m)
		}
		if err := affinity.Months(m).Validate(); err != nil {
			return nil, pkgerr.Wrap("clv", fmt.Sprintf("window of %d months", m), err, ErrInvalid)
		}
		start := affinity.Months(m).Start(asOf)
		ws[k] = &Window{Months: m, Start: start, End: asOf, Customers: make([]CustomerValue, nc)}
		starts[k] = start.Unix()
	}
	end := asOf.Unix()
	pr := progress{ctx: ctx}
	for c := range nc {
		if err := pr.add(customerWork(h, c)); err != nil {
			return nil, err
		}
		lo, hi := h.CustomerOrders(affinity.CustomerID(c))
		// Orders are sorted by time: walk back from asOf.
		for o := hi; o > lo; o-- {
			t := h.OrderUnix(o - 1)
			if t > end {
				continue
			}
			v, b := h.OrderValue(o-1), h.OrderBought(o-1)
			in := false
			for k := range ws {
				if t > starts[k] {
					in = true
					cv := &ws[k].Customers[c]
					cv.Spend += v
					if b {
						cv.Orders++
					}
				}
			}
			if !in {
				break
			}
		}
		for k, w := range ws {
			cv := w.Customers[c]
			w.Orders += cv.Orders
			w.Spend += cv.Spend
			if cv.Orders >= 1 {
				buyers[k] = append(buyers[k], uint32(c))
			}
			if cv.Orders >= 2 {
				repeat[k] = append(repeat[k], uint32(c))
			}
		}
	}
	for k, w := range ws {
		w.Buyers = bitmapOf(buyers[k])
		w.RepeatBuyers = bitmapOf(repeat[k])
	}
	return ws, nil
}

// bitmapOf returns a run-optimised bitmap of the sorted ids.
func bitmapOf(sorted []uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddMany(sorted)
	b.RunOptimize()
	return b
}

// divRound returns s/n rounded half away from zero; 0 when n ≤ 0.
func divRound(s affinity.Money, n int) affinity.Money {
	if n <= 0 {
		return 0
	}
	d := affinity.Money(n)
	q, r := s/d, s%d
	if r < 0 {
		r = -r
	}
	if 2*r >= d {
		if s < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}
