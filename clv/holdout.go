package clv

import (
	"context"
	"fmt"
	"math"
)

// HoldoutGroup compares, for the customers with one calibration
// frequency, the transactions they made in the holdout period with those
// the model expected: the conditional-expectation check of Fader, Hardie &
// Lee (2005).
type HoldoutGroup struct {
	// Frequency is the calibration frequency x of the group; the last
	// group of [BGNBD.Holdout] holds every x at or above it.
	Frequency int
	// Customers counts the customers in the group.
	Customers int
	// Actual is the group's total number of holdout transactions.
	Actual float64
	// Predicted is the sum of the customers' expected transactions over
	// [Summary.HoldoutLength], given their calibration history.
	Predicted float64
}

// MeanActual returns Actual per customer (0 for an empty group).
func (g HoldoutGroup) MeanActual() float64 { return mean(g.Actual, g.Customers) }

// MeanPredicted returns Predicted per customer (0 for an empty group).
func (g HoldoutGroup) MeanPredicted() float64 { return mean(g.Predicted, g.Customers) }

// checkHoldout is how often [BGNBD.Holdout] checks its context, in rows.
const checkHoldout = 16

func mean(sum float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Holdout groups the customers of s by calibration frequency 0, 1, …,
// groups−1 (the last group taking every higher frequency too) and returns,
// per group, the actual and the expected holdout transactions. s must come
// from [Summarize] with a HoldoutEnd; groups must be in [1, 65536]. It takes
// time linear in the number of customers (one [BGNBD.ExpectedPurchases]
// each), checks ctx every few customers and returns ctx.Err() if ctx is
// done first. It returns an error wrapping [ErrNoData] when s is nil or
// has no holdout period (no HoldoutEnd, or Holdout not aligned with
// Rows), and one wrapping [ErrInvalid] for a nil model, a groups out of
// range, a holdout length that is not finite, a row that breaks the
// rules of [RFT] or a model with a parameter that is not positive and
// finite.
func (m *BGNBD) Holdout(ctx context.Context, s *Summary, groups int) ([]HoldoutGroup, error) {
	if err := checkArgs(ctx, missing(m == nil, "model")...); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	switch {
	case groups < 1 || groups > 1<<16:
		return nil, fmt.Errorf("%w: %d holdout groups (1 to 65536)", ErrInvalid, groups)
	case s == nil || len(s.Holdout) != len(s.Rows) || s.HoldoutLength == 0:
		return nil, fmt.Errorf("%w: the summary has no holdout period", ErrNoData)
	case !(s.HoldoutLength > 0) || math.IsInf(s.HoldoutLength, 0):
		return nil, fmt.Errorf("%w: holdout length %v", ErrInvalid, s.HoldoutLength)
	}
	if err := validRows(s.Rows); err != nil {
		return nil, err
	}
	out := make([]HoldoutGroup, groups)
	for k := range out {
		out[k].Frequency = k
	}
	for i, c := range s.Rows {
		// a row's expectation sums a series or takes a quadrature
		if i%checkHoldout == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		g := &out[int(min(c.Frequency, float64(groups-1)))] // valid: ≥ 0, finite
		g.Customers++
		g.Actual += float64(s.Holdout[i])
		g.Predicted += m.ExpectedPurchases(c, s.HoldoutLength)
	}
	return out, nil
}
