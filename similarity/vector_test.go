package similarity_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

func TestVectorFixtures(t *testing.T) {
	x := []float64{1, 2, 0, 3}
	y := []float64{2, 0, 1, 3}
	mean := []float64{2, 1, 1, 1}
	cases := []struct {
		name string
		f    func() (float64, error)
		want float64
	}{
		// 1·2 + 0 + 0 + 9
		{"dot", func() (float64, error) { return similarity.VecDot(x, y) }, 11},
		// 11 / (√14·√14)
		{"cosine", func() (float64, error) { return similarity.VecCosine(x, y) }, 11.0 / 14},
		// means 1.5, 1.5: centred (−.5,.5,−1.5,1.5), (.5,−1.5,−.5,1.5):
		// (−.25 −.75 +.75 +2.25) / √(5·5)
		{"pearson", func() (float64, error) { return similarity.VecPearson(x, y) }, 2.0 / 5},
		// co-rated users 0 and 3: (1−2)(2−2) + (3−1)(3−1) = 4; √((1+4)·(0+4)) = √20
		{"adjusted cosine", func() (float64, error) { return similarity.VecAdjustedCosine(x, y, mean) }, 4 / math.Sqrt(20)},
		// ‖x−y‖ = √(1+4+1+0) = √6
		{"euclidean", func() (float64, error) { return similarity.VecEuclidean(x, y) }, 1 / (1 + math.Sqrt(6))},
		// Σmin = 1+0+0+3 = 4, Σmax = 2+2+1+3 = 8
		{"weighted jaccard", func() (float64, error) { return similarity.VecWeightedJaccard(x, y) }, 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f()
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
}

func TestVectorZeroAndEmpty(t *testing.T) {
	zero := []float64{0, 0, 0}
	x := []float64{1, 2, 3}
	flat := []float64{2, 2, 2}
	for name, f := range map[string]similarity.VectorFunc{
		"cosine": similarity.VecCosine, "pearson": similarity.VecPearson, "weighted jaccard": similarity.VecWeightedJaccard,
	} {
		v, err := f(zero, x)
		require.NoError(t, err)
		assert.Zero(t, v, name)
		v, err = f(nil, nil)
		require.NoError(t, err)
		assert.Zero(t, v, name+" empty")
	}
	v, err := similarity.VecPearson(flat, x)
	require.NoError(t, err)
	assert.Zero(t, v, "constant vector has no correlation")
	v, err = similarity.VecEuclidean(zero, zero)
	require.NoError(t, err)
	assert.Equal(t, 1.0, v)
	v, err = similarity.VecAdjustedCosine([]float64{1, 0}, []float64{0, 1}, []float64{1, 1})
	require.NoError(t, err)
	assert.Zero(t, v, "no co-rated user")
}

func TestVectorErrors(t *testing.T) {
	x, y := []float64{1, 2}, []float64{1, 2, 3}
	for name, f := range map[string]similarity.VectorFunc{
		"dot": similarity.VecDot, "cosine": similarity.VecCosine, "pearson": similarity.VecPearson,
		"euclidean": similarity.VecEuclidean, "weighted jaccard": similarity.VecWeightedJaccard,
	} {
		_, err := f(x, y)
		assert.ErrorIs(t, err, similarity.ErrLength, name)
	}
	_, err := similarity.VecAdjustedCosine(x, x, y)
	assert.ErrorIs(t, err, similarity.ErrLength)
	_, err = similarity.VecWeightedJaccard([]float64{1, -1}, []float64{1, 1})
	assert.ErrorIs(t, err, similarity.ErrNegative)
}

// naive references, written straight from the definitions
func naiveDot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func naiveCosine(x, y []float64) float64 {
	nx, ny := math.Sqrt(naiveDot(x, x)), math.Sqrt(naiveDot(y, y))
	if nx == 0 || ny == 0 {
		return 0
	}
	return naiveDot(x, y) / (nx * ny)
}

func centred(x []float64) []float64 {
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - m
	}
	return out
}

func TestVectorsMatchNaiveOnRandomData(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 71))
	for range 2000 {
		n := 1 + rng.IntN(40)
		x, y, mean := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			if rng.Float64() < 0.7 {
				x[i] = float64(1 + rng.IntN(5))
			}
			if rng.Float64() < 0.7 {
				y[i] = float64(1 + rng.IntN(5))
			}
			mean[i] = 1 + 4*rng.Float64()
		}
		got, err := similarity.VecDot(x, y)
		require.NoError(t, err)
		assert.InDelta(t, naiveDot(x, y), got, 1e-9)

		got, err = similarity.VecCosine(x, y)
		require.NoError(t, err)
		assert.InDelta(t, naiveCosine(x, y), got, 1e-12)
		assert.True(t, got >= -1 && got <= 1)

		got, err = similarity.VecPearson(x, y)
		require.NoError(t, err)
		assert.InDelta(t, naiveCosine(centred(x), centred(y)), got, 1e-9)

		var ax, ay []float64
		for u := range n {
			if x[u] != 0 && y[u] != 0 {
				ax = append(ax, x[u]-mean[u])
				ay = append(ay, y[u]-mean[u])
			}
		}
		got, err = similarity.VecAdjustedCosine(x, y, mean)
		require.NoError(t, err)
		assert.InDelta(t, naiveCosine(ax, ay), got, 1e-9)

		d := 0.0
		for i := range x {
			d += (x[i] - y[i]) * (x[i] - y[i])
		}
		got, err = similarity.VecEuclidean(x, y)
		require.NoError(t, err)
		assert.InDelta(t, 1/(1+math.Sqrt(d)), got, 1e-12)

		lo, hi := 0.0, 0.0
		for i := range x {
			lo += math.Min(x[i], y[i])
			hi += math.Max(x[i], y[i])
		}
		want := 0.0
		if hi > 0 {
			want = lo / hi
		}
		got, err = similarity.VecWeightedJaccard(x, y)
		require.NoError(t, err)
		assert.InDelta(t, want, got, 1e-12)

		// symmetric measures
		for _, f := range []similarity.VectorFunc{similarity.VecCosine, similarity.VecPearson, similarity.VecEuclidean, similarity.VecWeightedJaccard} {
			a, _ := f(x, y)
			b, _ := f(y, x)
			assert.InDelta(t, a, b, 1e-12)
		}
	}
}

