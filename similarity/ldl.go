package similarity

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"slices"

	"github.com/shopaffinity/affinity/internal/parallel"
)

// This file holds the sparse numerical kernels of the sparse EASE fit: an
// incomplete LDLᵀ factorisation of a symmetric positive definite matrix and
// a sparse approximate inverse of its unit lower triangular factor. They
// are written here rather than taken from a library because gonum has no
// sparse factorisation and cgo solvers (CHOLMOD, SuiteSparse) are not an
// option for a pure-Go library.

// sparseCols is a sparse matrix stored by columns (CSC): column j holds the
// rows row[ptr[j]:ptr[j+1]], ascending, with the values val[…].
type sparseCols struct {
	ptr []int64
	row []int32
	val []float64
}

func (s *sparseCols) col(j int) ([]int32, []float64) {
	lo, hi := s.ptr[j], s.ptr[j+1]
	return s.row[lo:hi:hi], s.val[lo:hi:hi]
}

// ldlOptions bounds the fill of the incomplete factorisation and of the
// approximate inverse.
type ldlOptions struct {
	fill int     // entries kept per column, besides the diagonal; < 0: all
	tol  float64 // entries of magnitude below tol are dropped; 0: none
	// minPivot is the smallest pivot of the exact factorisation: for
	// XᵀX + λI every pivot is ≥ λ. A smaller pivot means the dropping lost
	// positive definiteness.
	minPivot float64
	// compensate adds every dropped entry's magnitude to the diagonal
	// (see incompleteLDL). Without it, a pivot below minPivot stops the
	// factorisation with errBreakdown.
	compensate bool
}

// errBreakdown reports an incomplete factorisation without compensation
// that lost positive definiteness.
var errBreakdown = errors.New("similarity: incomplete factorisation broke down")

// keep reports whether a column with n candidate entries must be
// truncated to the fill.
func (o ldlOptions) truncates(n int) bool { return o.fill >= 0 && n > o.fill }

