package recommend

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestPopularityMatchesNaive checks the fixed-point popularity against a
// float64 sum of 2^(−age/halfLife) over the bought lines and weighted
// events, for random shops, half-lives and event weights up to absurd
// ones (whose fixed point has fewer bits), half-lives of hours to a
// year, as of the latest time and earlier: every product within a millionth of the largest value, plus
// the fixed point's resolution.
func TestPopularityMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 21))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 50 + r.IntN(200), Products: 20 + r.IntN(60), Categories: 3, Seed: seed + 1})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		np := h.Catalog().NumProducts()
		var ew [affinity.Wishlist + 1]float32
		absurd := seed%4 == 3 // a weight that leaves the fixed point fewer bits
		for k := range ew {
			ew[k] = []float32{0, 0.1, 1, 3}[r.IntN(4)]
			if absurd {
				ew[k] = 1e12
			}
		}
		phl := float64((1 + r.IntN(400)) * 24 * 3600)
		if seed%3 == 1 {
			phl = float64((1 + r.IntN(48)) * 3600) // hours: blocks of a few half-lives
		}
		asOf := h.Latest().Unix() - int64(r.IntN(3))*int64(r.IntN(90))*24*3600
		got, err := newPopularity(ctx, h, np, asOf, phl, ew)
		require.NoError(t, err)
		want := naivePopularity(h, np, asOf, phl, ew)
		top := 0.0
		for _, v := range want {
			top = max(top, v)
		}
		// a line's weight is kept to 2^−shift of its full weight
		tol := 1e-6*top + 1e-9 + float64(h.NumLines()+h.NumEvents())*math.Ldexp(1, -got.shift)*math.Exp2(float64(got.ref-asOf)/phl)
		if absurd {
			require.Less(t, got.shift, 32, "seed %d: weights of 1e12 keep 32 bits", seed)
		}
		for p, v := range want {
			require.InDelta(t, v, float64(got.pop[p]), tol, "seed %d, product %d (weights %v, half-life %v)", seed, p, ew, time.Duration(phl)*time.Second)
		}
		require.InDelta(t, 1, float64(got.popNorm[got.popOrder[0]]), 1e-9, "seed %d: the first of popOrder has the greatest popularity", seed)
	}
}
