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

// DefaultEASEMaxProducts is the default [EASEOptions.MaxProducts]: a dense
// fit of about 18 s of CPU and 200 MB on two cores (the package doc's
// fit times).
const DefaultEASEMaxProducts = 5_000

// EASESolver says how [FitEASE] computes the inverse of XᵀX + λI. The
// numeric values are stable.
type EASESolver int

const (
	// EASEAuto solves densely when at most [EASEOptions.MaxProducts]
	// products have a purchase, and with [EASESparse] otherwise.
	EASEAuto EASESolver = iota
	// EASEDense solves exactly with a dense Cholesky factorisation:
	// O(n³) time, 8·n² bytes. With more than MaxProducts products, the
	// MaxProducts most purchased are fitted and the others get
	// co-occurrence neighbours ([EASEOptions.Fallback]).
	EASEDense
	// EASESparse fits every product with an approximate sparse inverse
	// (incomplete LDLᵀ, then an approximate inverse of the factor) in the
	// manner of SANSA; see [SparseEASEOptions].
	EASESparse
	numSolvers
)

// String returns "auto", "dense" or "sparse".
func (s EASESolver) String() string {
	switch s {
	case EASEAuto:
		return "auto"
	case EASEDense:
		return "dense"
	case EASESparse:
		return "sparse"
	}
	return fmt.Sprintf("EASESolver(%d)", int(s))
}

// EASEOptions configures [FitEASE]. The zero value fits baskets with
// λ = 200, keeps 50 weights per product, and solves densely up to 5,000
// products and sparsely beyond.
type EASEOptions struct {
	// Count says which transactions form the rows of X: Basket (orders) or
	// Customer (the user × item matrix of the paper). Sequential is an
	// error: XᵀX must be symmetric.
	Count CountOptions
	// Lambda is the L2 regularisation λ > 0 added to the diagonal of XᵀX;
	// default [DefaultEASELambda]. Steck (2019) used 200–1000 on data sets
	// with 10⁵–10⁶ users; small data sets want less. A λ tiny next to the
	// counts leaves XᵀX + λI numerically singular where products are
	// always bought together: the dense fit then returns an error.
	Lambda float64
	// K is the number of weights kept per product, the largest in
	// magnitude, negative ones included; default [DefaultK], at most
	// [MaxIndexK]. A negative K keeps every non-zero weight: with the
	// dense solver, the Index then holds all of W and scoring with it is
	// the exact model.
	K int
	// Solver chooses the dense or the sparse fit; default [EASEAuto].
	Solver EASESolver
	// MaxProducts bounds the size n of the dense n×n fit; default
	// [DefaultEASEMaxProducts]. The dense fit takes 8·n² bytes and O(n³)
	// time: with gonum's pure-Go LAPACK on two cores about 1.2 s of CPU at
	// n = 2,000, 18 s at 5,000 and 173 s (870 MB) at 10,000, counting
	// included (the package doc's fit times). Under
	// EASEAuto, more products than this switch to the sparse solver; under
	// EASEDense, the n most purchased (support descending, ties by id) are
	// fitted and the rows of the others come from co-occurrence, with
	// Fallback.
	MaxProducts int
	// Fallback configures the neighbours of the products left out of a
	// dense fit, as for [NewIndex]; its K defaults to K ([DefaultK] when K
	// is negative). Its measure defaults to Jaccard, like NewIndex.
	Fallback IndexOptions
	// Sparse configures the sparse solver.
	Sparse SparseEASEOptions
	// Info, when not nil, receives how the model was fitted: the solver,
	// and for the sparse one its fill and the accuracy it reached.
	Info *EASEInfo
}

// EASEInfo says how [FitEASE] fitted a model (see [EASEOptions.Info]).
type EASEInfo struct {
	// Sparse reports that the sparse solver fitted the model.
	Sparse bool
	// Fill is the sparse factor's fill per column (see
	// [SparseEASEOptions.Fill]).
	Fill int
	// Residual is the largest ‖A·x − e_j‖₂ of the accuracy check on the
	// final factor (see [MaxSparseEASEResidual]), 0 when no check ran (a
	// fixed fill, or a compensated factorisation). Above
	// MaxSparseEASEResidual it says that the automatic fill reached its
	// bound before the accuracy it asks for.
	Residual float64
	// Compensated reports a factorisation with dropped entries compensated
	// on the diagonal, after a breakdown at a fixed fill or at the bound.
	Compensated bool
}

