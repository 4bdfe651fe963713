package similarity_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
)

func TestSetFixtures(t *testing.T) {
	a := roaring.BitmapOf(1, 2, 3, 4, 5, 6)
	b := roaring.BitmapOf(4, 5, 6, 7)
	// |a| = 6, |b| = 4, |a∩b| = 3, |a∪b| = 7
	assert.InDelta(t, 3.0/7, similarity.SetJaccard(a, b), 1e-12)
	assert.InDelta(t, 6.0/10, similarity.SetDice(a, b), 1e-12)
	assert.InDelta(t, 3/math.Sqrt(24), similarity.SetCosine(a, b), 1e-12)
	assert.InDelta(t, 3.0/4, similarity.SetOverlap(a, b), 1e-12)
	assert.Equal(t, similarity.PairCount{N: 10, A: 6, B: 4, AB: 3}, similarity.SetPair(a, b, 10))
	assert.Equal(t, similarity.PairCount{N: 7, A: 6, B: 4, AB: 3}, similarity.SetPair(a, b, 0), "n raised to |a∪b|")
	assert.InDelta(t, 3.0*10/24, similarity.Lift.Score(similarity.SetPair(a, b, 10)), 1e-12)

	empty := roaring.New()
	for _, f := range []func(a, b *roaring.Bitmap) float64{similarity.SetJaccard, similarity.SetDice, similarity.SetCosine, similarity.SetOverlap} {
		assert.Zero(t, f(empty, a))
		assert.Zero(t, f(empty, empty))
		assert.Equal(t, 1.0, f(a, a))
	}
}

func TestSetsMatchNaiveOnRandomData(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for range testdata.Scale(120, 30) {
		universe := 1 + rng.IntN(140_000) // spans array, bitmap and run containers
		da, db := rng.Float64(), rng.Float64()
		a, b := roaring.New(), roaring.New()
		sa, sb := map[uint32]bool{}, map[uint32]bool{}
		for i := range uint32(universe) {
			if rng.Float64() < da*0.1 {
				a.Add(i)
				sa[i] = true
			}
			if rng.Float64() < db*0.1 {
				b.Add(i)
				sb[i] = true
			}
		}
		if rng.IntN(2) == 0 {
			a.RunOptimize()
		}
		inter := 0
		for x := range sa {
			if sb[x] {
				inter++
			}
		}
		na, nb, ni := float64(len(sa)), float64(len(sb)), float64(inter)
		if na == 0 || nb == 0 {
			assert.Zero(t, similarity.SetJaccard(a, b))
			continue
		}
		assert.InDelta(t, ni/(na+nb-ni), similarity.SetJaccard(a, b), 1e-12)
		assert.InDelta(t, 2*ni/(na+nb), similarity.SetDice(a, b), 1e-12)
		assert.InDelta(t, ni/math.Sqrt(na*nb), similarity.SetCosine(a, b), 1e-12)
		assert.InDelta(t, ni/math.Min(na, nb), similarity.SetOverlap(a, b), 1e-12)
		assert.Equal(t, similarity.SetJaccard(a, b), similarity.SetJaccard(b, a))
	}
}

func TestSetMeasuresDoNotAllocate(t *testing.T) {
	a := roaring.BitmapOf(1, 2, 3, 100_000, 100_001)
	b := roaring.BitmapOf(2, 3, 4, 100_001)
	allocs := testing.AllocsPerRun(100, func() {
		similarity.SetJaccard(a, b)
		similarity.SetCosine(a, b)
	})
	assert.Zero(t, allocs)
}
