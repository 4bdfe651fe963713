package similarity

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/internal/topk"
)

// DefaultK is the default number of neighbours per product.
const DefaultK = 50

// DefaultMinSupport is the default [IndexOptions.MinSupport].
const DefaultMinSupport = 2

// MaxIndexK is the largest [IndexOptions.K] and MinSupport (and
// [EASEOptions.K]): the index file holds them in 31 bits. A K above the
// number of products keeps every neighbour.
const MaxIndexK = math.MaxInt32

// IndexOptions configures [NewIndex]. The zero value keeps the 50 best
// neighbours by [Jaccard] among the pairs seen together at least twice.
type IndexOptions struct {
	// Measure ranks the neighbours; default Jaccard. EASE and SVD indexes
	// come from [FitEASE] and [Embedding.Index].
	Measure Measure
	// K is the number of neighbours kept per product; 0 or negative means
	// [DefaultK]; at most [MaxIndexK].
	K int
	// MinSupport is the minimum co-count of a pair to be a neighbour;
	// default [DefaultMinSupport], at most [MaxIndexK]. Use 1 to keep
	// every pair seen together.
	MinSupport int
	// Shrinkage λ ≥ 0 multiplies each score by AB/(AB+λ), AB the
	// co-count ([Shrink]), so that pairs seen together a few times rank
	// below equally scored pairs seen often; 0 means none.
	Shrinkage float64
	// BM25 holds the parameters of the [BM25] measure; the zero value means
	// [DefaultBM25].
	BM25 BM25Params
	// Workers is the number of goroutines; default GOMAXPROCS.
	Workers int
}

func (o IndexOptions) withDefaults() (IndexOptions, error) {
	if !o.Measure.Valid() {
		return o, fmt.Errorf("similarity: unknown measure %d", int(o.Measure))
	}
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.MinSupport <= 0 {
		o.MinSupport = DefaultMinSupport
	}
	if o.K > MaxIndexK || o.MinSupport > MaxIndexK {
		return o, fmt.Errorf("similarity: K %d or MinSupport %d beyond %d, the most an index file holds", o.K, o.MinSupport, MaxIndexK)
	}
	if o.Shrinkage < 0 || math.IsNaN(o.Shrinkage) || math.IsInf(o.Shrinkage, 0) {
		return o, fmt.Errorf("similarity: shrinkage %v is not a finite λ ≥ 0", o.Shrinkage)
	}
	var err error
	if o.BM25, err = o.BM25.withDefaults(); err != nil {
		return o, err
	}
	o.Workers = parallel.Workers(o.Workers)
	return o, nil
}

// Neighbor is one neighbour of a product in an [Index].
type Neighbor struct {
	// Product is the neighbour.
	Product affinity.ProductID
	// Score is the measure's value (after shrinkage); higher is closer.
	// Scores are finite: +∞ (conviction of a pair that always goes
	// together) is stored as math.MaxFloat32. EASE weights are signed: a
	// negative one says that buying the anchor makes the neighbour less
	// likely ([FitEASE]).
	Score float32
	// Count is the raw co-count of the pair (for Sequential: the anchor,
	// then the neighbour), for explanations.
	Count uint32
}

// better orders neighbours: higher score first, ties by lower product id.
func better(x, y Neighbor) bool {
	return x.Score > y.Score || (x.Score == y.Score && x.Product < y.Product)
}

// f32 converts a score for storage: infinities (and values beyond the
// float32 range) become ±MaxFloat32.
func f32(v float64) float32 {
	x := float32(v)
	if x > math.MaxFloat32 || x < -math.MaxFloat32 {
		return float32(max(-math.MaxFloat32, min(math.MaxFloat32, v)))
	}
	return x
}

// topK keeps the k best of the (score, id) pairs offered to it: the
// shared packed-key selection of internal/topk, with the short names the
// row loops of this package use.
type topK struct{ topk.Keys }

func (t *topK) reset(k int)               { t.Reset(k) }
func (t *topK) push(v float32, id uint32) { t.Push(v, id) }
func (t *topK) rejects(key uint64) bool   { return t.Rejects(key) }
func (t *topK) pushKey(key uint64)        { t.PushKey(key) }
func (t *topK) sorted() []uint64          { return t.Sorted() }

func packKey(v float32, id uint32) uint64    { return topk.Pack(v, id) }
func unpackKey(key uint64) (float32, uint32) { return topk.Unpack(key) }

// Index holds the top-K neighbours of every product for one measure, with
// the raw co-counts and the marginals behind them. It is immutable and
// safe for concurrent use. Build it with [NewIndex], [FitEASE] or
// [Embedding.Index]; persist it with [Index.WriteTo] and [ReadIndex].
type Index struct {
	measure    Measure
	scope      Scope
	k          int
	minSupport int
	shrinkage  float64
	n          int
	support    []uint32
	off        []uint32 // len NumProducts+1
	nb         []Neighbor
}

