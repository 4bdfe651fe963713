package similarity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// EmbedOptions configures [Embed]. The zero value gives 64 dimensions.
type EmbedOptions struct {
	// Dim is the number of dimensions d kept; default 64. It is lowered to
	// the rank bound min(products, transactions).
	Dim int
	// Oversample is the number of extra dimensions the randomised range
	// finder carries; default 10.
	Oversample int
	// Iterations is the number of power (subspace) iterations; default 4.
	// More sharpens the trailing dimensions at the cost of one pass over
	// the matrix each.
	Iterations int
	// Seed seeds the random start; default 1. The same seed gives the same
	// embedding.
	Seed uint64
	// Workers is the number of goroutines; default GOMAXPROCS.
	Workers int
}

// Embedding holds a dense vector per product: the rows of U·Σ of a
// truncated SVD A ≈ U·Σ·Vᵀ of a product × transaction matrix, so that
// inner products of embeddings approximate those of the matrix rows. It is
// immutable and safe for concurrent use.
type Embedding struct {
	n, dim int
	vec    []float64 // n×dim, row-major
	sigma  []float64
}

// Embed computes a rank-d truncated SVD of m (typically weighted with
// [ItemMatrix.BM25] or [ItemMatrix.TFIDF]) by randomised subspace
// iteration (Halko, Martinsson & Tropp 2011) on the Gram operator A·Aᵀ,
// applied as A·(Aᵀ·X) one transaction column at a time, so that nothing
// of size transactions × d is stored. The small dense steps — thin QR
// (Dgeqrf, Dorgqr), the projected eigenproblem ([mat.EigenSym]) and
// products (Dgemm) — use gonum. Work per iteration is O(nnz·(d+p)) in
// parallel over transaction shards; memory is a copy of m by columns (12
// bytes per stored entry, [ItemMatrix.NNZ], and 4 per transaction) plus
// O(products + transactions + min(workers, 8)·products·(d+p)). It
// returns ctx.Err() if ctx is done first.
func Embed(ctx context.Context, m *ItemMatrix, opts EmbedOptions) (*Embedding, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, affinity.NilArgument("similarity", "ItemMatrix")
	}
	dim := opts.Dim
	if dim <= 0 {
		dim = 64
	}
	over := opts.Oversample
	if over <= 0 {
		over = 10
	}
	iters := opts.Iterations
	if iters <= 0 {
		iters = 4
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	workers := parallel.Workers(opts.Workers)
	rows := m.rows
	dim = min(dim, rows, m.cols)
	l := min(dim+over, rows, m.cols)
	e := &Embedding{n: rows, dim: dim}
	if dim == 0 {
		return e, nil
	}
	g := newGram(m, workers)
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	y := make([]float64, rows*l)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	q := make([]float64, rows*l)
	for range iters + 1 {
		if err := g.apply(ctx, y, q, l); err != nil {
			return nil, err
		}
		orthonormalize(q, rows, l)
		y, q = q, y
	}
	// y holds an orthonormal basis Q of the dominant range; project.
	if err := g.apply(ctx, y, q, l); err != nil {
		return nil, err
	}
	c := make([]float64, l*l)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, general(y, rows, l), general(q, rows, l), 0, general(c, l, l))
	sym := mat.NewSymDense(l, nil)
	for i := range l {
		for j := i; j < l; j++ {
			sym.SetSym(i, j, (c[i*l+j]+c[j*l+i])/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, errors.New("similarity: embedding eigendecomposition failed")
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	// keep the top dim eigenpairs, largest first: V (l×dim) scaled by σ
	vs := make([]float64, l*dim)
	e.sigma = make([]float64, dim)
	for k := range dim {
		src := l - 1 - k
		s := math.Sqrt(max(vals[src], 0))
		e.sigma[k] = s
		for i := range l {
			vs[i*dim+k] = vecs.At(i, src) * s
		}
	}
	e.vec = make([]float64, rows*dim)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, general(y, rows, l), general(vs, l, dim), 0, general(e.vec, rows, dim))
	return e, nil
}

func general(data []float64, r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: max(c, 1), Data: data}
}

