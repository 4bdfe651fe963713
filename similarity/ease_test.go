package similarity_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// naiveEASE computes W = I − P·diagMat(1/diag(P)), P = (XᵀX + λI)⁻¹, with
// a general (LU) inverse, on XᵀX taken from the brute-force counts of the
// given products.
func naiveEASE(t *testing.T, want bruteCounts, keys []string, lambda float64) *mat.Dense {
	n := len(keys)
	g := mat.NewDense(n, n, nil)
	for i, a := range keys {
		for j, b := range keys {
			if i == j {
				g.Set(i, j, float64(want.support[a])+lambda)
			} else {
				g.Set(i, j, float64(want.pair[[2]string{a, b}]))
			}
		}
	}
	var p mat.Dense
	require.NoError(t, p.Inverse(g))
	w := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			if i != j {
				w.Set(i, j, -p.At(i, j)/p.At(j, j))
			}
		}
	}
	return w
}

// refRow returns the weights of row i of w (the products keys) with
// their co-counts, by weight descending, ties by product id; only non-zero
// weights, and only those of co-bought pairs when cobought.
func refRow(cat *affinity.Catalog, want bruteCounts, keys []string, w *mat.Dense, i int, cobought bool) []similarity.Neighbor {
	var row []similarity.Neighbor
	for j, kb := range keys {
		n := want.pair[[2]string{keys[i], kb}]
		if v := w.At(i, j); i != j && v != 0 && (n > 0 || !cobought) {
			b, _ := cat.LookupProduct(kb)
			row = append(row, similarity.Neighbor{Product: b, Score: float32(v), Count: uint32(n)})
		}
	}
	slices.SortFunc(row, func(x, y similarity.Neighbor) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
	})
	return row
}

// assertSameRow checks a full row of an index against the reference: the
// same neighbours in the same order (where the reference weights are not
// within float32 rounding of each other), and the weights to float32
// precision.
func assertSameRow(t *testing.T, want, got []similarity.Neighbor, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for r, g := range got {
		assert.InDelta(t, want[r].Score, g.Score, 1e-6*max(1, math.Abs(float64(want[r].Score))), "%s rank %d", msg, r)
		if (r == 0 || want[r-1].Score-want[r].Score > 1e-5) && (r+1 == len(want) || want[r].Score-want[r+1].Score > 1e-5) {
			assert.Equal(t, want[r].Product, g.Product, "%s rank %d", msg, r)
			assert.Equal(t, want[r].Count, g.Count, "%s rank %d", msg, r)
		}
	}
}

func TestFitEASEMatchesNaive(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(31, 7)), randomOptions{customers: 80, products: 25, orders: 500, maxLines: 6, anonymous: 0.1, returns: 0.05})
	h := d.history(t, nil)
	cat := h.Catalog()
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer} {
		t.Run(scope.String(), func(t *testing.T) {
			const lambda = 7.5
			co := similarity.CountOptions{Scope: scope, MaxBasket: -1}
			want := bruteCount(d, bruteOptions{scope: scope})
			var keys []string // the products with a purchase, in id order
			for p := range cat.NumProducts() {
				if key := cat.ProductKey(affinity.ProductID(p)); want.support[key] > 0 {
					keys = append(keys, key)
				}
			}
			w := naiveEASE(t, want, keys, lambda)

			// the float64 weights of the solver, to 1e-9
			c, err := similarity.Count(ctx, h, h.Latest(), co)
			require.NoError(t, err)
			sel, dw, err := similarity.DenseEASEWeights(ctx, c, lambda)
			require.NoError(t, err)
			require.Len(t, sel, len(keys))
			col := map[affinity.ProductID]int{}
			for i, k := range keys {
				p, _ := cat.LookupProduct(k)
				col[p] = i
			}
			for r, a := range sel {
				for s, b := range sel {
					require.InDelta(t, w.At(col[a], col[b]), dw[r*len(sel)+s], 1e-9, "W[%d][%d]", a, b)
				}
			}

			// every weight (K < 0), negative ones included
			all, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: lambda, K: -1, Solver: similarity.EASEDense})
			require.NoError(t, err)
			assert.Equal(t, similarity.EASE, all.Measure())
			negative := 0
			for i, ka := range keys {
				a, _ := cat.LookupProduct(ka)
				row := refRow(cat, want, keys, w, i, false)
				assertSameRow(t, row, all.Neighbors(a), "row "+ka)
				for _, n := range row {
					if n.Score < 0 {
						negative++
					}
				}
			}
			assert.Positive(t, negative, "EASE has negative weights")

			// the K largest in magnitude, ordered by signed weight
			const k = 5
			top, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: lambda, K: k})
			require.NoError(t, err)
			for i, ka := range keys {
				a, _ := cat.LookupProduct(ka)
				row := refRow(cat, want, keys, w, i, false)
				slices.SortStableFunc(row, func(x, y similarity.Neighbor) int {
					return cmp.Compare(math.Abs(float64(y.Score)), math.Abs(float64(x.Score)))
				})
				got := top.Neighbors(a)
				require.Len(t, got, min(k, len(row)))
				if len(row) > k && math.Abs(float64(row[k-1].Score))-math.Abs(float64(row[k].Score)) < 1e-5 {
					continue // a tie at the cut
				}
				row = row[:k]
				slices.SortFunc(row, func(x, y similarity.Neighbor) int {
					return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
				})
				assertSameRow(t, row, got, "top row "+ka)
			}
		})
	}
}

