package similarity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
)

// Recount returns the counts that [Count](ctx, h, asOf, opts) returns,
// computed from prev — the result of Count (or Recount) of an earlier
// History prevH of the same shop, in which h's customers and products keep
// their dense ids (as [affinity.NewBuilder] guarantees) — in time
// proportional to the change where it can.
//
// For the Basket scope it finds the new, changed and removed orders and
// adds the co-counts of the new or changed ones and subtracts those of
// the removed or changed ones: only the rows of their products are
// rebuilt, the other rows are shared with prev. When h was built on
// prevH ([affinity.History.ChangedSince]) and prev was counted with the
// same start, basket cap and exclusions, the changed customers are known:
// only their lines are read, in prevH and in h, and nothing is done for
// the other customers. The result then keeps no transactions but a
// reference to h: a weighted measure (BM25) or a later Recount that needs
// them collects them from h on first use. When they were asked of prev,
// Recount carries them over instead (a linear copy, with the changed
// customers' collected anew): a shop that weighs with BM25 needs them at
// every refresh. Otherwise it collects h's transactions (linear in the
// lines of h) and matches them with prev's by customer, order id and
// time. Counts are sums, so the
// result is exactly Count's whatever prev's as-of time and options were
// (a transaction counted differently before is simply changed). For the
// other scopes, or without prev, it is Count. prev and prevH are not
// modified; the result shares memory with prev, which stays valid.
func Recount(ctx context.Context, prev *Counts, prevH, h *affinity.History, asOf time.Time, opts CountOptions) (*Counts, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("similarity", "History")
	}
	cfg, err := opts.config(asOf)
	if err != nil {
		return nil, err
	}
	np := h.Catalog().NumProducts()
	var c *Counts
	var plus, minus *txTable
	if ch, ok := h.ChangedSince(prevH); ok && prev.sameBaskets(cfg, prevH) && prev.np <= np {
		// h was built on prevH: the unchanged customers' baskets are
		// prev's, only the changed customers' are collected
		if prev.txUsed.Load() {
			// prev's transactions were asked for (BM25): they will be
			// again, so they are carried over, copied with the changed
			// customers' collected anew
			tx, p, m, err := patchTx(ctx, prev, prevH, h, ch, cfg)
			if err != nil {
				return nil, err
			}
			plus, minus = p, m
			c = &Counts{scope: Basket, window: cfg.window, np: np, n: tx.len(), items: len(tx.items), tx: tx, cfg: cfg}
		} else {
			// from both Histories, and none of the others' is read
			if plus, minus, err = changedTx(ctx, prev, prevH, h, ch, cfg); err != nil {
				return nil, err
			}
			items := prev.items + len(plus.items) - len(minus.items)
			if items > math.MaxUint32 {
				return nil, fmt.Errorf("similarity: more than %d product occurrences", uint32(math.MaxUint32))
			}
			c = &Counts{scope: Basket, window: cfg.window, np: np, n: prev.n + plus.len() - minus.len(), items: items, h: h, cfg: cfg}
		}
	} else {
		tx, err := buildTx(ctx, h, cfg, false)
		if err != nil {
			return nil, err
		}
		if prev == nil || prevH == nil || cfg.scope != Basket || prev.scope != Basket || !prev.knowsTx() {
			return countTx(ctx, tx, np, cfg)
		}
		if prev.np > np {
			return nil, errors.New("similarity: Recount of counts with more products than the History")
		}
		plus, minus = diffTx(prevH, prev.transactions(), h, tx)
		c = &Counts{scope: Basket, window: cfg.window, np: np, n: tx.len(), items: len(tx.items), tx: tx, cfg: cfg}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	addPost, subPost := buildPostings(plus, np), buildPostings(minus, np)
	// a product's support is the transactions that list it: prev's, plus
	// the added ones, minus the removed ones
	c.support = make([]uint32, np)
	copy(c.support, prev.support)
	for a := range np {
		c.support[a] += (addPost.off[a+1] - addPost.off[a]) - (subPost.off[a+1] - subPost.off[a])
	}
	touchedBlock := make([]bool, (np+blockRows-1)/blockRows)
	for a := range np {
		if addPost.off[a+1] > addPost.off[a] || subPost.off[a+1] > subPost.off[a] {
			touchedBlock[a>>blockShift] = true
		}
	}
	// the rows that changed, or whose support did, or that are new
	c.from, c.changed = prev.ident(), make([]uint64, (np+63)/64)
	mark := func(a int) { c.changed[a>>6] |= 1 << (a & 63) }
	for a := range np {
		if a >= prev.np || c.support[a] != prev.support[a] {
			mark(a)
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
			if s.mergeRow(affinity.ProductID(a), cols, vals, delta) {
				mark(a)
			}
			c.blocks[bi].off[a-lo+1] = s.used()
		}
		s.flush(&c.blocks[bi], hi-lo)
		// Each rewritten block gets memory of its own, and the scratch
		// is used again: a later refresh that rewrites this block frees
		// it, however few blocks it rewrites (in a chunk shared with
		// other blocks it would stay while any of them is in use).
		blk := &c.blocks[bi]
		blk.cols, blk.vals = slices.Clone(blk.cols), slices.Clone(blk.vals)
		s.cols, s.vals, s.start = s.cols[:0], s.vals[:0], 0
		c.pairs += len(c.blocks[bi].cols)
	}
	return c, nil
}

