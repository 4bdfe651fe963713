package similarity_test

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"testing"

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

func TestFitEASEMatchesNaive(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(31, 7)), randomOptions{customers: 80, products: 25, orders: 500, maxLines: 6, anonymous: 0.1, returns: 0.05})
	h := d.history(t, nil)
	cat := h.Catalog()
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer} {
		t.Run(scope.String(), func(t *testing.T) {
			const lambda, k = 7.5, 5
			x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: scope, MaxBasket: -1}, Lambda: lambda, K: k})
			require.NoError(t, err)
			assert.Equal(t, similarity.EASE, x.Measure())
			want := bruteCount(d, bruteOptions{scope: scope})
			var keys []string // the products with a purchase, in id order
			for p := range cat.NumProducts() {
				if key := cat.ProductKey(affinity.ProductID(p)); want.support[key] > 0 {
					keys = append(keys, key)
				}
			}
			w := naiveEASE(t, want, keys, lambda)
			for i, ka := range keys {
				a, _ := cat.LookupProduct(ka)
				var row []similarity.Neighbor
				for j, kb := range keys {
					if v := w.At(i, j); i != j && v > 0 {
						b, _ := cat.LookupProduct(kb)
						row = append(row, similarity.Neighbor{Product: b, Score: float32(v), Count: uint32(want.pair[[2]string{ka, kb}])})
					}
				}
				slices.SortFunc(row, func(x, y similarity.Neighbor) int {
					return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
				})
				got := x.Neighbors(a)
				require.Len(t, got, min(k, len(row)), "row %s", ka)
				for r, g := range got {
					assert.InDelta(t, row[r].Score, g.Score, 1e-6, "row %s rank %d", ka, r)
					if r+1 < len(row) && row[r].Score-row[r+1].Score > 1e-5 {
						assert.Equal(t, row[r].Product, g.Product)
						assert.Equal(t, row[r].Count, g.Count)
					}
					assert.NotEqual(t, a, g.Product, "zero diagonal")
				}
			}
		})
	}
}

func TestFitEASEFallback(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(3, 17)), randomOptions{customers: 80, products: 30, orders: 500, maxLines: 5})
	h := d.history(t, nil)
	co := similarity.CountOptions{Scope: similarity.Customer}
	fb := similarity.IndexOptions{Measure: similarity.NPMI, MinSupport: 3}
	x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: co, Lambda: 10, K: 6, MaxProducts: 8, Fallback: fb})
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
	} {
		_, err := similarity.FitEASE(ctx, h, h.Latest(), o)
		assert.Error(t, err, name)
	}
}