// incompleteLDL computes L (unit lower triangular, stored without its
// diagonal) and D with A ≈ L·D·Lᵀ, for the m×m symmetric matrix A with
// diagonal diag whose strict lower triangle lower(j, emit) emits, column by
// column: emit(i, A[i][j]) for i > j, in any order, each i once.
//
// It is the left-looking column algorithm: column j of the Schur
// complement is A[j:, j] − Σ_{k<j, L[j][k]≠0} L[j][k]·D[k]·L[j:, k]; the
// columns k that touch row j are found through linked lists keyed by the
// next unused row of each finished column, so the work is the number of
// multiply-adds, never a scan of L. Of column j's Schur complement entries
// w[i], those below opts.tol·w[j] in magnitude are dropped and only the
// opts.fill largest are kept (ties by row). With opts.compensate each
// dropped entry is compensated on the diagonal (see below), so
// L·D·Lᵀ = A + E with E positive semidefinite and every pivot at least the
// smallest eigenvalue of A; without it, it returns errBreakdown when a
// pivot falls below opts.minPivot. With fill < 0 and tol = 0 the
// factorisation is exact. Time O(Σ_k nnz(L[:,k])² + nnz(A)),
// memory O(nnz(L) + m). ctx is checked every 256 columns.
func incompleteLDL(ctx context.Context, m int, diag []float64, lower func(j int, emit func(i int32, v float64)), opts ldlOptions) (*sparseCols, []float64, error) {
	l := &sparseCols{ptr: make([]int64, 1, m+1)}
	d := make([]float64, m)
	w := make([]float64, m)
	mark := make([]bool, m)
	var touched []int32
	extra := make([]float64, m) // the diagonal compensation of dropped entries
	// next[k]: position in l of column k's next row to use; head[r] the
	// first column whose next row is r, link[k] the one after k.
	next := make([]int64, m)
	head := make([]int32, m)
	link := make([]int32, m)
	for i := range head {
		head[i] = -1
	}
	emit := func(i int32, v float64) {
		if !mark[i] {
			mark[i] = true
			touched = append(touched, i)
		}
		w[i] += v
	}
	var cand []int32
	for j := range m {
		if j&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		touched = touched[:0]
		w[j] = diag[j] + extra[j]
		mark[j] = true
		lower(j, emit)
		for k := head[j]; k >= 0; {
			after := link[k]
			t, end := next[k], l.ptr[k+1]
			f := l.val[t] * d[k]
			for ; t < end; t++ {
				emit(l.row[t], -f*l.val[t])
			}
			if next[k]++; next[k] < end {
				r := l.row[next[k]]
				link[k], head[r] = head[r], k
			}
			k = after
		}
		// Dropping the entry e = w[i] of the Schur complement is factoring
		// A + E with E[i][j] = E[j][i] = −e. Adding |e|·s to E[j][j] and
		// |e|/s to E[i][i] (s = √(A[j][j]/A[i][i]) balances the scales)
		// makes that 2×2 block of E positive semidefinite, so the result is
		// the exact LDLᵀ of a positive definite matrix (Ajiz and Jennings
		// 1984): every pivot stays ≥ λ, however much is dropped.
		piv := w[j]
		cand = cand[:0]
		for _, i := range touched {
			if int(i) != j && w[i] != 0 && math.Abs(w[i]) >= opts.tol*piv {
				cand = append(cand, i)
			}
		}
		kept := keepLargest(cand, w, opts)
		for _, i := range kept {
			mark[i] = false // kept: not compensated
		}
		for _, i := range touched {
			if opts.compensate && int(i) != j && mark[i] && w[i] != 0 {
				e, s := math.Abs(w[i]), math.Sqrt(diag[j]/diag[i])
				piv += e * s
				extra[i] += e / s
			}
		}
		if !(piv >= opts.minPivot*(1-1e-9)) {
			return nil, nil, errBreakdown
		}
		d[j] = piv
		w[j], mark[j] = 0, false
		cand = kept
		for _, i := range cand {
			w[i] /= piv
		}
		slices.Sort(cand)
		for _, i := range cand {
			l.row = append(l.row, i)
			l.val = append(l.val, w[i])
		}
		for _, i := range touched {
			w[i], mark[i] = 0, false
		}
		next[j] = l.ptr[j]
		l.ptr = append(l.ptr, int64(len(l.row)))
		if len(cand) > 0 {
			link[j], head[cand[0]] = head[cand[0]], int32(j)
		}
	}
	return l, d, nil
}

// keepLargest truncates idx to the opts.fill entries of largest |w[i]|,
// ties by lower index, when it holds more; the order is lost. A
// quickselect: O(len(idx)) expected.
func keepLargest(idx []int32, w []float64, opts ldlOptions) []int32 {
	if !opts.truncates(len(idx)) {
		return idx
	}
	before := func(a, b int32) bool { // a ranks before b
		x, y := math.Abs(w[a]), math.Abs(w[b])
		return x > y || (x == y && a < b)
	}
	k := opts.fill
	lo, hi := 0, len(idx)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		// median of three to idx[hi-1]
		if before(idx[mid], idx[lo]) {
			idx[mid], idx[lo] = idx[lo], idx[mid]
		}
		if before(idx[hi-1], idx[lo]) {
			idx[hi-1], idx[lo] = idx[lo], idx[hi-1]
		}
		if before(idx[mid], idx[hi-1]) {
			idx[mid], idx[hi-1] = idx[hi-1], idx[mid]
		}
		pivot, p := idx[hi-1], lo
		for j := lo; j < hi-1; j++ {
			if before(idx[j], pivot) {
				idx[p], idx[j] = idx[j], idx[p]
				p++
			}
		}
		idx[p], idx[hi-1] = idx[hi-1], idx[p]
		switch {
		case k < p:
			hi = p
		case k > p+1:
			lo = p + 1
		default:
			return idx[:k]
		}
	}
	return idx[:k]
}