// sameBaskets reports whether prev (of History prevH) holds the basket
// transactions that cfg collects from the orders of prevH: same scope,
// start, basket cap and excluded products, and both ends after prevH's
// last order. Then a customer whose orders did not change has the same
// transactions under both.
func (prev *Counts) sameBaskets(cfg *config, prevH *affinity.History) bool {
	if prev == nil || prev.cfg == nil || !prev.knowsTx() || cfg.scope != Basket || prev.scope != Basket {
		return false
	}
	p := prev.cfg
	if p.from != cfg.from || p.maxBasket != cfg.maxBasket {
		return false
	}
	if s := prevH.Summary(); s.Orders > 0 && (p.to < s.Last.Unix() || cfg.to < s.Last.Unix()) {
		return false
	}
	return sameExcluded(p.exclude, cfg.exclude, uint64(prev.np))
}

// sameExcluded reports whether a and b (nil: none) exclude the same
// products below np.
func sameExcluded(a, b *roaring.Bitmap, np uint64) bool {
	below := func(x *roaring.Bitmap) *roaring.Bitmap {
		if x == nil {
			return roaring.New()
		}
		y := x.Clone()
		y.RemoveRange(np, math.MaxUint32+1)
		return y
	}
	return below(a).Equals(below(b))
}

// changedTx returns the basket transactions of the customers ch lists
// (and of the anonymous orders, when they changed) in h (plus) and in
// prevH (minus), prev's History, collected under prev's configuration
// there: the same transactions as prev counted, since sameBaskets held.
// The other customers' transactions are the same in both and are not
// read: time is proportional to the changed customers' lines.
func changedTx(ctx context.Context, prev *Counts, prevH, h *affinity.History, ch affinity.Changes, cfg *config) (plus, minus *txTable, err error) {
	nb, ob := newTxBuilder(h, cfg, false), newTxBuilder(prevH, prev.cfg, false)
	collect := func(b *txBuilder, lo, hi affinity.OrderID) error {
		for o := lo; o < hi; o++ {
			if err := b.basket(o); err != nil {
				return err
			}
		}
		return nil
	}
	oldNC := affinity.CustomerID(prevH.NumCustomers())
	for i, c := range ch.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if c < oldNC {
			lo, hi := prevH.CustomerOrders(c)
			if err := collect(ob, lo, hi); err != nil {
				return nil, nil, err
			}
		}
		lo, hi := h.CustomerOrders(c)
		if err := collect(nb, lo, hi); err != nil {
			return nil, nil, err
		}
	}
	if ch.Anonymous {
		olo, ohi := prevH.AnonymousOrders()
		if err := collect(ob, olo, ohi); err != nil {
			return nil, nil, err
		}
		nlo, nhi := h.AnonymousOrders()
		if err := collect(nb, nlo, nhi); err != nil {
			return nil, nil, err
		}
	}
	return nb.t, ob.t, nil
}

