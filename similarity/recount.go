package similarity

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
)

// Recount returns the counts that [Count](ctx, h, asOf, opts) returns,
// computed from prev — the result of Count (or Recount) of an earlier
// History prevH of the same shop, in which h's customers and products keep
// their dense ids (as [affinity.NewBuilder] guarantees) — in time
// proportional to the change where it can.
//
// For the Basket scope it collects h's transactions (linear in the lines
// of h), matches them with prev's by customer, order id and time, and
// adds the co-counts of the new or changed orders and subtracts those of
// the removed or changed ones: only the rows of their products are
// rebuilt, the other rows are shared with prev. Counts are sums, so the
// result is exactly Count's whatever prev's as-of time and options were
// (a transaction counted differently before is simply changed). For the
// other scopes, or without prev, it is Count. prev and prevH are not
// modified; the result shares memory with prev, which stays valid.
func Recount(ctx context.Context, prev *Counts, prevH, h *affinity.History, asOf time.Time, opts CountOptions) (*Counts, error) {
	cfg, tx, err := transactions(ctx, h, asOf, opts)
	if err != nil {
		return nil, err
	}
	if prev == nil || prevH == nil || cfg.scope != Basket || prev.scope != Basket || prev.tx == nil || prev.tx.len() != prev.n {
		return countTx(ctx, tx, h.Catalog().NumProducts(), cfg)
	}
	if prev.np > h.Catalog().NumProducts() {
		return nil, errors.New("similarity: Recount of counts with more products than the History")
	}
	np := h.Catalog().NumProducts()
	plus, minus := diffTx(prevH, prev.tx, h, tx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Counts{scope: Basket, window: cfg.window, np: np, n: tx.len(), tx: tx, post: buildPostings(tx, np)}
	c.support = make([]uint32, np)
	for a := range np {
		c.support[a] = c.post.off[a+1] - c.post.off[a]
	}
	addPost, subPost := buildPostings(plus, np), buildPostings(minus, np)
	touchedBlock := make([]bool, (np+blockRows-1)/blockRows)
	for a := range np {
		if addPost.off[a+1] > addPost.off[a] || subPost.off[a+1] > subPost.off[a] {
			touchedBlock[a>>blockShift] = true
		}
	}
	c.blocks = make([]rowBlock, len(touchedBlock))
	s := newScratch(np, false)
	delta := make([]int64, np)
	for bi := range c.blocks {
		if bi%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !touchedBlock[bi] && bi < len(prev.blocks) {
			c.blocks[bi] = prev.blocks[bi] // shared: blocks are never modified
			c.pairs += len(prev.blocks[bi].cols)
			continue
		}
		lo, hi := bi*blockRows, min((bi+1)*blockRows, np)
		for a := lo; a < hi; a++ {
			rowDelta(s, delta, plus, addPost, affinity.ProductID(a), 1)
			rowDelta(s, delta, minus, subPost, affinity.ProductID(a), -1)
			slices.Sort(s.touched)
			cols, vals := prev.Row(affinity.ProductID(a))
			s.reserve(len(cols) + len(s.touched))
			s.mergeRow(affinity.ProductID(a), cols, vals, delta)
			c.blocks[bi].off[a-lo+1] = s.used()
		}
		s.flush(&c.blocks[bi], hi-lo)
		c.pairs += len(c.blocks[bi].cols)
	}
	return c, nil
}

// transactions validates opts and collects the transactions of h that
// Count counts.
func transactions(ctx context.Context, h *affinity.History, asOf time.Time, opts CountOptions) (*config, *txTable, error) {
	cfg, err := opts.config(asOf)
	if err != nil {
		return nil, nil, err
	}
	tx, err := buildTx(ctx, h, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return cfg, tx, nil
}

// rowDelta adds sign × the co-counts of a in the transactions t (with
// postings p) to delta, listing the products it changes in s.touched.
func rowDelta(s *scratch, delta []int64, t *txTable, p *postings, a affinity.ProductID, sign int64) {
	for _, x := range p.of(a) {
		for _, b := range t.tx(x) {
			if delta[b] == 0 && s.cnt[b] == 0 {
				s.touched = append(s.touched, b)
				s.cnt[b] = 1 // listed
			}
			delta[b] += sign
		}
	}
}

// mergeRow appends row a — the previous row (cols, vals) plus delta at
// the touched products, ascending, without a and without zeros — to the
// output, and clears delta and the touched list.
func (s *scratch) mergeRow(a affinity.ProductID, cols []affinity.ProductID, vals []uint32, delta []int64) {
	i := 0
	put := func(b affinity.ProductID, v int64) {
		if v != 0 && b != a {
			s.cols = append(s.cols, b)
			s.vals = append(s.vals, uint32(v))
		}
	}
	for _, b := range s.touched {
		for ; i < len(cols) && cols[i] < b; i++ {
			put(cols[i], int64(vals[i]))
		}
		v := delta[b]
		if i < len(cols) && cols[i] == b {
			v += int64(vals[i])
			i++
		}
		put(b, v)
		delta[b], s.cnt[b] = 0, 0
	}
	for ; i < len(cols); i++ {
		put(cols[i], int64(vals[i]))
	}
	s.touched = s.touched[:0]
}

// diffTx matches the basket transactions of two Histories of one shop —
// old of oldH, cur of h, both in order id order, that is by customer
// (anonymous last), time and shop order id — and returns the transactions
// of cur that old does not hold with the same products (plus) and those
// of old that cur does not (minus). Linear in the transactions (and the
// products of those with equal keys).
func diffTx(oldH *affinity.History, old *txTable, h *affinity.History, cur *txTable) (plus, minus *txTable) {
	plus, minus = &txTable{off: []uint32{0}}, &txTable{off: []uint32{0}}
	take := func(dst, src *txTable, x int) {
		dst.items = append(dst.items, src.tx(uint32(x))...)
		dst.off = append(dst.off, uint32(len(dst.items)))
		dst.id = append(dst.id, src.id[x])
	}
	// Customers of both tables' orders, walked along.
	custOf := func(h *affinity.History) func(o affinity.OrderID) affinity.CustomerID {
		c := affinity.CustomerID(0)
		nc := affinity.CustomerID(h.NumCustomers())
		return func(o affinity.OrderID) affinity.CustomerID {
			for c < nc {
				if _, hi := h.CustomerOrders(c); o < hi {
					return c
				}
				c++
			}
			return affinity.NoCustomer
		}
	}
	oldCust, curCust := custOf(oldH), custOf(h)
	i, j := 0, 0
	var oc, cc affinity.CustomerID
	oi, cj := -1, -1
	for i < old.len() || j < cur.len() {
		if i < old.len() && oi != i {
			oc, oi = oldCust(affinity.OrderID(old.id[i])), i
		}
		if j < cur.len() && cj != j {
			cc, cj = curCust(affinity.OrderID(cur.id[j])), j
		}
		var d int
		switch {
		case i == old.len():
			d = 1
		case j == cur.len():
			d = -1
		default:
			o, n := affinity.OrderID(old.id[i]), affinity.OrderID(cur.id[j])
			d = cmp.Or(cmp.Compare(oc, cc), cmp.Compare(oldH.OrderUnix(o), h.OrderUnix(n)), strings.Compare(oldH.OrderKey(o), h.OrderKey(n)))
		}
		switch {
		case d < 0:
			take(minus, old, i)
			i++
		case d > 0:
			take(plus, cur, j)
			j++
		default:
			if !slices.Equal(old.tx(uint32(i)), cur.tx(uint32(j))) {
				take(minus, old, i)
				take(plus, cur, j)
			}
			i++
			j++
		}
	}
	return plus, minus
}
