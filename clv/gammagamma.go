package clv

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// GammaGamma is a fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005,
// "RFM and CLV", JMR; Colombo & Jiang 1999): a customer's transaction
// values are Gamma(p, ν) with the rate ν ~ Gamma(q, γ) across customers,
// independent of the purchase process. The mean transaction value of the
// population is pγ/(q−1) (finite for q > 1). γ is in currency units. A
// GammaGamma is a plain value, safe for concurrent use.
type GammaGamma struct {
	P, Q, Gamma float64
	// Fit describes the estimation; zero for a model built by hand.
	Fit FitInfo
}

// ggRows returns the rows the Gamma-Gamma model is fitted on: x ≥ 1 and a
// positive mean value (data already checked by validSpendRows).
func ggRows(data []RFT) (x, m []float64) {
	for _, c := range data {
		if c.Frequency >= 1 && c.MeanValue > 0 {
			x = append(x, c.Frequency)
			m = append(m, c.MeanValue)
		}
	}
	return x, m
}

// validSpendRows checks the input of the Gamma-Gamma model: every
// Frequency a count (see validFrequency) and every MeanValue finite.
func validSpendRows(data []RFT) error {
	for i, c := range data {
		if err := validFrequency(i, c); err != nil {
			return err
		}
		if math.IsNaN(c.MeanValue) || math.IsInf(c.MeanValue, 0) {
			return fmt.Errorf("%w: row %d %+v: a spend model needs a finite MeanValue", ErrInvalid, i, c)
		}
	}
	return nil
}

// validate returns an error wrapping [ErrInvalid] unless g is a model:
// not nil, with P, Q and Gamma positive and finite.
func (g *GammaGamma) validate() error {
	if g == nil {
		return fmt.Errorf("%w: nil Gamma-Gamma model", ErrInvalid)
	}
	if !positiveFinite(g.P, g.Q, g.Gamma) {
		return fmt.Errorf("%w: Gamma-Gamma parameters p = %v, q = %v, γ = %v: each must be positive and finite", ErrInvalid, g.P, g.Q, g.Gamma)
	}
	return nil
}

// ggParams holds the per-evaluation constants of the Gamma-Gamma
// likelihood per distinct frequency.
type ggParams struct {
	p, q, gamma  float64
	c0, dp0, dq0 []float64
}

func (g *ggParams) set(theta, xs []float64) {
	g.p, g.q, g.gamma = theta[0], theta[1], theta[2]
	p, q := g.p, g.q
	if g.c0 == nil {
		g.c0, g.dp0, g.dq0 = make([]float64, len(xs)), make([]float64, len(xs)), make([]float64, len(xs))
	}
	base := -lgamma(q) + q*math.Log(g.gamma)
	for j, x := range xs {
		px := p * x
		lx := math.Log(x)
		g.c0[j] = base + lgamma(px+q) - lgamma(px) + px*lx
		dpq := digamma(px + q)
		g.dp0[j] = x * (dpq - digamma(px) + lx)
		g.dq0[j] = dpq
	}
}

// FitGammaGamma estimates the Gamma-Gamma parameters by maximum likelihood
// on the rows of data with Frequency ≥ 1 and MeanValue > 0 (customers with
// repeat purchases; MeanValue is the mean of the x repeat transactions);
// the other rows are skipped, but every row must have a Frequency that is
// a whole number ≥ 0 and a finite MeanValue (see [RFT]). The
// log-likelihood of one customer with x repeat transactions of mean value m
// is
//
//	ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m·x),
//
// maximised by BFGS over ln p, ln q, ln γ with the analytic gradient,
// starting from p = q = 1 and γ = the mean of m. The model assumes spend
// is independent of frequency; check it (for example the correlation of
// Frequency and MeanValue) before relying on it.
//
// It returns an error wrapping [ErrInvalid] for a row that breaks those
// rules, [ErrNoData] when no row qualifies, [ErrNotConverged] when the search fails or runs off toward a boundary
// where the likelihood has no maximum (q and γ, or p, growing without
// bound: spend levels that hardly differ between customers, or values
// that hardly vary within one), and ctx.Err() (wrapped) when ctx is done.
// Like [FitBGNBD], it sums the rows in the order given.
func FitGammaGamma(ctx context.Context, data []RFT, opts FitOptions) (*GammaGamma, error) {
	if err := checkArgs(ctx); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := validSpendRows(data); err != nil {
		return nil, err
	}
	x, m := ggRows(data)
	if len(x) == 0 {
		return nil, fmt.Errorf("%w: Gamma-Gamma fit needs customers with a repeat purchase and a positive mean value", ErrNoData)
	}
	o, meanM := newGGObjective(ctx, x, m, opts.Workers)
	theta, info, err := o.maximize("Gamma-Gamma", []float64{1, 1, meanM}, opts)
	if err != nil {
		return nil, err
	}
	return &GammaGamma{P: theta[0], Q: theta[1], Gamma: theta[2], Fit: info}, nil
}

