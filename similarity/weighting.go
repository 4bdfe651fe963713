package similarity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
)

// BM25Params are the parameters of the BM25 weighting: K1 ≥ 0 sets how
// fast repeated interactions saturate, B in [0, 1] how much a product's
// row length is normalised. The zero value means [DefaultBM25].
type BM25Params struct {
	K1, B float64
}

// DefaultBM25 holds the textbook BM25 parameters K1 = 1.2, B = 0.75.
var DefaultBM25 = BM25Params{K1: 1.2, B: 0.75}

func (p BM25Params) withDefaults() (BM25Params, error) {
	if p == (BM25Params{}) {
		return DefaultBM25, nil
	}
	if !(p.K1 >= 0) || math.IsInf(p.K1, 0) || !(p.B >= 0 && p.B <= 1) {
		return p, fmt.Errorf("similarity: BM25 parameters K1 = %v, B = %v: want finite K1 ≥ 0 and B in [0, 1]", p.K1, p.B)
	}
	return p, nil
}

// bm25Factor returns (K1+1)·tf / (tf + K1·(1 − B + B·length/avgLength)).
func (p BM25Params) factor(tf, length, avgLength float64) float64 {
	norm := 1 - p.B
	if avgLength > 0 {
		norm += p.B * length / avgLength
	}
	return (p.K1 + 1) * tf / (tf + p.K1*norm)
}

// bm25IDF returns ln(1 + (n − df + 0.5)/(df + 0.5)), the non-negative
// BM25 inverse document frequency.
func bm25IDF(n, df float64) float64 { return math.Log1p((n - df + 0.5) / (df + 0.5)) }

// ItemMatrix is a sparse product × transaction matrix in compressed rows:
// row p holds the transactions (orders or customers) that interacted with
// product p and how often. It is the input of the TF-IDF and BM25
// weightings and of [Embed]. It is immutable and safe for concurrent use;
// slices it returns are owned by it.
//
// In the weightings, products play the part of documents and
// transactions the part of terms (as in the "implicit" library's item-item
// models): a transaction that touches many products says little about any
// two of them, so it gets a low inverse document frequency.
type ItemMatrix struct {
	rows, cols int
	off        []uint32 // len rows+1
	col        []uint32
	val        []float64
}

// NewItemMatrix builds the product × transaction matrix of h with the
// transactions of [Count] (same as-of time, options and sampling): for Basket a column
// per order id ([affinity.OrderID], up to [affinity.History.NumOrderIDs]; an id
// that names no order has an empty column), for Customer a column per customer
// (CustomerID).
// An entry is the number of interactions of the transaction with the
// product: its bought lines (plus its events, with Events). Sequential has
// no transactions of this kind and is an error.
func NewItemMatrix(ctx context.Context, h *affinity.History, asOf time.Time, opts CountOptions) (*ItemMatrix, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("similarity", "History")
	}
	if opts.Scope == Sequential {
		return nil, errors.New("similarity: no item matrix for the sequential scope")
	}
	cfg, err := opts.config(asOf)
	if err != nil {
		return nil, err
	}
	t, err := buildTx(ctx, h, cfg, true)
	if err != nil {
		return nil, err
	}
	np := h.Catalog().NumProducts()
	m := &ItemMatrix{rows: np, cols: h.NumOrderIDs(), off: make([]uint32, np+1)}
	if cfg.scope == Customer {
		m.cols = h.NumCustomers()
	}
	for _, p := range t.items {
		m.off[p+1]++
	}
	for i := 1; i <= np; i++ {
		m.off[i] += m.off[i-1]
	}
	m.col = make([]uint32, len(t.items))
	m.val = make([]float64, len(t.items))
	next := slices.Clone(m.off[:np])
	for x := range uint32(t.len()) {
		for j := t.off[x]; j < t.off[x+1]; j++ {
			p := t.items[j]
			m.col[next[p]] = t.id[x]
			m.val[next[p]] = float64(t.tf[j])
			next[p]++
		}
	}
	return m, nil
}

// Dims returns the number of rows (products) and columns (orders or
// customers).
func (m *ItemMatrix) Dims() (rows, cols int) { return m.rows, m.cols }

// NNZ returns the number of stored entries: the (product, column) cells
// with an interaction, whose entries [NewItemMatrix] makes positive. A
// weighting keeps them all, even those it sets to 0 ([ItemMatrix.TFIDF]
// of a column with every product), so NNZ is an upper bound on the
// non-zero entries.
func (m *ItemMatrix) NNZ() int { return len(m.col) }

// Row returns the columns of row p, ascending, and their values; empty
// for an unknown p.
func (m *ItemMatrix) Row(p affinity.ProductID) (cols []uint32, vals []float64) {
	if int(p) >= m.rows {
		return nil, nil
	}
	lo, hi := m.off[p], m.off[p+1]
	return m.col[lo:hi:hi], m.val[lo:hi:hi]
}

