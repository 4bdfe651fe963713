package topk

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

func TestScoreKeysOrder(t *testing.T) {
	vals := []float32{float32(math.Inf(-1)), -math.MaxFloat32, -1, -1e-30, 0, 1e-30, 0.5, 1, math.MaxFloat32, float32(math.Inf(1))}
	for i := 1; i < len(vals); i++ {
		require.Less(t, scoreBits(vals[i]), scoreBits(vals[i-1]), "%v before %v", vals[i], vals[i-1])
		require.Equal(t, vals[i], scoreFromBits(scoreBits(vals[i])))
	}
	require.Equal(t, scoreBits(0), scoreBits(float32(math.Copysign(0, -1))), "−0 is +0")
}

// TestKeysMatchesSort checks the selection against sorting every pair, on
// random streams with many ties.
func TestKeysMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var top Keys
	for iter := range testdata.Scale(2000, 300) {
		n, k := rng.IntN(2000), rng.IntN(60)
		levels := 1 + rng.IntN(30)
		type pair struct {
			v  float32
			id uint32
		}
		ps := make([]pair, n)
		for i := range ps {
			ps[i] = pair{float32(rng.IntN(levels)) - float32(levels)/2, uint32(i)}
		}
		rng.Shuffle(n, func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		top.Reset(k)
		for _, p := range ps {
			top.Push(p.v, p.id)
		}
		slices.SortFunc(ps, func(x, y pair) int { return cmp.Or(cmp.Compare(y.v, x.v), cmp.Compare(x.id, y.id)) })
		want := ps[:min(k, n)]
		got := top.Sorted()
		require.Len(t, got, len(want), "iteration %d", iter)
		for r, key := range got {
			v, id := Unpack(key)
			require.Equal(t, want[r], pair{v, id}, "iteration %d rank %d", iter, r)
		}
	}
}

func TestKeysNoAllocAfterWarmup(t *testing.T) {
	var top Keys
	top.Reset(50)
	for i := range 1000 {
		top.Push(float32(i%37), uint32(i))
	}
	allocs := testing.AllocsPerRun(10, func() {
		top.Reset(50)
		for i := range 1000 {
			top.Push(float32(i%37), uint32(i))
		}
		top.Sorted()
	})
	require.Zero(t, allocs)
}