// TestFitEASERankings checks that scoring a customer with the index —
// Σ over the customer's products i of W[i][·] — ranks products exactly as
// the dense reference does.
func TestFitEASERankings(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 99))
		d := randomData(rng, randomOptions{customers: 60, products: 10 + rng.IntN(30), orders: 300, maxLines: 5})
		h := d.history(t, nil)
		cat := h.Catalog()
		want := bruteCount(d, bruteOptions{scope: similarity.Customer})
		var keys []string
		col := map[affinity.ProductID]int{}
		for p := range cat.NumProducts() {
			if key := cat.ProductKey(affinity.ProductID(p)); want.support[key] > 0 {
				col[affinity.ProductID(p)] = len(keys)
				keys = append(keys, key)
			}
		}
		lambda := 1 + 20*rng.Float64()
		w := naiveEASE(t, want, keys, lambda)
		x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: lambda, K: -1})
		require.NoError(t, err)
		for c := range h.NumCustomers() {
			lo, hi := h.CustomerLines(affinity.CustomerID(c))
			bought := map[affinity.ProductID]bool{}
			for l := lo; l < hi; l++ {
				if h.LineQuantity(l) > 0 {
					bought[h.LineProduct(l)] = true
				}
			}
			ref := make([]float64, len(keys))
			got := make([]float64, len(keys))
			for a := range bought {
				for j := range keys {
					ref[j] += w.At(col[a], j)
				}
				for _, n := range x.Neighbors(a) {
					got[col[n.Product]] += float64(n.Score)
				}
			}
			rank := func(s []float64) []int {
				r := make([]int, len(s))
				for i := range r {
					r[i] = i
				}
				slices.SortStableFunc(r, func(a, b int) int { return cmp.Compare(s[b], s[a]) })
				return r
			}
			rr, gr := rank(ref), rank(got)
			for i := range rr[:min(10, len(rr))] {
				if i+1 < len(rr) && ref[rr[i]]-ref[rr[i+1]] < 1e-5 {
					break // a near-tie of the reference: the order below it is float rounding
				}
				require.Equal(t, rr[i], gr[i], "seed %d customer %d rank %d", seed, c, i)
			}
		}
	}
}