// patchTx returns the basket transactions of h, built on prevH (ch says
// what changed), from prev's: runs of unchanged customers' transactions
// are copied with their order ids moved to h's, the changed customers'
// (and, when changed, the anonymous orders') are collected anew. plus and
// minus are the transactions collected anew and those they replace. Time
// is a copy of prev's transactions plus the changed customers' lines.
func patchTx(ctx context.Context, prev *Counts, prevH, h *affinity.History, ch affinity.Changes, cfg *config) (tx, plus, minus *txTable, err error) {
	old := prev.transactions()
	b := newTxBuilder(h, cfg, false)
	t := b.t
	t.off = slices.Grow(t.off, old.len()+len(ch.Customers)*4)
	t.items = slices.Grow(t.items, len(old.items)+len(ch.Customers)*16)
	t.id = slices.Grow(t.id, old.len()+len(ch.Customers)*4)
	plus, minus = &txTable{off: []uint32{0}}, &txTable{off: []uint32{0}}
	// old is in prevH's order: by customer, anonymous orders last
	// (NoCustomer); at returns its first transaction of customer c or a
	// later one.
	custOf := func(i int) affinity.CustomerID { return prevH.OrderCustomer(affinity.OrderID(old.id[i])) }
	at := func(c affinity.CustomerID) int {
		return sort.Search(old.len(), func(i int) bool { return custOf(i) >= c })
	}
	appendTx := func(dst, src *txTable, i, j int, shift uint32) {
		lo := src.off[i]
		base := uint32(len(dst.items))
		dst.items = append(dst.items, src.items[lo:src.off[j]]...)
		for x := i; x < j; x++ {
			dst.off = append(dst.off, src.off[x+1]-lo+base)
			dst.id = append(dst.id, src.id[x]+shift)
		}
	}
	// shift is what to add to prevH's order ids of customer c for h's
	// (wrapping for a move down; the sum is right); ok is false for a
	// customer without orders.
	shift := func(c affinity.CustomerID) (d uint32, ok bool) {
		olo, ohi := prevH.CustomerOrders(c)
		nlo, _ := h.CustomerOrders(c)
		return uint32(nlo) - uint32(olo), ohi > olo
	}
	// renew collects h's orders [nlo, nhi) anew, in place of old's
	// transactions [i, j).
	renew := func(i, j int, nlo, nhi affinity.OrderID) error {
		appendTx(minus, old, i, j, 0)
		first := t.len()
		for o := nlo; o < nhi; o++ {
			if err := b.basket(o); err != nil {
				return err
			}
		}
		appendTx(plus, t, first, t.len(), 0)
		return nil
	}
	oldNC := affinity.CustomerID(prevH.NumCustomers())
	next := affinity.CustomerID(0)           // first customer not written yet
	flush := func(end affinity.CustomerID) { // the unchanged customers [next, end)
		if end <= next {
			return
		}
		i, j := at(next), at(end)
		// one move for the run, as after an append (none) or when the
		// customers' orders lie in one block in both; else per customer
		var d uint32
		uniform, seen := true, false
		for c := next; c < end && uniform; c++ {
			if dc, ok := shift(c); ok {
				uniform = !seen || dc == d
				d, seen = dc, true
			}
		}
		if uniform {
			appendTx(t, old, i, j, d)
			return
		}
		for x := i; x < j; {
			c := custOf(x)
			y := x + 1
			for y < j && custOf(y) == c {
				y++
			}
			dc, _ := shift(c)
			appendTx(t, old, x, y, dc)
			x = y
		}
	}
	for n, c := range ch.Customers {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, nil, err
			}
		}
		flush(min(c, oldNC))
		i, j := 0, 0
		if c < oldNC {
			i, j = at(c), at(c+1)
		}
		nlo, nhi := h.CustomerOrders(c)
		if err := renew(i, j, nlo, nhi); err != nil {
			return nil, nil, nil, err
		}
		next = c + 1
	}
	flush(oldNC)
	i := at(affinity.NoCustomer)
	olo, _ := prevH.AnonymousOrders()
	nlo, nhi := h.AnonymousOrders()
	if ch.Anonymous {
		err = renew(i, old.len(), nlo, nhi)
	} else {
		appendTx(t, old, i, old.len(), uint32(nlo)-uint32(olo))
	}
	return t, plus, minus, err
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
// output, and clears delta and the touched list. It reports whether
// delta changed the row.
func (s *scratch) mergeRow(a affinity.ProductID, cols []affinity.ProductID, vals []uint32, delta []int64) (changed bool) {
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
		changed = changed || v != 0 && b != a
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
	return changed
}

// diffTx matches the basket transactions of two Histories of one shop —
// old of oldH, cur of h, both in the History's order (History.Orders),
// that is by customer (anonymous last), time and shop order id — and returns the transactions
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
	// customers of both tables' orders (anonymous: NoCustomer, last)
	oldCust, curCust := oldH.OrderCustomer, h.OrderCustomer
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