// approxInverse returns a sparse approximation of L⁻¹, for L unit lower
// triangular (l without its diagonal), by columns, also without the unit
// diagonal. Column j solves L·x = e_j by forward substitution in sparse
// form: the nonzeros of x are visited in increasing row order (a bit per
// row, scanned forward, since a row only adds to the rows below it), and
// one whose magnitude fell below opts.tol is dropped before it
// propagates; of what remains, the opts.fill largest are kept. With
// fill < 0 and tol = 0 it is exact. Columns are independent and computed
// by workers in parallel; the result does not depend on their number. Time
// O(Σ_j (Σ_{visited r} nnz(L[:,r]) + span_j/64)), span_j the distance
// from j to the column's last visited row; memory O(nnz(result) + m).
func approxInverse(ctx context.Context, l *sparseCols, m int, opts ldlOptions, workers int) (*sparseCols, error) {
	const block = 256
	nblk := (m + block - 1) / block
	type part struct {
		row  []int32
		val  []float64
		lens []int32
	}
	parts := make([]part, nblk)
	type scratch struct {
		x    []float64
		mark []bool   // rows of x reached in this column
		rows []uint64 // a bit per reached row still to propagate
		seen []int32
	}
	scr := make([]*scratch, workers)
	err := parallel.For(ctx, workers, nblk, func(wk, b int) error {
		s := scr[wk]
		if s == nil {
			s = &scratch{x: make([]float64, m), mark: make([]bool, m), rows: make([]uint64, (m+63)/64)}
			scr[wk] = s
		}
		p := &parts[b]
		for j := b * block; j < min((b+1)*block, m); j++ {
			s.seen = s.seen[:0]
			// x[j] = 1: propagate column j of L directly
			rows, vals := l.col(j)
			hi := j // the highest row set in s.rows
			for t, i := range rows {
				s.x[i] = -vals[t]
				s.mark[i] = true
				s.rows[i>>6] |= 1 << (i & 63)
				hi = max(hi, int(i))
			}
			// the rows in increasing order: a row only adds to rows
			// below it, so a forward scan of the bits finds them all
			for wi := (j + 1) >> 6; wi <= hi>>6; wi++ {
				for s.rows[wi] != 0 {
					r := int32(wi<<6 + bits.TrailingZeros64(s.rows[wi]))
					s.rows[wi] &= s.rows[wi] - 1
					xr := s.x[r]
					if xr == 0 || math.Abs(xr) < opts.tol {
						s.x[r], s.mark[r] = 0, false
						continue
					}
					s.seen = append(s.seen, r)
					rows, vals := l.col(int(r))
					for t, i := range rows {
						if !s.mark[i] {
							s.mark[i] = true
							s.rows[i>>6] |= 1 << (i & 63)
						}
						s.x[i] -= vals[t] * xr
					}
					if n := len(rows); n > 0 {
						hi = max(hi, int(rows[n-1]))
					}
				}
			}
			kept := keepLargest(s.seen, s.x, opts)
			slices.Sort(kept)
			for _, i := range kept {
				p.row = append(p.row, i)
				p.val = append(p.val, s.x[i])
			}
			p.lens = append(p.lens, int32(len(kept)))
			for _, i := range s.seen {
				s.x[i], s.mark[i] = 0, false
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	total := 0
	for _, p := range parts {
		total += len(p.row)
	}
	inv := &sparseCols{ptr: make([]int64, 1, m+1), row: make([]int32, 0, total), val: make([]float64, 0, total)}
	for b := range parts {
		p := &parts[b]
		inv.row = append(inv.row, p.row...)
		inv.val = append(inv.val, p.val...)
		for _, n := range p.lens {
			inv.ptr = append(inv.ptr, inv.ptr[len(inv.ptr)-1]+int64(n))
		}
		*p = part{}
	}
	return inv, nil
}