// FitEASE fits the EASE model (Steck 2019, "Embarrassingly Shallow
// Autoencoders for Sparse Data") on the binary transaction × product
// matrix X of h's transactions at or before asOf (see [Count]) and returns
// its weights as an [Index] with Measure EASE. The closed-form solution is
//
//	P = (XᵀX + λI)⁻¹,   W = I − P·diagMat(1/diag(P)),   diag(W) = 0,
//
// that is W[i][j] = −P[i][j]/P[j][j] for i ≠ j, and a customer with items
// S scores product j by Σ_{i∈S} W[i][j]. XᵀX is exactly the co-occurrence
// counts (supports on the diagonal), so X is never built. Row i of W — how
// much buying i predicts each j — is i's neighbour list: the K weights of
// largest magnitude, negative ones included (they are what sets EASE apart
// from co-occurrence scores: "bought i, so probably not j"), listed by
// weight descending, ties by product id; Count is the pair's co-count.
// Consumers that sum weights must add the negative ones too; consumers
// that want edges take the positive prefix of each row.
//
// The dense solver ([EASEDense]) factors XᵀX + λI by Cholesky and inverts
// it in place with gonum's LAPACK (Dpotrf, Dpotri): exact, O(n³) time and
// 8·n² bytes for n fitted products; with K < 0 the Index holds every
// weight. The sparse solver ([EASESparse], [SparseEASEOptions]) scales to
// 10⁵ products. [EASEAuto], the default, takes the dense one up to
// [EASEOptions.MaxProducts] products.
//
// ctx is checked before and after the dense factorisation, which cannot be
// interrupted, and every few hundred columns of the sparse one.
func FitEASE(ctx context.Context, h *affinity.History, asOf time.Time, opts EASEOptions) (*Index, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("similarity", "History")
	}
	if opts.Count.Scope == Sequential {
		return nil, errors.New("similarity: EASE needs symmetric (Basket or Customer) counts")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := Count(ctx, h, asOf, opts.Count)
	if err != nil {
		return nil, err
	}
	return fitEASE(ctx, c, o, parallel.Workers(opts.Count.Workers))
}

func (o EASEOptions) withDefaults() (EASEOptions, error) {
	if o.Lambda == 0 {
		o.Lambda = DefaultEASELambda
	}
	if !(o.Lambda > 0) || math.IsInf(o.Lambda, 0) {
		return o, fmt.Errorf("similarity: EASE λ %v is not finite and positive", o.Lambda)
	}
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.K > MaxIndexK {
		return o, fmt.Errorf("similarity: EASE K %d beyond %d, the most an index file holds (a negative K keeps every weight)", o.K, MaxIndexK)
	}
	if o.MaxProducts <= 0 {
		o.MaxProducts = DefaultEASEMaxProducts
	}
	if o.Solver < 0 || o.Solver >= numSolvers {
		return o, fmt.Errorf("similarity: unknown EASE solver %d", int(o.Solver))
	}
	if o.Fallback.K <= 0 {
		o.Fallback.K = o.K
		if o.K < 0 {
			o.Fallback.K = DefaultK
		}
	}
	if o.Fallback.Measure == EASE || o.Fallback.Measure == SVD {
		return o, fmt.Errorf("similarity: EASE fallback measure %v", o.Fallback.Measure)
	}
	var err error
	o.Sparse, err = o.Sparse.withDefaults(o.K)
	return o, err
}

// fitted returns the products with a purchase, support descending, ties
// by id.
func (c *Counts) fitted() []affinity.ProductID {
	var sel []affinity.ProductID
	for p, s := range c.support {
		if s > 0 {
			sel = append(sel, affinity.ProductID(p))
		}
	}
	slices.SortFunc(sel, func(a, b affinity.ProductID) int {
		return cmp.Or(cmp.Compare(c.support[b], c.support[a]), cmp.Compare(a, b))
	})
	return sel
}

