package similarity

import (
	"context"

	"github.com/shopaffinity/affinity"
)

// Reindex returns the index that NewIndex(ctx, c, opts) returns, computed
// from prev, the result of NewIndex (or Reindex) of prevCounts with the
// same options, in time proportional to the change where it can: c must
// be a [Recount] of prevCounts for that.
//
// Only the rows that the recount changed are selected again in full. A
// product whose support changed changes the score of every pair it is in,
// so every other row that holds such a product keeps the neighbours of its
// previous list that are not among them, with their scores, and selects
// from those and the changed products' new scores; when that cannot prove
// the row's new top K (a changed product fell below the previous K-th
// neighbour and the row has more candidates than K), the row is selected
// again in full. The other rows are copied. The result is exactly
// NewIndex's, list for list.
//
// It is NewIndex, at NewIndex's cost, when that does not hold: without
// prev or prevCounts, when c is not a Recount of prevCounts, prev was not
// built from prevCounts or with other options, for directed (Sequential)
// counts, for BM25, and for the measures that depend on the number of
// transactions (Lift, NPMI, PMI, Leverage, Conviction, Support) when that
// number changed. prev and the counts are not modified.
func Reindex(ctx context.Context, prev *Index, prevCounts, c *Counts, opts IndexOptions) (*Index, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	x, _, err := reindex(ctx, prev, prevCounts, c, opts) // nil c: NewIndex's error
	return x, err
}

// reindexStats counts how Reindex made each row, for tests.
type reindexStats struct {
	full     bool // NewIndex made the whole index
	selected int  // rows selected again in full (changed rows and fallbacks)
	merged   int  // rows selected from their previous list and the changed partners
	fallback int  // of the selected: merges that could not prove the top K
}

func reindex(ctx context.Context, prev *Index, prevCounts, c *Counts, opts IndexOptions) (*Index, reindexStats, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, reindexStats{}, err
	}
	if !prev.renewable(prevCounts, c, o) {
		x, err := NewIndex(ctx, c, opts)
		return x, reindexStats{full: true}, err
	}
	np, pnp := c.np, prevCounts.np
	full := func(a int) bool { return c.changed[a>>6]&(1<<(a&63)) != 0 }
	// the products whose support changed: their pairs score anew
	moved := make([]uint64, (np+63)/64)
	for b := range pnp {
		if c.support[b] != prevCounts.support[b] {
			moved[b>>6] |= 1 << (b & 63)
		}
	}
	isMoved := func(b affinity.ProductID) bool { return moved[b>>6]&(1<<(b&63)) != 0 }
	// the pairs of the unchanged rows with a moved product, by row: the
	// moved products' rows transposed (the counts are symmetric, and an
	// unchanged row's co-counts are the previous ones)
	minSup := uint32(o.MinSupport)
	upOff := make([]uint32, np+1)
	for b := range pnp {
		if b%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, reindexStats{}, err
			}
		}
		if !isMoved(affinity.ProductID(b)) {
			continue
		}
		cols, vals := c.Row(affinity.ProductID(b))
		for i, a := range cols {
			if vals[i] >= minSup && !full(int(a)) {
				upOff[a+1]++
			}
		}
	}
	for a := range np {
		upOff[a+1] += upOff[a]
	}
	type pair struct {
		b  affinity.ProductID
		ab uint32
	}
	ups := make([]pair, upOff[np])
	at := append([]uint32(nil), upOff[:np]...)
	for b := range pnp {
		if !isMoved(affinity.ProductID(b)) {
			continue
		}
		cols, vals := c.Row(affinity.ProductID(b))
		for i, a := range cols {
			if vals[i] >= minSup && !full(int(a)) {
				ups[at[a]] = pair{affinity.ProductID(b), vals[i]}
				at[a]++
			}
		}
	}
	at = nil

	n := float64(c.n)
	type state struct {
		top topK
		buf []float32
		cnt []uint32 // co-count of the candidates of a merged row, by product
		col [1]affinity.ProductID
		val [1]uint32
		st  reindexStats
	}
	states := make([]*state, o.Workers)
	x := c.newIndex(o)
	x.off, x.nb, err = collectRows(ctx, np, blockRows, o.Workers, func(w, lo, hi int, out *rowSink) error {
		st := states[w]
		if st == nil {
			st = &state{cnt: make([]uint32, np)}
			states[w] = st
		}
		selectFull := func(a int) {
			st.buf = c.topRow(affinity.ProductID(a), o, &st.top, st.buf, out)
			st.st.selected++
		}
		for a := lo; a < hi; a++ {
			up := ups[upOff[a]:upOff[a+1]]
			switch {
			case full(a):
				selectFull(a)
			case len(up) == 0:
				out.nb = append(out.nb, prev.Neighbors(affinity.ProductID(a))...)
			default:
				old := prev.Neighbors(affinity.ProductID(a))
				top := &st.top
				top.reset(o.K)
				for _, nb := range old {
					if !isMoved(nb.Product) {
						top.pushKey(packKey(nb.Score, uint32(nb.Product)))
						st.cnt[nb.Product] = nb.Count
					}
				}
				sa := float64(c.support[a])
				for _, u := range up {
					st.col[0], st.val[0] = u.b, u.ab
					st.buf = scoreRow(st.buf[:0], o.Measure, n, sa, st.col[:], st.val[:], c.support, o.Shrinkage)
					if v := st.buf[0]; v == v {
						top.push(v, uint32(u.b))
						st.cnt[u.b] = u.ab
					}
				}
				keys := top.sorted()
				// every candidate of the row missing from both lists ranks
				// below the previous K-th neighbour: the new K-th must not
				if k := len(old); k == o.K && (len(keys) < k || keys[k-1] > packKey(old[k-1].Score, uint32(old[k-1].Product))) {
					st.st.fallback++
					selectFull(a)
					break
				}
				for _, key := range keys {
					v, b := unpackKey(key)
					out.nb = append(out.nb, Neighbor{Product: affinity.ProductID(b), Score: v, Count: st.cnt[b]})
				}
				st.st.merged++
			}
			out.endRow()
		}
		return nil
	})
	if err != nil {
		return nil, reindexStats{}, err
	}
	var stats reindexStats
	for _, st := range states {
		if st != nil {
			stats.selected += st.st.selected
			stats.merged += st.st.merged
			stats.fallback += st.st.fallback
		}
	}
	return x, stats, nil
}

// renewable reports whether Reindex can renew x, built from prev, for c
// under o (with defaults).
func (x *Index) renewable(prev, c *Counts, o IndexOptions) bool {
	if x == nil || prev == nil || c == nil || c.changed == nil || c.from != prev.ident() || prev.np > c.np {
		return false
	}
	if !fromCounts(o.Measure) || c.scope == Sequential || c.scope != prev.scope {
		return false
	}
	if x.measure != o.Measure || x.k != o.K || x.minSupport != o.MinSupport || x.shrinkage != o.Shrinkage {
		return false
	}
	// x was built from prev: it shares prev's marginals
	if x.n != prev.n || x.scope != prev.scope || len(x.off)-1 != prev.np || len(x.support) != len(prev.support) ||
		len(x.support) == 0 || &x.support[0] != &prev.support[0] {
		return false
	}
	switch o.Measure {
	case Jaccard, Cosine, Confidence, Dice, Overlap:
		return true // functions of A, B and AB alone
	}
	return c.n == prev.n
}
