package clv

import "context"

// Digamma exposes digamma to the black-box tests.
var Digamma = digamma

// BGExpected, BGSeries and BGQuad expose the conditional expectation of a
// customer alive at T and its two ways of computing it; SeriesTerms the
// estimate that chooses between them, MaxDirectTerms the threshold;
// BGExpectedWork the series terms and quadrature nodes an expectation
// takes.
var (
	BGExpected     = bgExpected
	BGSeries       = bgSeries
	BGQuad         = bgQuad
	SeriesTerms    = seriesTerms
	MaxDirectTerms = float64(maxDirectTerms)
)

// BGExpectedWork returns bgExpected and the series terms and quadrature
// nodes it took, counted by countWork (not for concurrent use).
func BGExpectedWork(r, a, b, d, x, tau float64) (e float64, terms, nodes int) {
	countWork = func(t, n int) { terms, nodes = terms+t, nodes+n }
	defer func() { countWork = nil }()
	e = bgExpected(r, a, b, d, x, tau)
	return e, terms, nodes
}

// BGNBDLikelihood returns the BG/NBD log-likelihood of data at (r, α, a, b)
// and its gradient with respect to them, as the fit computes them.
func BGNBDLikelihood(data []RFT, theta []float64, workers int) (float64, []float64) {
	o, _ := newBGObjective(context.Background(), data, workers, false)
	_ = o.sums(theta) // Background: never cancelled
	return o.sum[0], o.sum[1:]
}

// MBGNBDLikelihood is BGNBDLikelihood for the MBG/NBD model.
func MBGNBDLikelihood(data []RFT, theta []float64, workers int) (float64, []float64) {
	o, _ := newBGObjective(context.Background(), data, workers, true)
	_ = o.sums(theta) // Background: never cancelled
	return o.sum[0], o.sum[1:]
}

// GammaGammaLikelihood returns the Gamma-Gamma log-likelihood of data at
// (p, q, γ) and its gradient, as the fit computes them.
func GammaGammaLikelihood(data []RFT, theta []float64) (float64, []float64) {
	x, m := ggRows(data)
	o, _ := newGGObjective(context.Background(), x, m, 1)
	_ = o.sums(theta) // Background: never cancelled
	return o.sum[0], o.sum[1:]
}