// orthonormalize replaces the r×c matrix a (r ≥ c) by the Q of its thin
// QR factorisation.
func orthonormalize(a []float64, r, c int) {
	ga := general(a, r, c)
	tau := make([]float64, c)
	work := []float64{0}
	lapack64.Geqrf(ga, tau, work, -1)
	lw := int(work[0])
	lapack64.Orgqr(ga, tau, work, -1)
	lw = max(lw, int(work[0]), c)
	work = make([]float64, lw)
	lapack64.Geqrf(ga, tau, work, lw)
	lapack64.Orgqr(ga, tau, work, lw)
}

// gram applies A·Aᵀ for a sparse A given by its columns.
type gram struct {
	rows, cols int
	off        []uint32 // per column, into idx/val
	idx        []uint32
	val        []float64
	workers    int
	bufs       [][]float64 // rows×l: the shares of the shards of a wave
	z          [][]float64 // l: (Aᵀ·x) of a shard's current column
}

func newGram(m *ItemMatrix, workers int) *gram {
	g := &gram{rows: m.rows, cols: m.cols, off: make([]uint32, m.cols+1), workers: workers}
	for _, t := range m.col {
		g.off[t+1]++
	}
	for i := 1; i <= m.cols; i++ {
		g.off[i] += g.off[i-1]
	}
	g.idx = make([]uint32, len(m.col))
	g.val = make([]float64, len(m.col))
	next := slices.Clone(g.off[:m.cols])
	for r := range m.rows {
		for k := m.off[r]; k < m.off[r+1]; k++ {
			t := m.col[k]
			g.idx[next[t]] = uint32(r)
			g.val[next[t]] = m.val[k]
			next[t]++
		}
	}
	return g
}

