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
// weekly model time, no discounting and a margin of 1 (revenue).
type CLVOptions struct {
	// Unit is the time unit the models were fitted in (the Unit of the
	// summary); the zero value is Week.
	Unit Unit
	// Period is the length of one discounting period; 0 means a month
	// (365.2425/12 days).
	Period time.Duration
	// Periods is the number of periods in the horizon; 0 means 12.
	Periods int
	// DiscountRate is the discount rate per period (0.01 = 1 % a
	// period); 0 means no discounting. Must be > −1.
	DiscountRate float64
	// Margin is the share of revenue that is profit; 0 means 1 (CLV in
	// revenue). Must not be negative.
	Margin float64
}

func (o CLVOptions) withDefaults() (CLVOptions, error) {
	if o.Unit > Day || o.Period < 0 || o.Periods < 0 || !(o.DiscountRate > -1) || math.IsInf(o.DiscountRate, 0) ||
		!(o.Margin >= 0) || math.IsInf(o.Margin, 0) {
		return o, fmt.Errorf("%w: CLV options %+v", ErrInvalid, o)
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
// cumulative expectation itself). It returns an error wrapping [ErrInvalid]
// for bad options, or for a row [Score] refuses.
func CLV(bg *BGNBD, gg *GammaGamma, c RFT, opts CLVOptions) (float64, error) {
	if bg == nil || gg == nil {
		return 0, fmt.Errorf("%w: nil model", ErrInvalid)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	if err := validScoreRows([]RFT{c}, true); err != nil {
		return 0, err
	}
	return clv(bg, gg, c, opts.Unit.Of(opts.Period), opts), nil
}

func clv(bg *BGNBD, gg *GammaGamma, c RFT, step float64, opts CLVOptions) float64 {
	det, _ := bg.discounted(c.Frequency, c.T, step, opts.Periods, opts.DiscountRate)
	return value(opts.Margin, gg.ExpectedValue(c), det*bg.PAlive(c))
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
	// Workers is the number of goroutines; 0 means 1. The output does not
	// depend on it.
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
// (validRows) and, with a spend model, a finite MeanValue.
func validScoreRows(data []RFT, spend bool) error {
	if err := validRows(data); err != nil {
		return err
	}
	if spend {
		for i, c := range data {
			if math.IsNaN(c.MeanValue) || math.IsInf(c.MeanValue, 0) {
				return fmt.Errorf("%w: row %d %+v: a spend model needs a finite MeanValue", ErrInvalid, i, c)
			}
		}
	}
	return nil
}

// Score computes [BGNBD.ExpectedPurchases], [BGNBD.PAlive] and, when gg is
// not nil (bg must not be), [GammaGamma.ExpectedValue] and [CLV] for every row of data. It
// takes O(len(data) × (CLV.Periods + series terms)) time, split over
// opts.Workers goroutines, checks ctx every few thousand rows and returns
// an error wrapping [ErrInvalid] for bad options or rows: a row outside
// 0 ≤ Recency ≤ T < ∞ and 0 ≤ Frequency < ∞, or, with gg, a MeanValue
// that is not finite (a negative one is allowed: returns can outweigh a
// repeat order).
func Score(ctx context.Context, data []RFT, bg *BGNBD, gg *GammaGamma, opts ScoreOptions) (*Scores, error) {
	if err := checkArgs(ctx, missing(bg == nil, "BG/NBD model")...); err != nil {
		return nil, err
	}
	copts, err := opts.CLV.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Horizon < 0 || opts.Workers < 0 {
		return nil, fmt.Errorf("%w: score options: negative horizon or workers", ErrInvalid)
	}
	if err := validScoreRows(data, gg != nil); err != nil {
		return nil, err
	}
	sc := newScorer(data, bg, gg, opts.Horizon, copts)
	n := len(data)
	s := &Scores{ExpectedPurchases: make([]float64, n), PAlive: make([]float64, n)}
	if gg != nil {
		s.ExpectedValue = make([]float64, n)
		s.CLV = make([]float64, n)
	}
	const block = 4096
	err = parallel.For(ctx, max(opts.Workers, 1), (n+block-1)/block, func(_, b int) error {
		for i := b * block; i < min((b+1)*block, n); i++ {
			sc.score(s, i)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// discounted returns, for a customer with frequency x and age T known to
// be alive at T, Σᵢ₌₁ⁿ (E[Y(iΔ)] − E[Y((i−1)Δ)]) / (1+d)ⁱ and E[Y(nΔ)].
func (m *BGNBD) discounted(x, T, step float64, periods int, rate float64) (sum, last float64) {
	f := 1 / (1 + rate)
	disc := 1.0
	for i := 1; i <= periods; i++ {
		e := m.expected(x, T, float64(i)*step)
		disc *= f
		sum += (e - last) * disc
		last = e
	}
	return sum, last
}

// minInterpolated is the number of rows of one frequency from which [Score]
// interpolates rather than sums series per row.
const minInterpolated = 256

// scorer holds what [Score] shares between rows. For a customer alive at
// T, the discounted purchases and the expected purchases in the horizon
// depend on the frequency x and on T only (not on recency), smoothly. So
// for each frequency shared by many rows, a Chebyshev interpolant in
// ln(α+T) over the rows' range of T replaces the per-row series sums: a
// row then costs O(1) instead of O(periods × series terms), and the
// interpolants agree with the direct sums to about 1e-13 relative.
type scorer struct {
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

func newScorer(data []RFT, bg *BGNBD, gg *GammaGamma, horizon time.Duration, opts CLVOptions) *scorer {
	sc := &scorer{data: data, bg: bg, gg: gg, opts: opts, step: opts.Unit.Of(opts.Period)}
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
	sc.det, sc.eh = make([]*cheb, ng), make([]*cheb, ng)
	for j, x := range sc.xs {
		if count[j] < minInterpolated {
			continue
		}
		ps, ok := fitCheb(math.Log(bg.Alpha+tmin[j]), math.Log(bg.Alpha+tmax[j]), 2, func(u float64, out []float64) {
			T := max(math.Exp(u)-bg.Alpha, 0)
			out[0], out[1] = sc.direct(x, T)
		})
		if ok {
			sc.det[j], sc.eh[j] = &ps[0], &ps[1]
		}
	}
	return sc
}

// direct returns the discounted purchases (0 without a Gamma-Gamma model)
// and the expected purchases in the horizon of a customer alive at T.
func (sc *scorer) direct(x, T float64) (det, eh float64) {
	if sc.gg != nil {
		det, eh = sc.bg.discounted(x, T, sc.step, sc.opts.Periods, sc.opts.DiscountRate)
		if sc.horizon == sc.step*float64(sc.opts.Periods) {
			return det, eh
		}
	}
	if sc.horizon > 0 {
		eh = sc.bg.expected(x, T, sc.horizon)
	}
	return det, eh
}

// score fills row i of s.
func (sc *scorer) score(s *Scores, i int) {
	c := sc.data[i]
	alive := sc.bg.PAlive(c)
	s.PAlive[i] = alive
	var det, eh float64
	if g := sc.group[i]; sc.det[g] != nil {
		u := math.Log(sc.bg.Alpha + c.T)
		det, eh = sc.det[g].eval(u), sc.eh[g].eval(u)
	} else {
		det, eh = sc.direct(c.Frequency, c.T)
	}
	s.ExpectedPurchases[i] = eh * alive
	if sc.gg != nil {
		ev := sc.gg.ExpectedValue(c)
		s.ExpectedValue[i] = ev
		s.CLV[i] = value(sc.opts.Margin, ev, det*alive)
	}
}
