package clv_test

import (
	"testing"

	"github.com/shopaffinity/affinity/clv"
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
			if clv.SeriesTerms(r, a, x, tau) <= clv.MaxDirectTerms {
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
