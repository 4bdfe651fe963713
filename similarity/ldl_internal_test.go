package similarity

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// randomSPD returns a random sparse m×m matrix of the form XᵀX + λI (X a
// random 0/1 matrix of n rows), densely.
func randomSPD(rng *rand.Rand, m, n int, p, lambda float64) *mat.SymDense {
	a := mat.NewSymDense(m, nil)
	for range n {
		var row []int
		for i := range m {
			if rng.Float64() < p {
				row = append(row, i)
			}
		}
		for _, i := range row {
			for _, j := range row {
				if i <= j {
					a.SetSym(i, j, a.At(i, j)+1)
				}
			}
		}
	}
	for i := range m {
		a.SetSym(i, i, a.At(i, i)+lambda)
	}
	return a
}

func ldlOf(t *testing.T, a *mat.SymDense, o ldlOptions) (*sparseCols, []float64) {
	m := a.SymmetricDim()
	diag := make([]float64, m)
	for i := range m {
		diag[i] = a.At(i, i)
	}
	l, d, err := incompleteLDL(context.Background(), m, diag, func(j int, emit func(int32, float64)) {
		for i := m - 1; i > j; i-- { // any order
			if v := a.At(i, j); v != 0 {
				emit(int32(i), v)
			}
		}
	}, o)
	require.NoError(t, err)
	return l, d
}

// dense returns the unit lower triangular matrix I + s.
func (s *sparseCols) dense(m int) *mat.Dense {
	x := mat.NewDense(m, m, nil)
	for j := range m {
		x.Set(j, j, 1)
		rows, vals := s.col(j)
		for t, i := range rows {
			x.Set(int(i), j, vals[t])
		}
	}
	return x
}

func TestIncompleteLDLExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for trial := range 20 {
		m := 1 + rng.IntN(40)
		a := randomSPD(rng, m, 30, 0.1+0.3*rng.Float64(), 0.5+rng.Float64()*3)
		exact := ldlOptions{fill: -1, minPivot: 0.5}
		l, d := ldlOf(t, a, exact)
		// L·D·Lᵀ = A
		ld := l.dense(m)
		var prod mat.Dense
		prod.Mul(ld, mat.NewDiagDense(m, d))
		prod.Mul(&prod, ld.T())
		for i := range m {
			for j := range m {
				require.InDelta(t, a.At(i, j), prod.At(i, j), 1e-9*(1+a.At(i, i)), "trial %d (%d,%d)", trial, i, j)
			}
		}
		// K·L = I
		k, err := approxInverse(context.Background(), l, m, exact, 2)
		require.NoError(t, err)
		var id mat.Dense
		id.Mul(k.dense(m), ld)
		for i := range m {
			for j := range m {
				want := 0.0
				if i == j {
					want = 1
				}
				require.InDelta(t, want, id.At(i, j), 1e-9, "trial %d (%d,%d)", trial, i, j)
			}
		}
	}
}

// TestIncompleteLDLDrops checks the bounds on the fill, and that the
// compensated incomplete factorisation is the exact factorisation of a
// matrix M = L·D·Lᵀ with M − A positive semidefinite, so every pivot is at
// least λ.
func TestIncompleteLDLDrops(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	const m, lambda = 60, 1.5
	a := randomSPD(rng, m, 200, 0.2, lambda)
	for _, o := range []ldlOptions{{fill: 0, compensate: true}, {fill: 3, compensate: true}, {fill: -1, tol: 0.05, compensate: true}, {fill: 5, tol: 0.01, compensate: true}} {
		l, d := ldlOf(t, a, o)
		for j := range m {
			rows, _ := l.col(j)
			if o.fill >= 0 {
				assert.LessOrEqual(t, len(rows), o.fill)
			}
			for t2, i := range rows {
				assert.Greater(t, int(i), j)
				if t2 > 0 {
					assert.Less(t, rows[t2-1], i, "rows ascend")
				}
			}
			assert.GreaterOrEqual(t, d[j], lambda*(1-1e-12), "pivot %d", j)
		}
		ld := l.dense(m)
		var e mat.Dense
		e.Mul(ld, mat.NewDiagDense(m, d))
		e.Mul(&e, ld.T())
		e.Sub(&e, a)
		var eig mat.EigenSym
		require.True(t, eig.Factorize(mat.NewSymDense(m, e.RawMatrix().Data), false))
		assert.GreaterOrEqual(t, eig.Values(nil)[0], -1e-9, "L·D·Lᵀ − A is positive semidefinite, %+v", o)

		k, err := approxInverse(context.Background(), l, m, o, 3)
		require.NoError(t, err)
		k1, err := approxInverse(context.Background(), l, m, o, 1)
		require.NoError(t, err)
		assert.Equal(t, k1, k, "independent of the workers")
		for j := range m {
			rows, _ := k.col(j)
			if o.fill >= 0 {
				assert.LessOrEqual(t, len(rows), o.fill)
			}
		}
	}
}

