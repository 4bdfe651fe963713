package clv

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// A one-point range (every row of a frequency at one T) gets the check of
// any other: an output that is not finite (the logarithm of an expectation
// that underflows) gives no interpolant, a finite one a constant.
func TestFitChebOnePointChecksOutputs(t *testing.T) {
	for _, lo := range []float64{0, 2.5} {
		for _, hi := range []float64{lo, lo + 1} {
			for _, bad := range []float64{math.Inf(-1), math.Inf(1), math.NaN()} {
				_, ok, err := fitCheb(lo, hi, 2, func(u float64, out []float64) error {
					out[0], out[1] = u, bad
					return nil
				})
				require.NoError(t, err)
				require.False(t, ok, "[%v, %v], output %v", lo, hi, bad)
			}
			ps, ok, err := fitCheb(lo, hi, 2, func(u float64, out []float64) error {
				out[0], out[1] = -3, -700
				return nil
			})
			require.NoError(t, err)
			require.True(t, ok, "[%v, %v]", lo, hi)
			require.Len(t, ps, 2)
			require.InDelta(t, -3, ps[0].c[0], 1e-12)
		}
	}
}