// NewIndex selects, for every product a, the K products b with the
// highest score of opts.Measure on the counts of (a, b) — for directed
// counts, b bought after a — among the pairs with a co-count of at least
// MinSupport, after shrinkage. Ties are broken by product id.
//
// Every measure except BM25 is computed from the stored counts in
// O(pairs + rows·K·log K); BM25 recounts the transactions with their
// weights (as long as [Count] did). Rows are processed in parallel; the
// result does not depend on the number of workers. It returns an error for
// invalid options and ctx.Err() if ctx is done first.
func NewIndex(ctx context.Context, c *Counts, opts IndexOptions) (*Index, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, affinity.NilArgument("similarity", "Counts")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if !fromCounts(o.Measure) && o.Measure != BM25 {
		return nil, fmt.Errorf("similarity: NewIndex cannot compute %v: use FitEASE or Embedding.Index", o.Measure)
	}
	if o.Measure == BM25 && c.noTx {
		return nil, fmt.Errorf("similarity: NewIndex cannot compute %v from counts without transactions (Partial.Counts)", o.Measure)
	}
	x := c.newIndex(o)
	minSup := uint32(o.MinSupport)
	var bm *bm25Weights
	if o.Measure == BM25 {
		bm = newBM25Weights(c, o.BM25)
	}
	type state struct {
		top topK
		s   *scratch
		buf []float32
	}
	states := make([]*state, o.Workers)
	x.off, x.nb, err = collectRows(ctx, c.np, blockRows, o.Workers, func(w, lo, hi int, out *rowSink) error {
		st := states[w]
		if st == nil {
			st = &state{}
			if bm != nil {
				st.s = newScratch(c.np, true)
			}
			states[w] = st
		}
		for a := lo; a < hi; a++ {
			if bm != nil {
				st.top.reset(o.K)
				bm.row(st.s, affinity.ProductID(a), minSup, o.Shrinkage, &st.top, out)
			} else {
				st.buf = c.topRow(affinity.ProductID(a), o, &st.top, st.buf, out)
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

// topRow appends to out the K neighbours of a by o's measure (not BM25):
// the stored co-counts of its row scored and selected, with top and buf
// as scratch. It returns buf, grown.
func (c *Counts) topRow(a affinity.ProductID, o IndexOptions, top *topK, buf []float32, out *rowSink) []float32 {
	top.reset(o.K)
	cols, vals := c.Row(a)
	buf = scoreRow(buf[:0], o.Measure, float64(c.n), float64(c.support[a]), cols, vals, c.support, o.Shrinkage)
	selectRow(top, buf, vals, uint32(o.MinSupport))
	for _, key := range top.sorted() {
		v, i := unpackKey(key)
		out.nb = append(out.nb, Neighbor{Product: cols[i], Score: v, Count: vals[i]})
	}
	return buf
}

// selectRow offers the scores of a row (ids are positions) to top, which
// was reset to K, skipping NaN and entries with vals below minSup. It
// starts from an estimated floor and, if fewer than K candidates reached
// it, selects again from scratch.
func selectRow(top *topK, scores []float32, vals []uint32, minSup uint32) {
	k := top.K()
	top.Floor = estimateFloor(scores, vals, minSup, k)
	offerRow(top, scores, vals, minSup)
	if top.Len() < k && !math.IsInf(float64(top.Floor), -1) {
		top.reset(k)
		offerRow(top, scores, vals, minSup)
	}
}

func offerRow(top *topK, scores []float32, vals []uint32, minSup uint32) {
	for i, v := range scores {
		if v < top.Floor || vals[i] < minSup || v != v {
			continue
		}
		if key := packKey(v, uint32(i)); !top.rejects(key) {
			top.pushKey(key)
		}
	}
}

// estimateFloor estimates, from a strided sample of a long row's scores,
// a score that about 2K of them reach: a starting floor that keeps most
// candidates from entering the selection when better ones come late. It
// returns −∞ for short rows or too small a sample. The caller checks that
// at least K candidates passed and otherwise selects again without it, so
// the result is exact either way.
func estimateFloor(scores []float32, vals []uint32, minSup uint32, k int) float32 {
	n := len(scores)
	m := min(n/2, 4*k) // sample size
	if n < 8*k || m == 0 {
		return float32(math.Inf(-1))
	}
	r := max(1, 2*k*m/n) // the r-th best of the sample ranks about 2k in the row
	var best [64]float32 // the r best sample scores, descending
	r = min(r, len(best))
	have := 0
	for j := range m {
		i := j * n / m
		v := scores[i]
		if vals[i] < minSup || v != v || (have == r && v <= best[r-1]) {
			continue
		}
		p := min(have, r-1)
		for p > 0 && best[p-1] < v {
			best[p] = best[p-1]
			p--
		}
		best[p] = v
		have = min(have+1, r)
	}
	if have < r {
		return float32(math.Inf(-1))
	}
	return best[r-1]
}

// scoreRow appends to dst the stored score of every entry of a row of
// counts: f32(Shrink(score(…))). The common measures have their own loop,
// with the expression of score for stored entries (AB ≥ 1), so the
// results are identical.
func scoreRow(dst []float32, m Measure, n, sa float64, cols []affinity.ProductID, vals []uint32, support []uint32, lambda float64) []float32 {
	dst = slices.Grow(dst, len(cols))[:len(cols)]
	fin := func(i int, v float64) {
		if lambda > 0 {
			v = Shrink(v, int(vals[i]), lambda)
		}
		dst[i] = f32(v)
	}
	switch m {
	case Jaccard:
		for i, b := range cols {
			ab := float64(vals[i])
			fin(i, ab/(sa+float64(support[b])-ab))
		}
	case Cosine:
		for i, b := range cols {
			fin(i, min(float64(vals[i])/math.Sqrt(sa*float64(support[b])), 1))
		}
	case Lift:
		for i, b := range cols {
			fin(i, float64(vals[i])*n/(sa*float64(support[b])))
		}
	case Confidence:
		for i := range cols {
			fin(i, float64(vals[i])/sa)
		}
	default:
		for i, b := range cols {
			fin(i, score(m, n, sa, float64(support[b]), float64(vals[i])))
		}
	}
	return dst
}

func (c *Counts) newIndex(o IndexOptions) *Index {
	return &Index{measure: o.Measure, scope: c.scope, k: o.K, minSupport: o.MinSupport,
		shrinkage: o.Shrinkage, n: c.n, support: c.support}
}

// rowSink collects the neighbour rows of one block.
type rowSink struct {
	nb    []Neighbor
	lens  []uint32
	start int // where the current row begins in nb
}

// endRow ends the current row: the neighbours appended to s.nb since the
// previous one.
func (s *rowSink) endRow() {
	s.lens = append(s.lens, uint32(len(s.nb)-s.start))
	s.start = len(s.nb)
}

// collectRows runs fn over blocks of rows [lo, hi) in parallel; fn adds
// every row of its block, in order, to out. The blocks are then joined
// into CSR offsets and one neighbour slice.
func collectRows(ctx context.Context, np, rows, workers int, fn func(w, lo, hi int, out *rowSink) error) ([]uint32, []Neighbor, error) {
	nblk := (np + rows - 1) / rows
	sinks := make([]rowSink, nblk)
	err := parallel.For(ctx, workers, nblk, func(w, bi int) error {
		lo, hi := bi*rows, min((bi+1)*rows, np)
		if err := fn(w, lo, hi, &sinks[bi]); err != nil {
			return err
		}
		if len(sinks[bi].lens) != hi-lo {
			panic("similarity: internal error: block rows missing")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	total := 0
	for _, s := range sinks {
		total += len(s.nb)
	}
	if total > math.MaxUint32 {
		return nil, nil, fmt.Errorf("similarity: index with more than %d neighbours", uint32(math.MaxUint32))
	}
	off := make([]uint32, 0, np+1)
	off = append(off, 0)
	nb := make([]Neighbor, 0, total)
	for i := range sinks {
		for _, l := range sinks[i].lens {
			off = append(off, off[len(off)-1]+l)
		}
		nb = append(nb, sinks[i].nb...)
		sinks[i] = rowSink{}
	}
	return off, nb, nil
}

// Neighbors returns the neighbours of p, best first (score descending,
// ties by product ascending), at most K of them. The slice is owned by the
// Index and must not be modified; it is empty for an unknown p or a
// product without neighbours. O(1), no allocation.
func (x *Index) Neighbors(p affinity.ProductID) []Neighbor {
	if int(p) >= len(x.off)-1 {
		return nil
	}
	lo, hi := x.off[p], x.off[p+1]
	return x.nb[lo:hi:hi]
}

// Support returns the number of counted transactions that contain p (0
// for an unknown p).
func (x *Index) Support(p affinity.ProductID) int {
	if int(p) >= len(x.support) {
		return 0
	}
	return int(x.support[p])
}

// Total returns N, the number of transactions (baskets or customers)
// counted.
func (x *Index) Total() int { return x.n }

// NumProducts returns the number of products (rows).
func (x *Index) NumProducts() int { return len(x.off) - 1 }

// NumNeighbors returns the number of neighbours stored, over all rows.
func (x *Index) NumNeighbors() int { return len(x.nb) }

// Measure returns the measure the neighbours are ranked by.
func (x *Index) Measure() Measure { return x.measure }

// Scope returns the scope of the counts behind the index.
func (x *Index) Scope() Scope { return x.scope }

// Directed reports whether the index was built from directed (Sequential)
// counts: b is a neighbour of a because it was bought after a. A learned
// index (EASE) is not built from directed counts, but its rows are not
// symmetric either: see Measure().Directed().
func (x *Index) Directed() bool { return x.scope == Sequential }

// K returns the maximum number of neighbours per product.
func (x *Index) K() int { return x.k }

// MinSupport returns the minimum co-count of a neighbour (0 when the
// measure did not use one: EASE, SVD).
func (x *Index) MinSupport() int { return x.minSupport }

// Shrinkage returns the shrinkage λ applied to the scores.
func (x *Index) Shrinkage() float64 { return x.shrinkage }
