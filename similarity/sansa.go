package similarity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// DefaultSparseEASEFill is the fill [SparseEASEOptions.Fill] starts
// from (below 2¹⁹ products).
const DefaultSparseEASEFill = 64

// maxAutoFill and maxAutoEntries bound the automatic fill: up to 512
// entries per column and 2²⁵ entries (about 400 MB for the factor) in all.
const maxAutoFill = 512

var maxAutoEntries = 1 << 25 // a var for tests

// autoFillLimit returns the largest automatic fill for m products, at
// least 1.
func autoFillLimit(m int) int {
	return max(1, min(maxAutoFill, maxAutoEntries/max(m, 1)))
}

// startFill returns the automatic fill of the first factorisation of m
// products: [DefaultSparseEASEFill], less above 2¹⁹ products, where it
// would exceed the bound on the entries.
func startFill(m int) int { return min(DefaultSparseEASEFill, autoFillLimit(m)) }

// growFill returns the automatic fill after f for m products, and false
// when f is at the bounds: twice f after a breakdown, which only a
// fill far too small causes, and half again after a factor that completed
// but missed the accuracy check, which a fill nearer the needed one may
// pass (the factorisation's time grows with the square of the fill: on
// Online Retail's training history, whose factor breaks down below 256,
// the check then passes at 384 where doubling reached 512), clamped to
// the bounds.
func growFill(f, m int, breakdown bool) (int, bool) {
	limit := autoFillLimit(m)
	if f >= limit {
		return f, false
	}
	next := f + f/2
	if breakdown {
		next = 2 * f
	}
	return min(next, limit), true
}

// MaxSparseEASEResidual is the accuracy the automatic fill of
// [SparseEASEOptions] asks of the incomplete factor: ‖A·x − e_j‖₂ at most
// this for x = (L·D·Lᵀ)⁻¹·e_j on every sampled column j. Measured with
// examples/evaluate (EASE, 50 neighbours; all-items NDCG@10), factors
// within it ranked as dense EASE does, to 0.5 %: the MovieLens-shaped
// store at a fill of 96 (largest sampled residual 0.09) and as ratings at
// 96 (0.07), Online Retail's training history at 384 (0.11), the demo
// store and Groceries at 64 (0.006 and less); a synthetic retail store of
// 20,000 products kept 64 (0.12), within 0.2 % of a fill of 256. Factors
// beyond it ranked lower: the MovieLens-shaped store at 64 (1.0) by 32 %,
// Online Retail at 256 (0.76) by 5 %, the MovieLens shape as ratings at 64
// (0.30) by 2.5 %.
//
// Those were fitted at the default Lambda, small against the co-counts,
// which the check assumes. The residual is relative to e_j; when Lambda
// dominates A = XᵀX + λI, A⁻¹ is close to I/λ, and the off-diagonal
// entries that rank the neighbours are smaller than its diagonal by
// about co-count/λ: a factor can miss them with a residual far below the
// bound. On the synthetic store of 400 customers and 600 products that
// TestEASEInfo fits, the largest residual fell from 0.08 at λ 200 to
// 0.001 at λ 100,000 (fill 64), while the products whose first neighbour
// is dense EASE's fell from 582 of 600 at λ 20,000 to 337: with a large
// Lambda, compare with the dense solver or fix a larger Fill.
const MaxSparseEASEResidual = 0.2

// residualColumns is the number of columns the accuracy check samples.
const residualColumns = 32

// DefaultSparseEASETolerance is the default [SparseEASEOptions.Tolerance].
const DefaultSparseEASETolerance = 1e-4