// TestFitEASEByHand checks a fixture solved by hand. Three customers buy
// {a, b}, {a, c} and {b}: supports a = 2, b = 2, c = 1; co-counts ab = 1,
// ac = 1, bc = 0. With λ = 1,
//
//	G = XᵀX + λI = | 3 1 1 |     det G = 3·6 − 1·2 + 1·(−3) = 13
//	               | 1 3 0 |
//	               | 1 0 2 |
//
// and P = G⁻¹ = adj(G)/13 with the cofactors 6, −2, −3; 5, 1; 8:
//
//	P = | 6 −2 −3 | / 13,   W[i][j] = −P[i][j]/P[j][j]:
//	    |−2  5  1 |
//	    |−3  1  8 |
//
//	W[a][b] = 2/5,  W[a][c] = 3/8,
//	W[b][a] = 2/6,  W[b][c] = −1/8,
//	W[c][a] = 3/6,  W[c][b] = −1/5.
//
// b and c were never bought together and get negative weights, which
// co-occurrence measures cannot express. The sparse solver only computes
// the weights of pairs bought together, so it finds the positive ones
// (exactly, with no dropping) and not W[b][c], W[c][b].
func TestFitEASEByHand(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range [][]string{{"a", "b"}, {"a", "c"}, {"b"}} {
		for _, p := range o {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("u", i), Order: fmt.Sprint("o", i), Product: p, Time: day, Quantity: 1}))
		}
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	cat := h.Catalog()
	id := func(k string) affinity.ProductID { p, _ := cat.LookupProduct(k); return p }
	type nb struct {
		p string
		w float64
	}
	check := func(x *similarity.Index, want map[string][]nb) {
		t.Helper()
		for a, row := range want {
			got := x.Neighbors(id(a))
			require.Len(t, got, len(row), a)
			for r, n := range row {
				assert.Equal(t, id(n.p), got[r].Product, "%s rank %d", a, r)
				assert.InDelta(t, n.w, got[r].Score, 1e-7, "%s→%s", a, n.p)
			}
		}
	}
	co := similarity.CountOptions{Scope: similarity.Customer}
	dense, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 1, K: -1})
	require.NoError(t, err)
	check(dense, map[string][]nb{
		"a": {{"b", 2. / 5}, {"c", 3. / 8}},
		"b": {{"a", 2. / 6}, {"c", -1. / 8}},
		"c": {{"a", 3. / 6}, {"b", -1. / 5}},
	})
	assert.Equal(t, uint32(1), dense.Neighbors(id("a"))[0].Count)
	assert.Equal(t, uint32(0), dense.Neighbors(id("b"))[1].Count)
	sparse, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 1, K: -1, Solver: similarity.EASESparse,
		Sparse: similarity.SparseEASEOptions{Fill: -1, Tolerance: -1}})
	require.NoError(t, err)
	check(sparse, map[string][]nb{
		"a": {{"b", 2. / 5}, {"c", 3. / 8}},
		"b": {{"a", 2. / 6}},
		"c": {{"a", 3. / 6}},
	})

	// nothing bought by the as-of time: no weights
	for _, solver := range []similarity.EASESolver{similarity.EASEDense, similarity.EASESparse} {
		x, err := similarity.FitEASE(ctx, h, day.Add(-time.Hour), similarity.EASEOptions{Count: co, K: -1, Solver: solver})
		require.NoError(t, err)
		assert.Zero(t, x.NumNeighbors(), solver)
	}
}

// TestFitSparseEASEExact checks that the sparse solver without dropping
// reproduces the dense weights of every pair bought together.
func TestFitSparseEASEExact(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(4, 44)), randomOptions{customers: 90, products: 40, orders: 600, maxLines: 6})
	h := d.history(t, nil)
	cat := h.Catalog()
	const lambda = 3
	want := bruteCount(d, bruteOptions{scope: similarity.Customer})
	var keys []string
	for p := range cat.NumProducts() {
		if key := cat.ProductKey(affinity.ProductID(p)); want.support[key] > 0 {
			keys = append(keys, key)
		}
	}
	w := naiveEASE(t, want, keys, lambda)
	x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer, MaxBasket: -1},
		Lambda: lambda, K: -1, Solver: similarity.EASESparse, Sparse: similarity.SparseEASEOptions{Fill: -1, Tolerance: -1}})
	require.NoError(t, err)
	for i, ka := range keys {
		a, _ := cat.LookupProduct(ka)
		assertSameRow(t, refRow(cat, want, keys, w, i, true), x.Neighbors(a), "row "+ka)
	}
}