func fitEASE(ctx context.Context, c *Counts, o EASEOptions, workers int) (*Index, error) {
	sel := c.fitted()
	if o.Solver == EASESparse || (o.Solver == EASEAuto && len(sel) > o.MaxProducts) {
		return fitSparseEASE(ctx, c, sel, o, workers)
	}
	if o.Info != nil {
		*o.Info = EASEInfo{}
	}
	var rest *Index
	if len(sel) > o.MaxProducts {
		sel = sel[:o.MaxProducts]
		var err error
		if rest, err = NewIndex(ctx, c, o.Fallback); err != nil {
			return nil, err
		}
	}
	m := len(sel)
	pos := positions(c.np, sel)
	w, err := denseEASE(ctx, c, sel, pos, o.Lambda)
	if err != nil {
		return nil, err
	}
	x := c.easeIndex(o.K, m)
	if rest != nil {
		x.k = max(x.k, rest.k)
	}
	tops := make([]topK, workers)
	x.off, x.nb, err = collectRows(ctx, c.np, blockRows, workers, func(wk, lo, hi int, out *rowSink) error {
		top := &tops[wk]
		for a := lo; a < hi; a++ {
			switch i := int(pos[a]); {
			case i >= 0:
				top.reset(x.k)
				row := w[i*m : (i+1)*m]
				for j, v := range row {
					if v != 0 {
						top.push(f32(math.Abs(v)), uint32(sel[j]))
					}
				}
				out.appendSigned(top, func(id uint32) Neighbor {
					b := affinity.ProductID(id)
					return Neighbor{Product: b, Score: f32(row[pos[b]]), Count: uint32(c.Pair(affinity.ProductID(a), b))}
				})
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

// easeIndex returns an empty EASE index over c's products keeping k
// weights per row, or all of them (at most m−1) for k < 0.
func (c *Counts) easeIndex(k, m int) *Index {
	if k < 0 {
		k = max(m-1, 1)
	}
	return &Index{measure: EASE, scope: c.scope, k: k, n: c.n, support: c.support}
}

// positions maps every product to its position in sel, or −1.
func positions(np int, sel []affinity.ProductID) []int32 {
	pos := make([]int32, np)
	for i := range pos {
		pos[i] = -1
	}
	for i, p := range sel {
		pos[p] = int32(i)
	}
	return pos
}

// appendSigned appends the neighbours selected in top — keys of
// (|weight|, id) — made by nb from their ids, then orders them by signed
// weight descending, ties by product id.
func (s *rowSink) appendSigned(top *topK, nb func(id uint32) Neighbor) {
	from := len(s.nb)
	for _, key := range top.sorted() {
		_, id := unpackKey(key)
		s.nb = append(s.nb, nb(id))
	}
	slices.SortFunc(s.nb[from:], func(x, y Neighbor) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
	})
}

// denseEASE returns W (m×m, row-major) for the products sel (pos their
// positions): G = XᵀX + λI from the counts, its Cholesky factorisation
// and inverse P in place, then W[i][j] = −P[i][j]/P[j][j] with a zero
// diagonal, written over P.
//
// The factorisation is G = LLᵀ on the lower triangle (LAPACK Dpotrf),
// transposed into the upper triangle as U = Lᵀ, and the inverse is taken
// from U (Dpotri). gonum's Dpotrf is about four times faster on the lower
// triangle and its Dpotri about twice as fast on the upper one, because
// each then multiplies matrices in the order its matrix product is
// fastest in; together they take about half the time of either triangle
// alone (1,000 products: 105 ms against 180 ms).
func denseEASE(ctx context.Context, c *Counts, sel []affinity.ProductID, pos []int32, lambda float64) ([]float64, error) {
	m := len(sel)
	// G = XᵀX + λI, lower triangle, row-major
	g := make([]float64, m*m)
	for i, p := range sel {
		g[i*m+i] = float64(c.support[p]) + lambda
		cols, vals := c.Row(p)
		for t, b := range cols {
			if j := int(pos[b]); j >= 0 && j < i { // −1: not fitted
				g[i*m+j] = float64(vals[t])
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: m, Stride: max(m, 1), Data: g}); !ok {
		return nil, errors.New("similarity: EASE: XᵀX + λI is not positive definite")
	}
	mirror(g, m, true) // U = Lᵀ
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := lapack64.Potri(blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: m, Stride: max(m, 1), Data: g}); !ok {
		return nil, errors.New("similarity: EASE: inverse failed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mirror(g, m, false) // P is symmetric
	diag := make([]float64, m)
	for j := range m {
		diag[j] = g[j*m+j]
	}
	for i := range m {
		row := g[i*m : (i+1)*m]
		for j := range row {
			row[j] = -row[j] / diag[j]
		}
		row[i] = 0
	}
	return g, nil
}

// mirror copies one triangle of the m×m row-major matrix g onto the
// other, in tiles: the lower one onto the upper when up is set, else
// the upper one onto the lower. The diagonal stays.
func mirror(g []float64, m int, up bool) {
	const tile = 64
	for i0 := 0; i0 < m; i0 += tile {
		for j0 := 0; j0 <= i0; j0 += tile {
			for i := i0; i < min(i0+tile, m); i++ {
				for j := j0; j < min(j0+tile, i); j++ {
					if up {
						g[j*m+i] = g[i*m+j]
					} else {
						g[i*m+j] = g[j*m+i]
					}
				}
			}
		}
	}
}