// SparseEASEOptions configures the sparse EASE solver ([EASESparse]). The
// zero value means the defaults.
type SparseEASEOptions struct {
	// Fill is the number of off-diagonal entries kept per column of the
	// factor L and of its approximate inverse, the largest in magnitude;
	// negative keeps every entry (exact, and as slow as dense). Memory
	// grows linearly with it, the time of the factorisation about
	// quadratically.
	//
	// Dropping entries can make the factorisation lose positive
	// definiteness — some pivot falls below λ, which the exact one never
	// does; it happens on dense data such as ratings, where every product
	// was bought with most others. Short of that, it can still be
	// inaccurate: on a MovieLens-shaped store a fill of 64 gave a factor
	// whose inverse missed the exact one by its own size in some
	// columns, and products so misjudged were recommended to everyone
	// (NDCG@10 31 % below dense EASE; with 96, equal to it).
	//
	// The zero value chooses the fill, up to 512 per column and 2²⁵
	// entries in all (m·fill for m products): it starts at
	// [DefaultSparseEASEFill] (2²⁵/m above 2¹⁹ products, at least 1) and
	// doubles after a breakdown and grows by half while the factor is
	// inaccurate: while
	// x = (L·D·Lᵀ)⁻¹·e_j misses A·x = e_j by more than
	// [MaxSparseEASEResidual] (2-norm) for any of 32 columns j spread over
	// the elimination order (a check that costs 32 triangular solves and
	// products with A). When the fill is fixed or the bound is reached,
	// a factorisation that breaks down is redone with every dropped entry
	// compensated on the diagonal (Ajiz and Jennings 1984), which cannot
	// break down in exact arithmetic but regularises the densely connected
	// products more: on the MovieLens-shaped store a fill of 64 so
	// compensated ranks about 10 % below dense EASE. A pivot that rounds
	// below Lambda all the same (a Lambda tiny against the counts, such
	// as 1e-300) is an error.
	Fill int
	// Tolerance drops entries of L and of L⁻¹ smaller in magnitude (both
	// are unit triangular, so the tolerance is relative to the diagonal);
	// default [DefaultSparseEASETolerance]; negative means none.
	Tolerance float64
	// Candidates is the number of products j for which W[i][j] is
	// computed in row i: the products bought together with i, the
	// Candidates with the highest co-count when there are more (ties by
	// id; counts compared as integers, exact at any size); default 4·K
	// (all of them when K is negative). The fit itself takes the counts
	// in float64, exact up to 2^53.
	Candidates int
}

func (o SparseEASEOptions) withDefaults(k int) (SparseEASEOptions, error) {
	if o.Tolerance == 0 {
		o.Tolerance = DefaultSparseEASETolerance
	}
	if math.IsNaN(o.Tolerance) || math.IsInf(o.Tolerance, 0) {
		return o, fmt.Errorf("similarity: sparse EASE tolerance %v", o.Tolerance)
	}
	o.Tolerance = max(o.Tolerance, 0)
	if o.Candidates == 0 {
		o.Candidates = -1
		if k > 0 {
			o.Candidates = 4 * k
		}
	}
	return o, nil
}

