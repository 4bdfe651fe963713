package similarity_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/similarity"
)

// TestVecPearsonConstant: a constant vector has no variance, so its
// Pearson correlation with anything is 0, as documented — even where its
// mean, summed in floating point, is not exactly its value (34.0285… over
// 433 entries), which left both centred vectors a constant rounding error
// apart from zero and their correlation ±1.
func TestVecPearsonConstant(t *testing.T) {
	rng := rand.New(rand.NewPCG(70, 4))
	for range 300 {
		n := 2 + rng.IntN(500)
		c, d := rng.Float64()*100, rng.Float64()*100
		switch rng.IntN(4) {
		case 0:
			c *= 0x1p500 // scaled before the sums
		case 1:
			d *= 0x1p-600
		}
		x, y, z := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i], z[i] = c, d, rng.Float64()
		}
		for _, pair := range [][2][]float64{{x, y}, {y, x}, {x, x}, {x, z}, {z, y}} {
			v, err := similarity.VecPearson(pair[0], pair[1])
			require.NoError(t, err)
			require.Zero(t, v, "n %d, c %v, d %v", n, c, d)
		}
	}
	v, err := similarity.VecPearson([]float64{34.02859786606234, 34.02859786606234}, []float64{1, 2})
	require.NoError(t, err)
	require.Zero(t, v)
}