// At returns entry (p, t), 0 when absent or out of range. O(log row
// length).
func (m *ItemMatrix) At(p affinity.ProductID, t int) float64 {
	if t < 0 || t >= m.cols {
		return 0 // and not a column of the 32 bits of t
	}
	cols, vals := m.Row(p)
	if i, ok := slices.BinarySearch(cols, uint32(t)); ok {
		return vals[i]
	}
	return 0
}

// withValues returns a matrix with m's pattern and values f(row, k) for
// the k-th stored entry.
func (m *ItemMatrix) withValues(f func(row int, k uint32) float64) *ItemMatrix {
	out := &ItemMatrix{rows: m.rows, cols: m.cols, off: m.off, col: m.col, val: make([]float64, len(m.val))}
	for r := range m.rows {
		for k := m.off[r]; k < m.off[r+1]; k++ {
			out.val[k] = f(r, k)
		}
	}
	return out
}

// Binary returns m with every stored entry set to 1.
func (m *ItemMatrix) Binary() *ItemMatrix {
	return m.withValues(func(int, uint32) float64 { return 1 })
}

// stats returns the number of non-empty rows, each column's number of
// entries (its document frequency), each row's sum and their mean over
// the non-empty rows.
func (m *ItemMatrix) stats() (n float64, df []float64, length []float64, avg float64) {
	df = make([]float64, m.cols)
	length = make([]float64, m.rows)
	for r := range m.rows {
		for k := m.off[r]; k < m.off[r+1]; k++ {
			df[m.col[k]]++
			length[r] += m.val[k]
		}
		if m.off[r+1] > m.off[r] {
			n++
			avg += length[r]
		}
	}
	if n > 0 {
		avg /= n
	}
	return n, df, length, avg
}

// TFIDF returns m weighted by TF-IDF: entry (p, t) becomes
//
//	tf(p,t) · ln(P / df(t))
//
// where tf is the entry, P the number of non-empty rows (products with an
// interaction) and df(t) the number of products in column t. A column
// with every product gets weight 0.
func (m *ItemMatrix) TFIDF() *ItemMatrix {
	n, df, _, _ := m.stats()
	return m.withValues(func(_ int, k uint32) float64 {
		return m.val[k] * math.Log(n/df[m.col[k]])
	})
}

// BM25 returns m weighted by Okapi BM25 with parameters p (zero value:
// [DefaultBM25]): entry (p, t) becomes
//
//	idf(t) · tf·(K1+1) / (tf + K1·(1 − B + B·len(p)/avglen))
//	idf(t) = ln(1 + (P − df(t) + 0.5) / (df(t) + 0.5))
//
// where tf is the entry, len(p) the sum of row p, avglen its mean over the
// P non-empty rows and df(t) the number of products in column t. It
// returns an error for parameters out of range.
func (m *ItemMatrix) BM25(p BM25Params) (*ItemMatrix, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	n, df, length, avg := m.stats()
	return m.withValues(func(r int, k uint32) float64 {
		return bm25IDF(n, df[m.col[k]]) * p.factor(m.val[k], length[r], avg)
	}), nil
}

// bm25Weights holds what the BM25 measure needs beyond the counts: each
// transaction's squared idf and each product's length factor, for binary
// term frequencies.
type bm25Weights struct {
	c    *Counts
	tx   *txTable // c's transactions, fetched once
	post *postings
	wt   []float64
	f    []float64
}

func newBM25Weights(c *Counts, p BM25Params) *bm25Weights {
	var n, avg float64
	for _, s := range c.support {
		if s > 0 {
			n++
			avg += float64(s)
		}
	}
	if n > 0 {
		avg /= n
	}
	tx := c.transactions()
	w := &bm25Weights{c: c, tx: tx, post: c.postings(), wt: make([]float64, tx.len()), f: make([]float64, c.np)}
	for a, s := range c.support {
		w.f[a] = p.factor(1, float64(s), avg)
	}
	seen := make([]uint32, c.np)
	for x := range uint32(tx.len()) {
		df := 0
		for _, a := range tx.tx(x) {
			if seen[a] != x+1 {
				seen[a] = x + 1
				df++
			}
		}
		idf := bm25IDF(n, float64(df))
		w.wt[x] = idf * idf
	}
	return w
}

// row appends the BM25 neighbours of a with a co-count of at least
// minSup to out, best first.
func (w *bm25Weights) row(s *scratch, a affinity.ProductID, minSup uint32, shrinkage float64, top *topK, out *rowSink) {
	c := w.c
	s.count(w.tx, w.post, a, c.window, w.wt)
	fa := w.f[a]
	for _, b := range s.touched {
		if ab := s.cnt[b]; b != a && ab >= minSup {
			top.push(f32(Shrink(fa*w.f[b]*s.w[b], int(ab), shrinkage)), uint32(b))
		}
	}
	for _, key := range top.sorted() {
		v, b := unpackKey(key)
		out.nb = append(out.nb, Neighbor{Product: affinity.ProductID(b), Score: v, Count: s.cnt[b]})
	}
	for _, b := range s.touched {
		s.cnt[b], s.w[b] = 0, 0
	}
	s.touched = s.touched[:0]
}