// fitSparseEASE is the sparse solver of [FitEASE], after SANSA (Spišák
// et al., "Scalable Approximate NonSymmetric Autoencoder for Collaborative
// Filtering", RecSys 2023), on the products sel (those with a purchase):
//
//  1. Order the products by the number of products they were bought
//     with, ascending (ties by id): a static minimum-degree ordering, so
//     that the densely connected products come last and cause little fill.
//  2. Factor A = XᵀX + λI ≈ L·D·Lᵀ by an incomplete LDLᵀ that keeps the
//     Fill largest multipliers above Tolerance per column; on a breakdown,
//     with a larger fill or with compensation ([SparseEASEOptions.Fill]).
//  3. Approximate K ≈ L⁻¹ column by column by sparse forward substitution,
//     with the same dropping. Then P = A⁻¹ ≈ Kᵀ·D⁻¹·K, so
//     P[i][j] = Σ_r K[r][i]·K[r][j]/D[r] is a sparse dot product of two
//     columns of K and diag(P)[j] = Σ_r K[r][j]²/D[r].
//  4. For each product i, compute W[i][j] = −P[i][j]/P[j][j] for its
//     Candidates (the products bought with it, by co-count) and keep the
//     K largest in magnitude.
//
// With m products, f = Fill and c = Candidates, the time is about
// O(m·f²) for the factor, O(Σ visited entries·f) for the inverse and
// O(m·c·f) for the weights; memory O(m·f) plus the counts. With Fill and
// Tolerance negative, every step is exact and the result equals the dense
// solution on the candidate pairs. Unlike SANSA, which keeps W factored
// and scores customers with two sparse products, W is materialised row by
// row on the candidate pairs, because an [Index] holds neighbour rows.
func fitSparseEASE(ctx context.Context, c *Counts, sel []affinity.ProductID, o EASEOptions, workers int) (*Index, error) {
	m := len(sel)
	order := slices.Clone(sel)
	degree := func(p affinity.ProductID) int { cols, _ := c.Row(p); return len(cols) }
	slices.SortFunc(order, func(a, b affinity.ProductID) int {
		return cmp.Or(cmp.Compare(degree(a), degree(b)), cmp.Compare(a, b))
	})
	pos := positions(c.np, order)
	diag := make([]float64, m)
	for j, p := range order {
		diag[j] = float64(c.support[p]) + o.Lambda
	}
	lower := func(j int, emit func(i int32, v float64)) {
		cols, vals := c.Row(order[j])
		for t, b := range cols {
			if i := pos[b]; int(i) > j {
				emit(i, float64(vals[t]))
			}
		}
	}
	// (A·x)[j]: the diagonal and the row's co-counts
	ax := func(j int, x []float64) float64 {
		cols, vals := c.Row(order[j])
		v := diag[j] * x[j]
		for t, b := range cols {
			if i := int(pos[b]); i >= 0 && i != j {
				v += float64(vals[t]) * x[i]
			}
		}
		return v
	}
	lo := ldlOptions{fill: o.Sparse.Fill, tol: o.Sparse.Tolerance, minPivot: o.Lambda}
	if lo.fill == 0 {
		lo.fill = startFill(m)
	}
	var l *sparseCols
	var d []float64
	var err error
	auto := o.Sparse.Fill == 0
	var residual float64 // of the last accuracy check
	for {
		l, d, err = incompleteLDL(ctx, m, diag, lower, lo)
		if errors.Is(err, errBreakdown) {
			if lo.compensate { // only in rounding: a Lambda tiny against the counts
				return nil, fmt.Errorf("similarity: EASE: the sparse factorisation broke down even compensated, a pivot rounding below Lambda %g: use a larger Lambda or the dense solver", o.Lambda)
			}
			residual = 0
			if next, ok := growFill(lo.fill, m, true); auto && ok {
				lo.fill = next
			} else {
				lo.compensate = true
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if !auto || lo.compensate {
			break
		}
		r, err := factorResidual(ctx, l, d, m, ax, workers)
		if err != nil {
			return nil, err
		}
		residual = r
		next, ok := growFill(lo.fill, m, false)
		if r <= MaxSparseEASEResidual || !ok {
			break
		}
		lo.fill = next
	}
	if o.Info != nil {
		*o.Info = EASEInfo{Sparse: true, Fill: lo.fill, Residual: residual, Compensated: lo.compensate}
	}
	inv, err := approxInverse(ctx, l, m, lo, workers)
	if err != nil {
		return nil, err
	}
	// diag(P)[j] = 1/D[j] + Σ_{r>j} K[r][j]²/D[r]
	pd := make([]float64, m)
	for j := range m {
		s := 1 / d[j]
		rows, vals := inv.col(j)
		for t, r := range rows {
			s += vals[t] * vals[t] / d[r]
		}
		pd[j] = s
	}
	x := c.easeIndex(o.K, m)
	type state struct {
		u         []float64 // K[r][i]/D[r] of the current row i, dense over rows r
		w         []float64 // W[i][j] by position in i's row of counts
		top, cand topK
	}
	states := make([]*state, workers)
	x.off, x.nb, err = collectRows(ctx, c.np, blockRows, workers, func(wk, lo, hi int, out *rowSink) error {
		st := states[wk]
		if st == nil {
			st = &state{u: make([]float64, m)}
			states[wk] = st
		}
		for a := lo; a < hi; a++ {
			i := int(pos[a])
			if i < 0 {
				out.endRow()
				continue
			}
			// the candidates, by co-count; ids are positions in the row,
			// whose products ascend, so ties go to the lower product id.
			// The keys hold the counts as integers: as float32 scores,
			// counts above 2^24 tied and the lower id won
			cols, vals := c.Row(affinity.ProductID(a))
			nc := len(cols)
			if o.Sparse.Candidates >= 0 {
				nc = min(nc, o.Sparse.Candidates)
			}
			st.cand.reset(nc)
			for t, v := range vals {
				st.cand.PushCount(v, uint32(t))
			}
			rows, kv := inv.col(i)
			st.u[i] = 1 / d[i]
			for t, r := range rows {
				st.u[r] = kv[t] / d[r]
			}
			st.w = slices.Grow(st.w[:0], len(cols))[:len(cols)]
			st.top.reset(x.k)
			for _, key := range st.cand.sorted() {
				_, t := unpackKey(key)
				j := int(pos[cols[t]])
				rj, vj := inv.col(j)
				p := st.u[j]
				for s, r := range rj {
					p += vj[s] * st.u[r]
				}
				if w := -p / pd[j]; w != 0 {
					st.w[t] = w
					st.top.push(f32(math.Abs(w)), t)
				}
			}
			out.appendSigned(&st.top, func(t uint32) Neighbor {
				return Neighbor{Product: cols[t], Score: f32(st.w[t]), Count: vals[t]}
			})
			st.u[i] = 0
			for _, r := range rows {
				st.u[r] = 0
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

// factorResidual returns the largest ‖A·x − e_j‖₂ for x = (L·D·Lᵀ)⁻¹·e_j
// over residualColumns columns j spread evenly over the elimination order
// (every column when there are fewer): 0 for an exact factor, about 1 or
// more where the factor says nothing about the inverse. ax(k, x) returns
// (A·x)[k]. Each column costs two triangular solves and a product with A,
// O(nnz(L) + nnz(A)); the columns are spread over the workers.
func factorResidual(ctx context.Context, l *sparseCols, d []float64, m int, ax func(k int, x []float64) float64, workers int) (float64, error) {
	n := min(residualColumns, m)
	res := make([]float64, n)
	type scratch struct{ x, y []float64 }
	scr := make([]*scratch, workers)
	err := parallel.For(ctx, workers, n, func(wk, t int) error {
		s := scr[wk]
		if s == nil {
			s = &scratch{x: make([]float64, m), y: make([]float64, m)}
			scr[wk] = s
		}
		res[t] = columnResidual(l, d, m, ax, (2*t+1)*m/(2*n), s.x, s.y)
		return nil
	})
	if err != nil || n == 0 {
		return 0, err
	}
	return slices.Max(res), nil
}

// columnResidual returns ‖A·x − e_j‖₂ for x = (L·D·Lᵀ)⁻¹·e_j, with x and y
// (length m) as scratch.
func columnResidual(l *sparseCols, d []float64, m int, ax func(k int, x []float64) float64, j int, x, y []float64) float64 {
	// L·y = e_j: y is zero above j
	clear(y)
	y[j] = 1
	for k := j; k < m; k++ {
		if yk := y[k]; yk != 0 {
			rows, vals := l.col(k)
			for t, i := range rows {
				y[i] -= vals[t] * yk
			}
		}
	}
	// Lᵀ·x = D⁻¹·y
	for k := m - 1; k >= 0; k-- {
		v := y[k] / d[k]
		rows, vals := l.col(k)
		for t, i := range rows {
			v -= vals[t] * x[i]
		}
		x[k] = v
	}
	var s float64
	for k := range m {
		r := ax(k, x)
		if k == j {
			r--
		}
		s += r * r
	}
	return math.Sqrt(s)
}