func TestWeightedJaccardOnBinaryIsSetJaccard(t *testing.T) {
	x := []float64{1, 1, 0, 1, 0}
	y := []float64{1, 0, 1, 1, 0}
	got, err := similarity.VecWeightedJaccard(x, y)
	require.NoError(t, err)
	assert.InDelta(t, 2.0/4, got, 1e-12)
}

func TestOnVectors(t *testing.T) {
	m := mat.NewDense(3, 2, []float64{1, 4, 2, 5, 3, 6})
	u := m.ColView(0) // strided: copied
	v := mat.NewVecDense(3, []float64{4, 5, 6})
	got, err := similarity.OnVectors(similarity.VecCosine, u, v)
	require.NoError(t, err)
	want := naiveCosine([]float64{1, 2, 3}, []float64{4, 5, 6})
	assert.InDelta(t, want, got, 1e-12)
	got, err = similarity.OnVectors(similarity.VecDot, v, v)
	require.NoError(t, err)
	assert.Equal(t, 77.0, got)
	_, err = similarity.OnVectors(similarity.VecCosine, mat.NewVecDense(2, nil), v)
	assert.ErrorIs(t, err, similarity.ErrLength)
	means := []float64{1, 1, 1}
	adj := func(x, y []float64) (float64, error) { return similarity.VecAdjustedCosine(x, y, means) }
	got, err = similarity.OnVectors(adj, u, v)
	require.NoError(t, err)
	assert.InDelta(t, naiveCosine([]float64{0, 1, 2}, []float64{3, 4, 5}), got, 1e-12)
}

func TestVectorMeasuresDoNotAllocate(t *testing.T) {
	x, y := []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}
	allocs := testing.AllocsPerRun(100, func() {
		similarity.VecCosine(x, y)
		similarity.VecPearson(x, y)
		similarity.VecWeightedJaccard(x, y)
		similarity.VecEuclidean(x, y)
	})
	assert.Zero(t, allocs)
}

