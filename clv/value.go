package clv

import (
	"context"
	"fmt"
	"github.com/shopaffinity/affinity/internal/parallel"
	"math"
	"time"
)

// averageMonth is the mean length of a calendar month.
const averageMonth = time.Duration(365.2425 / 12 * 24 * float64(time.Hour))

// CLVOptions configures [CLV]. The zero value means 12 monthly periods,
// weekly model time, no discounting and a margin of 1 (revenue). A value
// a field does not take (NaN and infinities included) makes [CLV] and
// [Score] return an error wrapping [ErrInvalid] that names the field and
// its value.
type CLVOptions struct {
	// Unit is the time unit the models were fitted in (the Unit of the
	// summary); the zero value is Week.
	Unit Unit
	// Period is the length of one discounting period; 0 means a month
	// (365.2425/12 days).
	Period time.Duration
	// Periods is the number of periods in the horizon; 0 means 12, at
	// most MaxPeriods. A customer's CLV sums one conditional expectation
	// per period, so the cost of [CLV], and of [Score] for a customer it
	// does not interpolate, grows with it.
	Periods int
	// DiscountRate is the discount rate per period (0.01 = 1 % a
	// period); 0 means no discounting. Must be > −1.
	DiscountRate float64
	// Margin is the share of revenue that is profit; 0 means 1 (CLV in
	// revenue). Must not be negative.
	Margin float64
}

// MaxPeriods bounds [CLVOptions.Periods]: 100 years of daily periods.
// Beyond it a horizon is better discounted in longer periods, and one
// call of [CLV] (which takes no context) could run for minutes.
const MaxPeriods = 36525

func (o CLVOptions) withDefaults() (CLVOptions, error) {
	switch {
	case o.Unit > Day:
		return o, badOption("CLVOptions.Unit", o.Unit, "Week or Day")
	case o.Period < 0:
		return o, badOption("CLVOptions.Period", o.Period, "a duration ≥ 0 (0: a month)")
	case o.Periods < 0 || o.Periods > MaxPeriods:
		return o, badOption("CLVOptions.Periods", o.Periods, fmt.Sprintf("0 (12) to MaxPeriods = %d", MaxPeriods))
	case !(o.DiscountRate > -1) || math.IsInf(o.DiscountRate, 1):
		return o, badOption("CLVOptions.DiscountRate", o.DiscountRate, "a finite rate above -1")
	case !finiteAtLeast(o.Margin, 0):
		return o, badOption("CLVOptions.Margin", o.Margin, "a finite number ≥ 0 (0: 1)")
	}
	if o.Period == 0 {
		o.Period = averageMonth
	}
	if o.Periods == 0 {
		o.Periods = 12
	}
	if o.Margin == 0 {
		o.Margin = 1
	}
	return o, nil
}

