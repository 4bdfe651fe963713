package recommend

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSignificantlyBetter checks the decision of Choose against scores
// with known differences: none, a constant one, and noise around a small
// one.
func TestSignificantlyBetter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := make([]float64, 400)
	for i := range base {
		base[i] = r.Float64()
	}
	// base shifted by d plus and minus noise in turn: the paired
	// differences have mean d and standard deviation noise (about)
	shift := func(d, noise float64) []float64 {
		out := make([]float64, len(base))
		for i, x := range base {
			out[i] = x + d + noise*float64(1-2*(i%2))
		}
		return out
	}
	assert.False(t, significantlyBetter(base, base), "equal")
	assert.True(t, significantlyBetter(shift(0.01, 0), base), "better for every customer")
	assert.False(t, significantlyBetter(shift(-0.01, 0), base), "worse for every customer")
	// a mean difference of 0.01 in noise of sd 0.3 over 400 customers:
	// standard error 0.015, within noise
	assert.False(t, significantlyBetter(shift(0.01, 0.3), base))
	// 0.02 in noise of sd 0.3: 1.3 standard errors, beyond one
	assert.True(t, significantlyBetter(shift(0.02, 0.3), base))
	// 0.01 in noise of sd 0.2: 1.0 standard error, not beyond
	assert.False(t, significantlyBetter(shift(0.00999, 0.2), base))
}