// apply sets y = A·(Aᵀ·x) for the rows×l matrices x and y. The columns
// are cut in applyShards shards, computed in waves of as many shards as
// workers, each into a buffer of its own; the buffers are then added to y
// in shard order (in parallel over rows), so that every sum is made in
// one order whatever the workers and their scheduling: the result never
// depends on them.
func (g *gram) apply(ctx context.Context, x, y []float64, l int) error {
	wave := max(1, min(g.workers, applyShards))
	if len(g.bufs) != wave || len(g.bufs[0]) != g.rows*l {
		g.bufs = make([][]float64, wave)
		for k := range g.bufs {
			g.bufs[k] = make([]float64, g.rows*l)
		}
		g.z = make([][]float64, wave)
		for k := range g.z {
			g.z[k] = make([]float64, l)
		}
	}
	clear(y)
	const rowBlock = 1024
	blocks := (g.rows + rowBlock - 1) / rowBlock
	for first := 0; first < applyShards; first += wave {
		n := min(wave, applyShards-first)
		err := parallel.For(ctx, wave, n, func(_, k int) error {
			part, z := g.bufs[k], g.z[k]
			s := first + k
			lo, hi := s*g.cols/applyShards, (s+1)*g.cols/applyShards
			for t := lo; t < hi; t++ {
				a, e := g.off[t], g.off[t+1]
				if a == e {
					continue
				}
				clear(z)
				for q := a; q < e; q++ {
					i := int(g.idx[q])
					floats.AddScaled(z, g.val[q], x[i*l:(i+1)*l])
				}
				for q := a; q < e; q++ {
					i := int(g.idx[q])
					floats.AddScaled(part[i*l:(i+1)*l], g.val[q], z)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = parallel.For(ctx, wave, blocks, func(_, blk int) error {
			lo, hi := blk*rowBlock*l, min((blk+1)*rowBlock, g.rows)*l
			for k := range n { // in shard order
				floats.Add(y[lo:hi], g.bufs[k][lo:hi])
				clear(g.bufs[k][lo:hi])
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// applyShards is the number of column shards of [gram.apply]: fixed, so
// that its sums do not depend on the workers; it bounds the workers that
// share the product.
const applyShards = 8

// Dim returns the number of dimensions d.
func (e *Embedding) Dim() int { return e.dim }

// NumProducts returns the number of products (rows).
func (e *Embedding) NumProducts() int { return e.n }

// Vector returns the embedding of p (length Dim), owned by e; nil for an
// unknown p.
func (e *Embedding) Vector(p affinity.ProductID) []float64 {
	if int(p) >= e.n {
		return nil
	}
	return e.vec[int(p)*e.dim : (int(p)+1)*e.dim : (int(p)+1)*e.dim]
}

// SingularValues returns the d largest singular values of the matrix,
// descending, owned by e.
func (e *Embedding) SingularValues() []float64 { return e.sigma[:len(e.sigma):len(e.sigma)] }

// Index returns, for every product, the K products whose embeddings have
// the highest cosine similarity with its own, as an [Index] with Measure
// SVD; ties by product id. Products with a zero embedding have no
// neighbours and are nobody's. Only K and Workers of opts are used: the
// point of an embedding is to rank pairs never seen together, so there
// is no minimum support. c supplies Support, Total and each neighbour's
// co-count; it must count the same products.
//
// The cosines are computed block-wise in single precision — a block of
// 256 unit vectors against blocks of 2,048, one gonum Sgemm each — with a
// top-K selection per row, in parallel over row blocks: O(n²·d) work,
// O(n·d + workers·256·2,048) extra memory. With gonum's pure-Go BLAS the
// products run at about the speed of one dot product per pair in the same
// precision; the block form is what lets an optimised BLAS
// (blas32.Use) speed them up.
func (e *Embedding) Index(ctx context.Context, c *Counts, opts IndexOptions) (*Index, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if e == nil {
		return nil, affinity.NilArgument("similarity", "Embedding")
	}
	if c == nil {
		return nil, affinity.NilArgument("similarity", "Counts")
	}
	if c.np != e.n {
		return nil, fmt.Errorf("similarity: embedding of %d products, counts of %d", e.n, c.np)
	}
	k := opts.K
	if k <= 0 {
		k = DefaultK
	}
	if k > MaxIndexK {
		return nil, fmt.Errorf("similarity: K %d beyond %d, the most an index file holds", k, MaxIndexK)
	}
	workers := parallel.Workers(opts.Workers)
	n, d := e.n, e.dim
	// unit vectors in float32: scores are stored as float32, and single
	// precision doubles the throughput of the products
	unit := make([]float32, n*d)
	live := make([]bool, n)
	for p := range n {
		v := e.vec[p*d : (p+1)*d]
		if nv := floats.Norm(v, 2); nv > 0 {
			for k, x := range v {
				unit[p*d+k] = float32(x / nv)
			}
			live[p] = true
		}
	}
	// the column blocks, transposed: block j holds its d × width matrix
	// row-major, so the product is a sequence of long axpys
	const rowBlk, colBlk = 256, 2048
	unitT := make([]float32, n*d)
	for c0 := 0; c0 < n; c0 += colBlk {
		c1 := min(c0+colBlk, n)
		w := c1 - c0
		blk := unitT[c0*d : c1*d]
		for p := c0; p < c1; p++ {
			for k := range d {
				blk[k*w+p-c0] = unit[p*d+k]
			}
		}
	}
	general32 := func(data []float32, r, c int) blas32.General {
		return blas32.General{Rows: r, Cols: c, Stride: max(c, 1), Data: data}
	}
	type state struct {
		tops []topK
		s    []float32
	}
	states := make([]*state, workers)
	x := &Index{measure: SVD, scope: c.scope, k: k, n: c.n, support: c.support}
	var err error
	x.off, x.nb, err = collectRows(ctx, n, rowBlk, workers, func(w, lo, hi int, out *rowSink) error {
		st := states[w]
		if st == nil {
			st = &state{tops: make([]topK, rowBlk), s: make([]float32, rowBlk*colBlk)}
			states[w] = st
		}
		r := hi - lo
		for i := range r {
			st.tops[i].reset(k)
		}
		a := general32(unit[lo*d:hi*d], r, d)
		for c0 := 0; c0 < n && d > 0; c0 += colBlk {
			c1 := min(c0+colBlk, n)
			s := general32(st.s[:r*(c1-c0)], r, c1-c0)
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, general32(unitT[c0*d:c1*d], d, c1-c0), 0, s)
			for i := range r {
				if !live[lo+i] {
					continue
				}
				row := s.Data[i*s.Stride : i*s.Stride+s.Cols]
				top := &st.tops[i]
				for j, v := range row {
					if v < top.Floor {
						continue
					}
					if b := c0 + j; b != lo+i && live[b] {
						top.push(max(-1, min(1, v)), uint32(b))
					}
				}
			}
		}
		for i := range r {
			for _, key := range st.tops[i].sorted() {
				v, b := unpackKey(key)
				p := affinity.ProductID(b)
				out.nb = append(out.nb, Neighbor{Product: p, Score: v, Count: uint32(c.Pair(affinity.ProductID(lo+i), p))})
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
