package similarity

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestSelectRowMatchesSort checks the row selection — estimated floor,
// threshold buffer, quickselect, fallback when the floor was too high —
// against sorting every candidate, on random rows with ties, NaNs,
// infinities, entries below the minimum support, and rows whose sampled
// positions hold the best scores (so the estimate overshoots).
func TestSelectRowMatchesSort(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	var top topK
	fallbacks := 0
	for iter := range testdata.Scale(4000, 400) {
		n := rng.IntN(3000)
		k := 1 + rng.IntN(80)
		scores := make([]float32, n)
		vals := make([]uint32, n)
		levels := 1 + rng.IntN(50) // few levels: many ties
		for i := range scores {
			scores[i] = float32(rng.IntN(levels)) / float32(levels)
			vals[i] = uint32(1 + rng.IntN(4))
			switch rng.IntN(200) {
			case 0:
				scores[i] = float32(math.NaN())
			case 1:
				scores[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
			case 2:
				scores[i] = float32(math.Copysign(0, -1))
			}
		}
		if iter%3 == 0 && n > 0 {
			// the best scores exactly where the floor estimate samples
			m := min(n/2, 4*k)
			for j := range m {
				scores[j*n/max(m, 1)] = 2 + float32(j)/float32(m)
			}
		}
		minSup := uint32(1 + rng.IntN(2))
		type cand struct {
			v float32
			i int
		}
		var want []cand
		for i, v := range scores {
			if vals[i] >= minSup && v == v {
				want = append(want, cand{v + 0, i})
			}
		}
		slices.SortFunc(want, func(x, y cand) int { return cmp.Or(cmp.Compare(y.v, x.v), cmp.Compare(x.i, y.i)) })
		want = want[:min(k, len(want))]

		top.reset(k)
		floor := estimateFloor(scores, vals, minSup, k)
		top.Floor = floor
		offerRow(&top, scores, vals, minSup)
		if top.Len() < k && !math.IsInf(float64(floor), -1) {
			fallbacks++
		}
		top.reset(k)
		selectRow(&top, scores, vals, minSup)
		got := top.sorted()
		require.Len(t, got, len(want), "iteration %d", iter)
		for r, key := range got {
			v, i := unpackKey(key)
			if want[r].i != int(i) || want[r].v != v { // compared first: require's bookkeeping costs more than the selection
				require.Equal(t, want[r].i, int(i), "iteration %d rank %d", iter, r)
				require.Equal(t, want[r].v, v)
			}
		}
	}
	require.Positive(t, fallbacks, "the fallback path is exercised")
}
