package similarity_test

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func denseOf(m *similarity.ItemMatrix) *mat.Dense {
	r, c := m.Dims()
	d := mat.NewDense(r, c, nil)
	for p := range r {
		cols, vals := m.Row(affinity.ProductID(p))
		for i, t := range cols {
			d.Set(p, int(t), vals[i])
		}
	}
	return d
}

func TestEmbedMatchesExactSVD(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(12, 12)), randomOptions{customers: 80, products: 30, orders: 400, maxLines: 5})
	h := d.history(t, nil)
	m0, err := similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	m, err := m0.BM25(similarity.BM25Params{})
	require.NoError(t, err)
	a := denseOf(m)
	var svd mat.SVD
	require.True(t, svd.Factorize(a, mat.SVDThin))
	sigma := svd.Values(nil)
	var u mat.Dense
	svd.UTo(&u)

	cases := []struct {
		name       string
		opts       similarity.EmbedOptions
		tolS, tolG float64
	}{
		// the range finder spans the whole row space: exact up to rounding
		{"full range", similarity.EmbedOptions{Dim: 8, Oversample: 40}, 1e-9, 1e-8},
		// truncated: subspace iteration converges on the leading part
		{"randomised", similarity.EmbedOptions{Dim: 5, Oversample: 6, Iterations: 6, Workers: 3}, 1e-3, 2e-2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := similarity.Embed(ctx, m, tc.opts)
			require.NoError(t, err)
			dim := e.Dim()
			require.Equal(t, tc.opts.Dim, dim)
			require.Equal(t, 30, e.NumProducts())
			for k, s := range e.SingularValues() {
				assert.InEpsilon(t, sigma[k], s, tc.tolS, "σ%d", k)
			}
			// E·Eᵀ = U_d·Σ_d²·U_dᵀ, whatever the signs and rotations
			scale := sigma[0] * sigma[0]
			for i := range 30 {
				for j := range 30 {
					want := 0.0
					for k := range dim {
						want += u.At(i, k) * u.At(j, k) * sigma[k] * sigma[k]
					}
					got, err := similarity.VecDot(e.Vector(affinity.ProductID(i)), e.Vector(affinity.ProductID(j)))
					require.NoError(t, err)
					assert.InDelta(t, want/scale, got/scale, tc.tolG, "(%d,%d)", i, j)
				}
			}
		})
	}
	e1, err := similarity.Embed(ctx, m, similarity.EmbedOptions{Dim: 4, Seed: 9})
	require.NoError(t, err)
	e2, err := similarity.Embed(ctx, m, similarity.EmbedOptions{Dim: 4, Seed: 9, Workers: 1})
	require.NoError(t, err)
	for p := range 30 {
		for k, v := range e1.Vector(affinity.ProductID(p)) {
			assert.InDelta(t, v, e2.Vector(affinity.ProductID(p))[k], 1e-9, "same seed, same embedding")
		}
	}
	assert.Nil(t, e1.Vector(1000))
}

// pairwiseTopK is the plain loop the block-wise search replaces: the
// cosine of every pair, one dot product at a time, each row's k best
// (score descending, ties by product) kept by insertion. The cosine is
// VecCosine's, x·y / (‖x‖·‖y‖) clamped to [−1, 1], with each vector's
// norm (and whether it is zero) computed once rather than for every pair.
func pairwiseTopK(e *similarity.Embedding, k int) [][]similarity.Neighbor {
	n := e.NumProducts()
	rows := make([][]similarity.Neighbor, n)
	before := func(x, y similarity.Neighbor) bool {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product)) < 0
	}
	norm := make([]float64, n)
	zero := make([]bool, n)
	for a := range n {
		va := e.Vector(affinity.ProductID(a))
		norm[a], zero[a] = floats.Norm(va, 2), isZero(va)
	}
	for a := range n {
		va := e.Vector(affinity.ProductID(a))
		row := make([]similarity.Neighbor, 0, k)
		for b := range n {
			if a == b || zero[a] || zero[b] {
				continue
			}
			vb := e.Vector(affinity.ProductID(b))
			v := max(-1, min(1, floats.Dot(va, vb)/(norm[a]*norm[b])))
			nb := similarity.Neighbor{Product: affinity.ProductID(b), Score: float32(v)}
			switch {
			case len(row) < k:
				row = append(row, nb)
			case k > 0 && before(nb, row[k-1]):
				row[k-1] = nb
			default:
				continue
			}
			for i := len(row) - 1; i > 0 && before(row[i], row[i-1]); i-- {
				row[i], row[i-1] = row[i-1], row[i]
			}
		}
		rows[a] = row
	}
	return rows
}

func isZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func TestEmbeddingIndexMatchesPairwise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// more products than one column block, and some never bought
	d := randomData(rand.New(rand.NewPCG(5, 50)), randomOptions{customers: 400, products: 2300, orders: 3000, maxLines: 6})
	h := d.history(t, nil)
	co := similarity.CountOptions{Scope: similarity.Customer}
	m, err := similarity.NewItemMatrix(ctx, h, h.Latest(), co)
	require.NoError(t, err)
	e, err := similarity.Embed(ctx, m, similarity.EmbedOptions{Dim: 16})
	require.NoError(t, err)
	c, err := similarity.Count(ctx, h, h.Latest(), co)
	require.NoError(t, err)
	const k = 7
	x, err := e.Index(ctx, c, similarity.IndexOptions{K: k})
	require.NoError(t, err)
	assert.Equal(t, similarity.SVD, x.Measure())
	want := pairwiseTopK(e, k)
	empty := 0
	for a := range e.NumProducts() {
		got := x.Neighbors(affinity.ProductID(a))
		require.Len(t, got, len(want[a]), "row %d", a)
		if len(got) == 0 {
			empty++
		}
		// each check a plain comparison first, the assertion only when it
		// fails: its bookkeeping cost more than the check on every pair
		for i, g := range got {
			// the block-wise products run in single precision
			if !(math.Abs(float64(want[a][i].Score)-float64(g.Score)) <= 1e-5) {
				assert.InDelta(t, want[a][i].Score, g.Score, 1e-5)
			}
			if i+1 < len(want[a]) && want[a][i].Score-want[a][i+1].Score > 1e-4 && want[a][i].Product != g.Product {
				assert.Equal(t, want[a][i].Product, g.Product, "row %d rank %d", a, i)
			}
			if pc := c.Pair(affinity.ProductID(a), g.Product); pc != int(g.Count) {
				assert.Equal(t, pc, int(g.Count))
			}
			if !(math.Abs(float64(g.Score)) <= 1.0) {
				assert.LessOrEqual(t, math.Abs(float64(g.Score)), 1.0)
			}
		}
	}
	assert.Positive(t, empty, "products never bought have no neighbours")

	other, err := similarity.Count(ctx, randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 20, maxLines: 3}).history(t, nil), randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 20, maxLines: 3}).history(t, nil).Latest(), co)
	require.NoError(t, err)
	_, err = e.Index(ctx, other, similarity.IndexOptions{})
	assert.Error(t, err)
}
