package clv

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFitChebStopsAtNonFinite: an output that is not finite at a node
// cannot be fitted by more nodes, so the fit gives up at the first level
// (16 nodes) instead of doubling to maxChebNodes, each level an O(n²)
// transform.
func TestFitChebStopsAtNonFinite(t *testing.T) {
	for _, bad := range []float64{math.Inf(-1), math.Inf(1), math.NaN()} {
		calls := 0
		_, ok, err := fitCheb(1, 2, 2, func(u float64, out []float64) error {
			calls++
			out[0], out[1] = u, 0
			if u > 1.9 { // non-finite near one end of the interval only
				out[1] = bad
			}
			return nil
		})
		require.NoError(t, err)
		require.False(t, ok, "output %v", bad)
		require.LessOrEqual(t, calls, 16, "output %v: nodes sampled", bad)
	}
}
