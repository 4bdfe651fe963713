package recommend

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// naivePoissonLower finds, by bisection on the Poisson distribution's CDF,
// the rate λ at which a count of c or more has probability 0.05.
func naivePoissonLower(c int) float64 {
	lo, hi := 0.0, float64(c)
	for range 200 {
		mid := (lo + hi) / 2
		p := distuv.Poisson{Lambda: mid}
		if 1-p.CDF(float64(c-1)) < 0.05 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestPoissonLower checks the lower confidence bound against the naive
// bisection: to 1e-9 where it is exact, to 0.01 % from 256 on, where it
// is the Wilson–Hilferty approximation.
func TestPoissonLower(t *testing.T) {
	for c := 1; c <= 3000; c += 1 + c/50 {
		want, got := naivePoissonLower(c), poissonLower(c)
		tol := 1e-9
		if c >= 256 {
			tol = 1e-4
		}
		require.InEpsilon(t, want, got, tol, "count %d", c)
	}
}

func TestCredibleLift(t *testing.T) {
	for _, tc := range []struct {
		count    int
		lift     float64
		credible bool
	}{
		{2, 1.1, false}, {20, 1.5, false}, {15, 1.2, false}, {5, 2, false},
		{4, 6.5, true}, {12, 3.4, true}, {121, 1.3, true}, {443, 1.3, true},
	} {
		c := CredibleLift(tc.count, tc.lift)
		assert.Equal(t, tc.credible, c >= 1, "count %d lift %v: %v", tc.count, tc.lift, c)
		assert.Less(t, c, tc.lift, "the lower end is below the estimate")
		words := string(AppendCredibleLift([]byte("x"), tc.count, tc.lift))
		if tc.credible {
			assert.Equal(t, string(AppendLift([]byte("x"), tc.lift)), words)
		} else {
			assert.Equal(t, "x", words)
		}
	}
	for _, bad := range []struct {
		count int
		lift  float64
	}{{0, 2}, {-3, 2}, {5, 0}, {5, -1}, {5, math.NaN()}, {5, math.Inf(1)}} {
		assert.Zero(t, CredibleLift(bad.count, bad.lift), "%+v", bad)
	}
	// more co-purchases at the same lift are more credible
	prev := 0.0
	for c := 1; c < 2000; c++ {
		v := CredibleLift(c, 1.2)
		require.Greater(t, v, prev, "count %d", c)
		prev = v
	}
	assert.InDelta(t, 1.2, prev, 0.06, "the bound approaches the estimate")
}