func TestFitEASEFallback(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(3, 17)), randomOptions{customers: 80, products: 30, orders: 500, maxLines: 5})
	h := d.history(t, nil)
	co := similarity.CountOptions{Scope: similarity.Customer}
	fb := similarity.IndexOptions{Measure: similarity.NPMI, MinSupport: 3}
	x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 10, K: 6, Solver: similarity.EASEDense, MaxProducts: 8, Fallback: fb})
	require.NoError(t, err)
	c, err := similarity.Count(ctx, h, h.Latest(), co)
	require.NoError(t, err)
	fb.K = 6
	rest, err := similarity.NewIndex(ctx, c, fb)
	require.NoError(t, err)
	// the 8 most purchased products (support desc, ties by id) are fitted
	ids := make([]affinity.ProductID, c.NumProducts())
	for i := range ids {
		ids[i] = affinity.ProductID(i)
	}
	slices.SortFunc(ids, func(a, b affinity.ProductID) int {
		return cmp.Or(cmp.Compare(c.Support(b), c.Support(a)), cmp.Compare(a, b))
	})
	top := map[affinity.ProductID]bool{}
	for _, p := range ids[:8] {
		top[p] = true
	}
	for _, p := range ids {
		nb := x.Neighbors(p)
		if top[p] {
			for _, n := range nb {
				assert.True(t, top[n.Product], "EASE rows only hold fitted products")
			}
			continue
		}
		assert.Equal(t, rest.Neighbors(p), nb, "row %d falls back to co-occurrence", p)
	}
}

func TestFitEASEErrors(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 20, maxLines: 3}).history(t, nil)
	for name, o := range map[string]similarity.EASEOptions{
		"sequential":      {Count: similarity.CountOptions{Scope: similarity.Sequential}},
		"negative lambda": {Lambda: -1},
		"fallback EASE":   {Fallback: similarity.IndexOptions{Measure: similarity.EASE}},
		"unknown solver":  {Solver: 7},
		"NaN tolerance":   {Solver: similarity.EASESparse, Sparse: similarity.SparseEASEOptions{Tolerance: math.NaN()}},
	} {
		_, err := similarity.FitEASE(ctx, h, h.Latest(), o)
		assert.Error(t, err, name)
	}
}

// TestFitEASERoundTrip checks that an index of signed weights survives
// the encoding.
func TestFitEASERoundTrip(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(8, 8)), randomOptions{customers: 50, products: 20, orders: 300, maxLines: 5}).history(t, nil)
	for _, solver := range []similarity.EASESolver{similarity.EASEDense, similarity.EASESparse} {
		x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: 2, K: -1, Solver: solver})
		require.NoError(t, err)
		negative := 0
		for p := range x.NumProducts() {
			for _, n := range x.Neighbors(affinity.ProductID(p)) {
				if n.Score < 0 {
					negative++
				}
			}
		}
		assert.Positive(t, negative, solver)
		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		y, err := similarity.ReadIndex(&buf)
		require.NoError(t, err, solver)
		for p := range x.NumProducts() {
			assert.Equal(t, x.Neighbors(affinity.ProductID(p)), y.Neighbors(affinity.ProductID(p)))
		}
	}
}

func TestEASESolverString(t *testing.T) {
	for s, want := range map[similarity.EASESolver]string{similarity.EASEAuto: "auto", similarity.EASEDense: "dense", similarity.EASESparse: "sparse", 9: "EASESolver(9)"} {
		assert.Equal(t, want, s.String())
	}
}

func TestFitEASECanceled(t *testing.T) {
	h := randomData(rand.New(rand.NewPCG(2, 2)), randomOptions{customers: 30, products: 15, orders: 100, maxLines: 4}).history(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, solver := range []similarity.EASESolver{similarity.EASEDense, similarity.EASESparse} {
		_, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Solver: solver})
		require.ErrorIs(t, err, context.Canceled, solver)
	}
}
