package clv_test

import (
	"testing"

	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
)

// expectedGrid lists parameters (r, a, b, x) from the fits of real and
// simulated shops and their edges: Euler and textbook series, growing
// and cancelling ones.
var expectedGrid = [][4]float64{
	{0.2426, 0.7929, 2.4259, 0}, {0.2426, 0.7929, 2.4259, 1}, {0.2426, 0.7929, 2.4259, 5},
	{0.525, 0.891, 1.614, 0}, {5, 0.5, 0.01, 2}, {0.01, 1, 50, 0}, {0.5, 3, 2, 1},
	{0.3, 40, 60, 0}, {0.05, 1 + 1e-9, 3, 0}, {2, 0.2, 0.5, 0}, {300, 1e4, 2, 3},
}

// TestExpectedSkipsLongSeries: where a series would need more than
// MaxDirectTerms terms, the expectation is the quadrature's, and agrees
// with the series (where that converges) as closely as the two methods
// agree anywhere; elsewhere it is the series' result, bit for bit.
func TestExpectedSkipsLongSeries(t *testing.T) {
	var quad, direct int
	for _, p := range expectedGrid {
		r, a, b, x := p[0], p[1], p[2], p[3]
		for _, tau := range []float64{1e-3, 1, 30, 200, 300, 1000, 5000} {
			e := clv.BGExpected(r, a, b, 0, x, tau)
			s, ok := clv.BGSeries(r, a, b, 0, x, tau)
			if clv.SeriesTerms(r, a, b, 0, x, tau) <= clv.MaxDirectTerms {
				direct++
				if ok {
					assert.Equal(t, s, e, "%v τ %v: the series", p, tau)
				} else {
					assert.Equal(t, clv.BGQuad(r+x, a, b+x, tau), e, "%v τ %v: the quadrature after the series failed", p, tau)
				}
				continue
			}
			quad++
			assert.Equal(t, clv.BGQuad(r+x, a, b+x, tau), e, "%v τ %v: the quadrature", p, tau)
			if ok {
				assert.InDelta(t, 1, e/s, 2e-13, "%v τ %v: quadrature %v, series %v", p, tau, e, s)
			}
		}
	}
	assert.Positive(t, quad, "no case skips the series")
	assert.Positive(t, direct, "no case sums the series")
}

// largeShapes are customers of models whose series change sign or grow
// for up to a million terms before they fall: large r, or large a and
// b+x. Each expects tc.m.ExpectedPurchases(tc.c, tc.t).
var largeShapes = []struct {
	m clv.BGNBD
	c clv.RFT
	t float64
}{
	{clv.BGNBD{R: 1e6, Alpha: 1, A: 1e4, B: 1e-3}, clv.RFT{T: 10}, 100},
	{clv.BGNBD{R: 1e6, Alpha: 1, A: 10, B: 1e-3}, clv.RFT{Frequency: 1e5, Recency: 10, T: 10}, 1e8},
	{clv.BGNBD{R: 1e4, Alpha: 1, A: 1e4, B: 1e6}, clv.RFT{Frequency: 1e5, Recency: 10, T: 10}, 100},
}

// TestExpectedWorkIsBounded: an expectation sums at most MaxDirectTerms
// series terms, and takes the quadrature at once where a series could
// not converge within them: large r (the Euler transform's terms change
// sign up to n ≈ r), or large a and b+x (terms that grow for thousands
// of terms first) used to sum about a million terms before they gave up
// (13–100 ms a call). Over the grid the quadrature takes at most 4,225
// nodes (shapes near 1e-3 with r in the thousands).
func TestExpectedWorkIsBounded(t *testing.T) {
	check := func(r, a, b, d, x, tau float64) {
		e, terms, nodes := clv.BGExpectedWork(r, a, b, d, x, tau)
		assert.LessOrEqual(t, float64(terms), clv.MaxDirectTerms, "r %v a %v b %v d %v x %v τ %v: series terms", r, a, b, d, x, tau)
		assert.LessOrEqual(t, nodes, 4500, "r %v a %v b %v d %v x %v τ %v: quadrature nodes", r, a, b, d, x, tau)
		assert.Positive(t, e, "r %v a %v b %v d %v x %v τ %v", r, a, b, d, x, tau)
	}
	for _, tc := range largeShapes {
		check(tc.m.R, tc.m.A, tc.m.B, 0, tc.c.Frequency, tc.t/(tc.m.Alpha+tc.c.T))
	}
	shapes, taus := []float64{1e-3, 1.5, 1e4, 1e6}, []float64{1e-6, 1, 1e8}
	if testdata.Long() {
		shapes, taus = []float64{1e-3, 0.1, 1, 1.5, 30, 1e3, 1e4, 1e6}, []float64{1e-6, 1e-2, 1, 100, 1e4, 1e8}
	}
	for _, r := range shapes {
		for _, a := range shapes {
			for _, b := range shapes {
				for _, x := range []float64{0, 1, 1e3, 1e5} {
					for _, tau := range taus {
						check(r, a, b, 0, x, tau) // BG/NBD
						check(r, a, b, 1, x, tau) // MBG/NBD
					}
				}
			}
		}
	}
}