// TestKeepLargest checks the selection against a sort.
func TestKeepLargest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 500 {
		n := rng.IntN(60)
		w := make([]float64, n)
		idx := make([]int32, n)
		for i := range w {
			w[i] = float64(rng.IntN(9) - 4) // many ties
			idx[i] = int32(i)
		}
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		fill := rng.IntN(n + 2)
		want := slices.Clone(idx)
		slices.SortFunc(want, func(a, b int32) int {
			return cmp.Or(cmp.Compare(math.Abs(w[b]), math.Abs(w[a])), cmp.Compare(a, b))
		})
		want = want[:min(fill, n)]
		got := slices.Clone(keepLargest(idx, w, ldlOptions{fill: fill}))
		slices.SortFunc(got, func(a, b int32) int {
			return cmp.Or(cmp.Compare(math.Abs(w[b]), math.Abs(w[a])), cmp.Compare(a, b))
		})
		require.Equal(t, want, got, "n %d fill %d", n, fill)
	}
}

// TestFactorResidual checks columnResidual and factorResidual against a
// dense computation of ‖A·x − e_j‖₂, x = (L·D·Lᵀ)⁻¹·e_j: zero for the exact
// factor, and the dense value for factors with entries dropped.
func TestFactorResidual(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 11))
	for trial := range 12 {
		m := 1 + rng.IntN(50)
		a := randomSPD(rng, m, 120, 0.1+0.3*rng.Float64(), 0.5+rng.Float64())
		diag := make([]float64, m)
		for i := range m {
			diag[i] = a.At(i, i)
		}
		ax := func(k int, x []float64) float64 {
			var v float64
			for i := range m {
				v += a.At(k, i) * x[i]
			}
			return v
		}
		for _, o := range []ldlOptions{{fill: -1}, {fill: 2, compensate: true}, {fill: 0, compensate: true}, {fill: -1, tol: 0.1, compensate: true}} {
			l, d := ldlOf(t, a, o)
			ld := l.dense(m)
			var f mat.Dense
			f.Mul(ld, mat.NewDiagDense(m, d))
			f.Mul(&f, ld.T())
			x, y := make([]float64, m), make([]float64, m)
			var worst float64
			for j := range m {
				e := mat.NewVecDense(m, nil)
				e.SetVec(j, 1)
				var xv, r mat.VecDense
				require.NoError(t, xv.SolveVec(&f, e))
				r.MulVec(a, &xv)
				r.SubVec(&r, e)
				want := mat.Norm(&r, 2)
				got := columnResidual(l, d, m, ax, j, x, y)
				require.InDelta(t, want, got, 1e-9*(1+want), "trial %d column %d %+v", trial, j, o)
				if o.fill < 0 && o.tol == 0 {
					require.Less(t, got, 1e-9, "exact factor")
				}
				if m <= residualColumns {
					worst = max(worst, got)
				}
			}
			if m <= residualColumns {
				for _, workers := range []int{1, 3} {
					got, err := factorResidual(ctx, l, d, m, ax, workers)
					require.NoError(t, err)
					require.Equal(t, worst, got, "every column sampled")
				}
			}
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := factorResidual(done, nil, nil, 5, nil, 1)
	require.ErrorIs(t, err, context.Canceled)
}

// TestGrowFill checks the automatic fill's steps and bounds.
func TestGrowFill(t *testing.T) {
	for _, tc := range []struct {
		f, m      int
		breakdown bool
		want      int
		ok        bool
	}{
		{64, 1000, true, 128, true},
		{64, 1000, false, 96, true},
		{256, 3500, false, 384, true},
		{384, 3500, false, 512, true}, // 576 clamped to the fill bound
		{512, 3500, true, 512, false},
		{256, 100_000, true, 335, true}, // 2²⁵ entries over 100,000 columns
		{335, 100_000, false, 335, false},
		{64, 1 << 20, false, 64, false}, // the entry bound is below the start
	} {
		got, ok := growFill(tc.f, tc.m, tc.breakdown)
		assert.Equal(t, tc.want, got, "%+v", tc)
		assert.Equal(t, tc.ok, ok, "%+v", tc)
	}
	// from the start the steps reach the bound and stop there
	f, steps := DefaultSparseEASEFill, 0
	for next, ok := growFill(f, 2000, false); ok; next, ok = growFill(f, 2000, false) {
		require.Greater(t, next, f)
		f, steps = next, steps+1
	}
	assert.Equal(t, maxAutoFill, f)
	assert.Equal(t, 6, steps, "64, 96, 144, 216, 324, 486, 512")
}
