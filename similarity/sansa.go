package similarity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/shopaffinity/affinity"
)

// DefaultSparseEASEFill is the fill [SparseEASEOptions.Fill] starts
// from.
const DefaultSparseEASEFill = 64

// maxAutoFill and maxAutoEntries bound the automatic fill: it doubles
// from DefaultSparseEASEFill up to 512 entries per column and 2²⁵ entries
// (about 400 MB for the factor) in all.
const (
	maxAutoFill    = 512
	maxAutoEntries = 1 << 25
)

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
	// was bought with most others. The zero value chooses the fill: it
	// starts at [DefaultSparseEASEFill] and doubles after such a breakdown,
	// up to 512 and 2²⁵ entries in all. When the fill is fixed or the
	// bound is reached, the factorisation is redone with every dropped
	// entry compensated on the diagonal (Ajiz and Jennings 1984), which
	// cannot break down but regularises the densely connected products
	// more: on MovieLens-shaped data (1,682 products, about 550 co-bought per
	// product on average) a fill of 64 so compensated ranks about 10 %
	// below dense EASE, the automatic fill (256) as well as it.
	Fill int
	// Tolerance drops entries of L and of L⁻¹ smaller in magnitude (both
	// are unit triangular, so the tolerance is relative to the diagonal);
	// default [DefaultSparseEASETolerance]; negative means none.
	Tolerance float64
	// Candidates is the number of products j for which W[i][j] is
	// computed in row i: the products bought together with i, the
	// Candidates with the highest co-count when there are more (ties by
	// id); default 4·K (all of them when K is negative).
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
	lo := ldlOptions{fill: o.Sparse.Fill, tol: o.Sparse.Tolerance, minPivot: o.Lambda}
	if lo.fill == 0 {
		lo.fill = DefaultSparseEASEFill
	}
	var l *sparseCols
	var d []float64
	var err error
	for {
		l, d, err = incompleteLDL(ctx, m, diag, lower, lo)
		if !errors.Is(err, errBreakdown) {
			break
		}
		if o.Sparse.Fill == 0 && 2*lo.fill <= maxAutoFill && m*2*lo.fill <= maxAutoEntries {
			lo.fill *= 2
			continue
		}
		lo.compensate = true
	}
	if err != nil {
		return nil, err
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
			// whose products ascend, so ties go to the lower product id
			cols, vals := c.Row(affinity.ProductID(a))
			nc := len(cols)
			if o.Sparse.Candidates >= 0 {
				nc = min(nc, o.Sparse.Candidates)
			}
			st.cand.reset(nc)
			for t, v := range vals {
				st.cand.push(float32(v), uint32(t))
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