// CLV returns the discounted value of a customer with history c over the
// horizon of opts, in currency units:
//
//	CLV = margin · E[M] · Σᵢ₌₁ⁿ (E[Y(iΔ)] − E[Y((i−1)Δ)]) / (1+d)ⁱ,
//
// where Δ is the period in model units, d the discount rate, E[Y(t)] the
// BG/NBD expected purchases within t after calibration ([BGNBD.ExpectedPurchases])
// and E[M] the Gamma-Gamma expected transaction value
// ([GammaGamma.ExpectedValue]). Each period's own expected purchases are
// discounted once (the increments of the cumulative expectation, not the
// cumulative expectation itself). It takes O(Periods × series terms)
// time (see [BGNBD.ExpectedPurchases]) and returns an error wrapping
// [ErrInvalid] for bad options, a row [Score] refuses, or a model that
// is nil or has a parameter that is not positive and finite.
func CLV(bg *BGNBD, gg *GammaGamma, c RFT, opts CLVOptions) (float64, error) {
	if gg == nil {
		return 0, fmt.Errorf("%w: nil Gamma-Gamma model", ErrInvalid)
	}
	if err := validModels(bg, gg); err != nil {
		return 0, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	if err := validScoreRows([]RFT{c}, true); err != nil {
		return 0, err
	}
	// Background is never done: no error.
	det, _, _ := bg.discounted(context.Background(), c.Frequency, c.T, opts.Unit.Of(opts.Period), opts.Periods, opts.DiscountRate)
	return value(opts.Margin, gg.ExpectedValue(c), det*bg.PAlive(c)), nil
}

// validModels checks the models of [CLV] and [Score]: bg required, gg
// optional (nil for Score without spend).
func validModels(bg *BGNBD, gg *GammaGamma) error {
	if err := bg.validate(); err != nil {
		return err
	}
	if gg != nil {
		return gg.validate()
	}
	return nil
}

// value returns margin × ev × purchases, and 0 (not NaN) when no purchase
// is expected even if ev is infinite.
func value(margin, ev, purchases float64) float64 {
	if purchases == 0 {
		return 0
	}
	return margin * ev * purchases
}

// ScoreOptions configures [Score].
type ScoreOptions struct {
	// Horizon is the window of [Scores.ExpectedPurchases]; 0 means the CLV
	// horizon (CLV.Periods × CLV.Period).
	Horizon time.Duration
	// CLV configures the CLV column; CLV.Unit is also the unit of Horizon.
	CLV CLVOptions
	// Workers is the number of goroutines that fit the interpolants and
	// score the rows; 0 means 1. The output does not depend on it.
	Workers int
}

// Scores holds per-customer predictions aligned with the rows they were
// computed from. The slices are owned by the caller.
type Scores struct {
	// ExpectedPurchases is the expected number of transactions within the
	// horizon after calibration.
	ExpectedPurchases []float64
	// PAlive is the probability of being alive at the end of calibration.
	PAlive []float64
	// ExpectedValue is the Gamma-Gamma expected transaction value; nil
	// without a Gamma-Gamma model.
	ExpectedValue []float64
	// CLV is the discounted customer lifetime value of [CLV]; nil without a
	// Gamma-Gamma model.
	CLV []float64
}

// validScoreRows checks the rows of [Score] and [CLV]: BG/NBD's input
// (validRows) and, with a spend model, the Gamma-Gamma's (validSpendRows).
func validScoreRows(data []RFT, spend bool) error {
	if err := validRows(data); err != nil {
		return err
	}
	if spend {
		return validSpendRows(data)
	}
	return nil
}

// Score computes [BGNBD.ExpectedPurchases], [BGNBD.PAlive] and, when gg is
// not nil (bg must not be), [GammaGamma.ExpectedValue] and [CLV] for every
// row of data. For each frequency shared by at least 256 rows it first
// fits an interpolant in T (a few hundred to a few thousand direct
// evaluations, one frequency per work item); a row then costs O(1), and
// any other row O(CLV.Periods × series terms). The interpolated rows
// agree with CLV and ExpectedPurchases to about 1e-13 relatively (see
// the package doc). Both steps are split over
// opts.Workers goroutines. It checks ctx every few rows, every few
// periods of a row evaluated directly and between the evaluations of an
// interpolant fit, and returns ctx.Err() once ctx is done. It returns an
// error wrapping [ErrInvalid] for bad options, a model that is nil or has
// a parameter that is not positive and finite, or a bad row: one outside
// 0 ≤ Recency ≤ T < ∞ or whose Frequency is not a whole number ≥ 0 (see
// [RFT]), or, with gg, a MeanValue that is not finite (a negative one is
// allowed: returns can outweigh a repeat order).
func Score(ctx context.Context, data []RFT, bg *BGNBD, gg *GammaGamma, opts ScoreOptions) (*Scores, error) {
	if err := checkArgs(ctx, missing(bg == nil, "BG/NBD model")...); err != nil {
		return nil, err
	}
	if err := validModels(bg, gg); err != nil {
		return nil, err
	}
	copts, err := opts.CLV.withDefaults()
	if err != nil {
		return nil, err
	}
	switch {
	case opts.Horizon < 0:
		return nil, badOption("ScoreOptions.Horizon", opts.Horizon, "a duration ≥ 0 (0: the CLV horizon)")
	case opts.Workers < 0:
		return nil, badOption("ScoreOptions.Workers", opts.Workers, "a count ≥ 0 (0: 1)")
	}
	if err := validScoreRows(data, gg != nil); err != nil {
		return nil, err
	}
	workers := max(opts.Workers, 1)
	sc, err := newScorer(ctx, workers, data, bg, gg, opts.Horizon, copts)
	if err != nil {
		return nil, err
	}
	n := len(data)
	s := &Scores{ExpectedPurchases: make([]float64, n), PAlive: make([]float64, n)}
	if gg != nil {
		s.ExpectedValue = make([]float64, n)
		s.CLV = make([]float64, n)
	}
	const block = 4096
	err = parallel.For(ctx, workers, (n+block-1)/block, func(_, b int) error {
		for i := b * block; i < min((b+1)*block, n); i++ {
			if i%checkRows == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := sc.score(s, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkRows is how often [Score] checks its context between rows it
// interpolates (a few microseconds of work); a row it evaluates directly
// checks it first and then every checkPeriods periods.
const checkRows = 256

// checkPeriods is how often discounted checks its context: each period
// sums a series (or takes a quadrature).
const checkPeriods = 8

// discounted returns, for a customer with frequency x and age T known to
// be alive at T, Σᵢ₌₁ⁿ (E[Y(iΔ)] − E[Y((i−1)Δ)]) / (1+d)ⁱ and E[Y(nΔ)],
// or ctx.Err() once ctx is done (checked every checkPeriods periods).
func (m *BGNBD) discounted(ctx context.Context, x, T, step float64, periods int, rate float64) (sum, last float64, err error) {
	f := 1 / (1 + rate)
	disc := 1.0
	for i := 1; i <= periods; i++ {
		if i%checkPeriods == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		e := m.expected(x, T, float64(i)*step)
		disc *= f
		sum += (e - last) * disc
		last = e
	}
	return sum, last, nil
}

// minInterpolated is the number of rows of one frequency from which [Score]
// interpolates rather than sums series per row.
const minInterpolated = 256

// scorer holds what [Score] shares between rows. For a customer alive at
// T, the discounted purchases and the expected purchases in the horizon
// depend on the frequency x and on T only (not on recency), smoothly. So
// for each frequency shared by many rows, a Chebyshev interpolant in
// ln(α+T) over the rows' range of T replaces the per-row series sums: a
// row then costs O(1) instead of O(periods × series terms). The
// interpolants are of the logarithms of the two (smooth in ln(α+T) too,
// and nearly linear where T ≫ the horizon): their absolute error is the
// values' relative error, the same for every row however many orders of
// magnitude the values span over the range (interpolating the values
// themselves bounded the error relative to the largest, and left 5e-8
// relatively on the smallest rows at r = 0.01, α = 1e-6, a = 1, b = 50
// with T up to 1e5 weeks).
// fitCheb stops at trailing coefficients below 2e-14, so the
// interpolants agree with the direct sums to about 1e-13 relatively, at
// most 3e-13 for every row over the models and ranges of
// TestScoreInterpolationAccuracy (CDNOW's, r = α = a = b = 1e-3,
// r = 0.01 with α = 1e-6, large r and a, T up to ten years of days or
// 1e5 weeks). A frequency whose values are not finite and positive
// (an expectation that underflows) or whose interpolant needs more than
// maxChebNodes nodes is summed directly.
type scorer struct {
	ctx     context.Context
	data    []RFT
	bg      *BGNBD
	gg      *GammaGamma
	opts    CLVOptions
	horizon float64 // model units
	step    float64
	group   []int32
	xs      []float64
	det, eh []*cheb // per group; nil when rows are summed directly
}

// newScorer returns the scorer of data, with the interpolants fitted on
// workers goroutines, or ctx.Err() once ctx is done.
func newScorer(ctx context.Context, workers int, data []RFT, bg *BGNBD, gg *GammaGamma, horizon time.Duration, opts CLVOptions) (*scorer, error) {
	sc := &scorer{ctx: ctx, data: data, bg: bg, gg: gg, opts: opts, step: opts.Unit.Of(opts.Period)}
	sc.horizon = opts.Unit.Of(horizon)
	if horizon == 0 {
		sc.horizon = sc.step * float64(opts.Periods)
	}
	sc.group, sc.xs = groupFrequencies(len(data), func(i int) float64 { return data[i].Frequency })
	ng := len(sc.xs)
	count := make([]int, ng)
	tmin, tmax := make([]float64, ng), make([]float64, ng)
	for j := range ng {
		tmin[j], tmax[j] = math.Inf(1), math.Inf(-1)
	}
	for i, g := range sc.group {
		count[g]++
		tmin[g] = min(tmin[g], data[i].T)
		tmax[g] = max(tmax[g], data[i].T)
	}
	var fit []int // the groups to interpolate
	for j := range ng {
		if count[j] >= minInterpolated {
			fit = append(fit, j)
		}
	}
	sc.det, sc.eh = make([]*cheb, ng), make([]*cheb, ng)
	outputs := 1 // ln eh, and ln det with a spend model
	if gg != nil {
		outputs = 2
	}
	err := parallel.For(ctx, workers, len(fit), func(_, k int) error {
		j := fit[k]
		x := sc.xs[j]
		ps, ok, err := fitCheb(math.Log(bg.Alpha+tmin[j]), math.Log(bg.Alpha+tmax[j]), outputs, func(u float64, out []float64) error {
			T := max(math.Exp(u)-bg.Alpha, 0)
			det, eh, err := sc.direct(x, T)
			// ln 0 (an expectation that underflows) is −Inf: no fit,
			// the group's rows are summed directly
			out[0] = math.Log(eh)
			if outputs == 2 {
				out[1] = math.Log(det)
			}
			return err
		})
		if ok {
			sc.eh[j] = &ps[0]
			if outputs == 2 {
				sc.det[j] = &ps[1]
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// direct returns the discounted purchases (0 without a Gamma-Gamma model)
// and the expected purchases in the horizon of a customer alive at T, or
// ctx.Err() once the scorer's context is done.
func (sc *scorer) direct(x, T float64) (det, eh float64, err error) {
	if err := sc.ctx.Err(); err != nil {
		return 0, 0, err
	}
	if sc.gg != nil {
		det, eh, err = sc.bg.discounted(sc.ctx, x, T, sc.step, sc.opts.Periods, sc.opts.DiscountRate)
		if err != nil || sc.horizon == sc.step*float64(sc.opts.Periods) {
			return det, eh, err
		}
	}
	if sc.horizon > 0 {
		eh = sc.bg.expected(x, T, sc.horizon)
	}
	return det, eh, nil
}

// score fills row i of s, or returns ctx.Err() once the scorer's context
// is done.
func (sc *scorer) score(s *Scores, i int) error {
	c := sc.data[i]
	alive := sc.bg.PAlive(c)
	s.PAlive[i] = alive
	var det, eh float64
	if g := sc.group[i]; sc.eh[g] != nil {
		u := math.Log(sc.bg.Alpha + c.T)
		if sc.det[g] != nil {
			lh, ld := eval2(sc.eh[g], sc.det[g], u)
			eh, det = math.Exp(lh), math.Exp(ld)
		} else {
			eh = math.Exp(sc.eh[g].eval(u))
		}
	} else {
		var err error
		if det, eh, err = sc.direct(c.Frequency, c.T); err != nil {
			return err
		}
	}
	s.ExpectedPurchases[i] = eh * alive
	if sc.gg != nil {
		ev := sc.gg.ExpectedValue(c)
		s.ExpectedValue[i] = ev
		s.CLV[i] = value(sc.opts.Margin, ev, det*alive)
	}
	return nil
}
