package similarity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// DefaultEASELambda is the default [EASEOptions.Lambda].
const DefaultEASELambda = 200

// DefaultEASEMaxProducts is the default [EASEOptions.MaxProducts]: a fit
// of about half a minute and 200 MB on two cores.
const DefaultEASEMaxProducts = 5_000

// EASEOptions configures [FitEASE]. The zero value fits baskets with
// λ = 200 on up to 5,000 products.
type EASEOptions struct {
	// Count says which transactions form the rows of X: Basket (orders) or
	// Customer (the user × item matrix of the paper). Sequential is an
	// error: XᵀX must be symmetric.
	Count CountOptions
	// Lambda is the L2 regularisation λ > 0 added to the diagonal of XᵀX;
	// default [DefaultEASELambda]. Steck (2019) used 200–1000 on data sets
	// with 10⁵–10⁶ users; small data sets want less.
	Lambda float64
	// K is the number of neighbours per product; default [DefaultK].
	K int
	// MaxProducts bounds the size n of the dense n×n fit; default
	// [DefaultEASEMaxProducts]. The fit takes 8·n² bytes and O(n³) time:
	// with gonum's pure-Go LAPACK on two cores about 2 s at n = 2,000,
	// 30 s at 5,000 and 6 min (800 MB) at 10,000; 20,000 (3.2 GB) is the
	// practical ceiling. With more products in the counts, EASE is fitted
	// on the n most purchased (support descending, ties by id); the rows
	// of the others come from co-occurrence, with Fallback.
	MaxProducts int
	// Fallback configures the neighbours of the products left out of the
	// fit, as for [NewIndex]; its K defaults to K. Its measure defaults to
	// Jaccard, like NewIndex.
	Fallback IndexOptions
}

// FitEASE fits the EASE model (Steck 2019, "Embarrassingly Shallow
// Autoencoders for Sparse Data") on the binary transaction × product
// matrix X of h's transactions at or before asOf (see [Count]) and returns its weights as an [Index] with Measure EASE.
// The closed-form solution is
//
//	P = (XᵀX + λI)⁻¹,   W = I − P·diagMat(1/diag(P)),   diag(W) = 0,
//
// that is W[i][j] = −P[i][j]/P[j][j] for i ≠ j. XᵀX is exactly the
// co-occurrence counts (supports on the diagonal), so X is never built;
// P comes from a Cholesky factorisation and inverse computed in place with
// gonum's LAPACK (Dpotrf, Dpotri). Row i of W — how much buying i
// predicts each j — is i's neighbour list: the K largest positive
// weights, ties by product id; Count is the pair's co-count. See
// [EASEOptions.MaxProducts] for large catalogs.
//
// ctx is checked before and after the factorisation, which cannot be
// interrupted.
func FitEASE(ctx context.Context, h *affinity.History, asOf time.Time, opts EASEOptions) (*Index, error) {
	if opts.Count.Scope == Sequential {
		return nil, errors.New("similarity: EASE needs symmetric (Basket or Customer) counts")
	}
	lambda := opts.Lambda
	if lambda == 0 {
		lambda = DefaultEASELambda
	}
	if !(lambda > 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("similarity: EASE λ %v is not finite and positive", opts.Lambda)
	}
	k := opts.K
	if k <= 0 {
		k = DefaultK
	}
	maxProducts := opts.MaxProducts
	if maxProducts <= 0 {
		maxProducts = DefaultEASEMaxProducts
	}
	fb := opts.Fallback
	if fb.K <= 0 {
		fb.K = k
	}
	if fb.Measure == EASE || fb.Measure == SVD {
		return nil, fmt.Errorf("similarity: EASE fallback measure %v", fb.Measure)
	}
	c, err := Count(ctx, h, asOf, opts.Count)
	if err != nil {
		return nil, err
	}
	return fitEASE(ctx, c, lambda, k, maxProducts, fb, parallel.Workers(opts.Count.Workers))
}

func fitEASE(ctx context.Context, c *Counts, lambda float64, k, maxProducts int, fb IndexOptions, workers int) (*Index, error) {
	var sel []affinity.ProductID
	for p, s := range c.support {
		if s > 0 {
			sel = append(sel, affinity.ProductID(p))
		}
	}
	slices.SortFunc(sel, func(a, b affinity.ProductID) int {
		return cmp.Or(cmp.Compare(c.support[b], c.support[a]), cmp.Compare(a, b))
	})
	var rest *Index
	if len(sel) > maxProducts {
		sel = sel[:maxProducts]
		var err error
		if rest, err = NewIndex(ctx, c, fb); err != nil {
			return nil, err
		}
	}
	m := len(sel)
	pos := make([]int32, c.np)
	for i := range pos {
		pos[i] = -1
	}
	for i, p := range sel {
		pos[p] = int32(i)
	}
	// G = XᵀX + λI, upper triangle, row-major
	g := make([]float64, m*m)
	for i, p := range sel {
		g[i*m+i] = float64(c.support[p]) + lambda
		cols, vals := c.Row(p)
		for t, b := range cols {
			if j := int(pos[b]); j > i {
				g[i*m+j] = float64(vals[t])
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tri, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: max(m, 1), Data: g})
	if !ok {
		return nil, errors.New("similarity: EASE: XᵀX + λI is not positive definite")
	}
	if _, ok := lapack64.Potri(tri); !ok {
		return nil, errors.New("similarity: EASE: inverse failed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// mirror the upper triangle of P into the lower one, in tiles
	const tile = 64
	for i0 := 0; i0 < m; i0 += tile {
		for j0 := 0; j0 <= i0; j0 += tile {
			for i := i0; i < min(i0+tile, m); i++ {
				for j := j0; j < min(j0+tile, i); j++ {
					g[i*m+j] = g[j*m+i]
				}
			}
		}
	}
	diag := make([]float64, m)
	for j := range m {
		diag[j] = g[j*m+j]
	}
	x := &Index{measure: EASE, scope: c.scope, k: k, n: c.n, support: c.support}
	tops := make([]topK, workers)
	var err error
	x.off, x.nb, err = collectRows(ctx, c.np, blockRows, workers, func(w, lo, hi int, out *rowSink) error {
		top := &tops[w]
		for a := lo; a < hi; a++ {
			i := int(pos[a])
			switch {
			case i >= 0:
				top.reset(k)
				row := g[i*m : (i+1)*m]
				for j, pij := range row {
					if v := -pij / diag[j]; j != i && v > 0 {
						top.push(f32(v), uint32(sel[j]))
					}
				}
				for _, key := range top.sorted() {
					v, b := unpackKey(key)
					p := affinity.ProductID(b)
					out.nb = append(out.nb, Neighbor{Product: p, Score: v, Count: uint32(c.Pair(affinity.ProductID(a), p))})
				}
			case rest != nil:
				out.nb = append(out.nb, rest.Neighbors(affinity.ProductID(a))...)
			}
			out.endRow()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}