// TestVecRangeOfEntries: the vector measures do not see the scale of
// their entries, however large or small — cosine, Pearson, adjusted
// cosine and weighted Jaccard not at all, Euclidean only through the
// distance, which scales with them, and the dot product is the scaled one
// while in range (products of 1e200 once overflowed into NaN, of 1e-200
// underflowed into 0; sums of entries near the largest float64 made
// weighted Jaccard NaN and Euclidean 0).
func TestVecRangeOfEntries(t *testing.T) {
	x, y := []float64{1, 1, 3}, []float64{1, 2, 0.5}
	mean := []float64{0.5, 1.5, 1}
	cos, err := similarity.VecCosine(x, y)
	require.NoError(t, err)
	pear, err := similarity.VecPearson(x, y)
	require.NoError(t, err)
	adj, err := similarity.VecAdjustedCosine(x, y, mean)
	require.NoError(t, err)
	wj, err := similarity.VecWeightedJaccard(x, y)
	require.NoError(t, err)
	dot, err := similarity.VecDot(x, y)
	require.NoError(t, err)
	eu, err := similarity.VecEuclidean(x, y)
	require.NoError(t, err)
	dist := 1/eu - 1
	scaled := func(v []float64, s float64) []float64 {
		out := make([]float64, len(v))
		for i := range v {
			out[i] = v[i] * s
		}
		return out
	}
	for _, sx := range []float64{1e-300, 1e-200, 1e-120, 1, 1e120, 1e200, 1e300, 0x1p1021} {
		for _, sy := range []float64{1e-300, 1, 1e300} {
			got, err := similarity.VecCosine(scaled(x, sx), scaled(y, sy))
			require.NoError(t, err)
			assert.InDelta(t, cos, got, 1e-12, "cosine, scales %g %g", sx, sy)
			got, err = similarity.VecPearson(scaled(x, sx), scaled(y, sy))
			require.NoError(t, err)
			assert.InDelta(t, pear, got, 1e-12, "pearson, scales %g %g", sx, sy)
			if want := sx * sy * dot; math.Abs(want) > 1e-290 && math.Abs(want) < 1e290 {
				got, err = similarity.VecDot(scaled(x, sx), scaled(y, sy))
				require.NoError(t, err)
				assert.InEpsilon(t, want, got, 1e-12, "dot, scales %g %g", sx, sy)
			}
		}
		got, err := similarity.VecAdjustedCosine(scaled(x, sx), scaled(y, sx), scaled(mean, sx))
		require.NoError(t, err)
		assert.InDelta(t, adj, got, 1e-12, "adjusted cosine, scale %g", sx)
		got, err = similarity.VecWeightedJaccard(scaled(x, sx), scaled(y, sx))
		require.NoError(t, err)
		assert.InDelta(t, wj, got, 1e-12, "weighted Jaccard, scale %g", sx)
		got, err = similarity.VecEuclidean(scaled(x, sx), scaled(y, sx))
		require.NoError(t, err)
		assert.InEpsilon(t, 1/(1+sx*dist), got, 1e-12, "Euclidean, scale %g", sx)
	}
	// the extremes: sums and differences of the largest float64
	big := []float64{math.MaxFloat64, math.MaxFloat64}
	got, err := similarity.VecWeightedJaccard(big, big)
	require.NoError(t, err)
	assert.Equal(t, 1.0, got, "weighted Jaccard of equal vectors")
	got, err = similarity.VecWeightedJaccard(big, []float64{math.MaxFloat64, 0})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, got, 1e-12)
	got, err = similarity.VecEuclidean(big, big)
	require.NoError(t, err)
	assert.Equal(t, 1.0, got, "Euclidean of equal vectors")
	got, err = similarity.VecEuclidean([]float64{math.MaxFloat64}, []float64{-math.MaxFloat64})
	require.NoError(t, err)
	assert.Positive(t, got, "the distance 2·MaxFloat64 overflows; the similarity stays in (0, 1]")
	assert.InEpsilon(t, 1/math.MaxFloat64/2, got, 1e-12)
	got, err = similarity.VecEuclidean([]float64{math.MaxFloat64, -math.MaxFloat64}, []float64{-math.MaxFloat64, math.MaxFloat64})
	require.NoError(t, err)
	assert.InEpsilon(t, 1/math.MaxFloat64/2/math.Sqrt2, got, 1e-12)
}