// newGGObjective returns the Gamma-Gamma log-likelihood of the rows (x, m)
// as an objective, and the mean of m.
func newGGObjective(ctx context.Context, x, m []float64, workers int) (*objective, float64) {
	group, xs := groupFrequencies(len(x), func(i int) float64 { return x[i] })
	counts := make([]float64, len(xs))
	var meanM, slm, sxlm float64
	for i, g := range group {
		counts[g]++
		lm := math.Log(m[i])
		meanM += m[i]
		slm += lm
		sxlm += x[i] * lm
	}
	meanM /= float64(len(m))
	gp := new(ggParams)
	o := &objective{n: len(x), dim: 3, workers: workers, ctx: ctx, shape: []int{0, 1}, diagnose: diagnoseGammaGamma}
	o.prepare = func(theta []float64) { gp.set(theta, xs) }
	o.block = func(lo, hi int, out []float64) {
		p, q, gamma := gp.p, gp.q, gp.gamma
		var ll, dp, dq, dg float64
		for i := lo; i < hi; i++ {
			xi, mi := x[i], m[i]
			px := p * xi
			d := gamma + mi*xi
			l := math.Log(d)
			ll -= (px + q) * l
			dp -= xi * l
			dq -= l
			dg -= (px + q) / d
		}
		out[0] += ll
		out[1] += dp
		out[2] += dq
		out[3] += dg
	}
	o.finish = func(s []float64) {
		p, q, gamma := gp.p, gp.q, gp.gamma
		n := float64(len(x))
		var c0, dp0, dq0 float64
		for j, c := range counts {
			c0 += c * gp.c0[j]
			dp0 += c * gp.dp0[j]
			dq0 += c * gp.dq0[j]
		}
		// Σ (px−1) ln m = p·Σ x ln m − Σ ln m
		s[0] += c0 + p*sxlm - slm
		s[1] += dp0 + sxlm
		s[2] += dq0 + n*(math.Log(gamma)-digamma(q))
		s[3] += n * q / gamma
	}
	return o, meanM
}

// diagnoseGammaGamma explains the usual ways the Gamma-Gamma likelihood
// has no finite maximum, from the parameters (p, q, γ) where a fit
// stopped.
func diagnoseGammaGamma(theta []float64) string {
	p, q, gamma := theta[0], theta[1], theta[2]
	var why []string
	if q > 1e3 && gamma > 1e3 {
		why = append(why, fmt.Sprintf("q and γ grow without bound with γ/q ≈ %.3g: the customers' spend levels hardly differ", gamma/q))
	}
	if p > 1e3 {
		why = append(why, "p grows without bound: each customer's transaction values hardly vary")
	}
	return strings.Join(why, "; ")
}

// LogLikelihood returns the total Gamma-Gamma log-likelihood (see
// [FitGammaGamma]) of the rows of data with Frequency ≥ 1 and MeanValue >
// 0; other rows are skipped. O(len(data)). Rows [FitGammaGamma] refuses,
// or parameters that are not all positive and finite, make it NaN.
func (g *GammaGamma) LogLikelihood(data []RFT) float64 {
	if g.validate() != nil || validSpendRows(data) != nil {
		return math.NaN()
	}
	x, m := ggRows(data)
	var ll float64
	for i := range x {
		px := g.P * x[i]
		ll += lgamma(px+g.Q) - lgamma(px) - lgamma(g.Q) + g.Q*math.Log(g.Gamma) +
			(px-1)*math.Log(m[i]) + px*math.Log(x[i]) - (px+g.Q)*math.Log(g.Gamma+m[i]*x[i])
	}
	return ll
}

// ExpectedValue returns the expected value of a transaction of a customer
// with history c, in currency units:
//
//	E[M | x, m] = p(γ + x·m) / (px + q − 1),
//
// a weighted mean of the population mean pγ/(q−1) and the customer's own
// mean m (MeanValue), with weight on m growing with x = Frequency. For x = 0
// it is the population mean. A mean m that is not positive (repeat orders
// whose returns outweigh their purchases; the model is fitted on positive
// means only) counts as 0: the value is then pγ/(px+q−1), never negative.
// It returns +Inf when px + q ≤ 1 (the model has no finite mean then).
// c must be a row [FitGammaGamma] accepts and g's parameters positive
// and finite; neither is checked here ([Score] and [CLV] check both).
func (g *GammaGamma) ExpectedValue(c RFT) float64 {
	x := max(c.Frequency, 0)
	den := g.P*x + g.Q - 1
	if den <= 0 {
		return math.Inf(1)
	}
	m := c.MeanValue
	if x == 0 || !(m > 0) {
		m = 0
	}
	return g.P * (g.Gamma + x*m) / den
}
