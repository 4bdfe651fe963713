package clv_test

import (
	"math"
	"testing"

	"github.com/shopaffinity/affinity/clv"
	"github.com/stretchr/testify/assert"
)

// TestExpectedValueNonPositiveMean checks that a customer whose repeat
// orders net to nothing or less (returns outweighing purchases) is valued
// as one whose mean is 0, the edge of the model's support, and never
// negative: the model is fitted on positive means only.
func TestExpectedValueNonPositiveMean(t *testing.T) {
	g := paperGG
	for _, x := range []float64{1, 3, 40} {
		zero := g.P * g.Gamma / (g.P*x + g.Q - 1)
		for _, m := range []float64{0, -1e-9, -50, -1e12, math.Inf(-1), math.NaN()} {
			got := g.ExpectedValue(clv.RFT{Frequency: x, Recency: 20, T: 30, MeanValue: m})
			assert.InDelta(t, zero, got, 1e-12, "x %v, m %v", x, m)
		}
		// continuous at 0 from above
		assert.InDelta(t, zero, g.ExpectedValue(clv.RFT{Frequency: x, Recency: 20, T: 30, MeanValue: 1e-9}), 1e-6)
	}
}
