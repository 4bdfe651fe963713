package affinity

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// noMergeIndex switches the incremental buyer index of a Builder started
// from a base History off; tests do, to compare with a full build.
var noMergeIndex atomic.Bool

// mergeState is what a Builder started from a base History remembers so
// that Build costs time in proportion to the change where it can: the
// base's orders of customers that nothing touched are already sorted,
// and their buyer lists are already built.
type mergeState struct {
	base    *History
	groups  int      // the first groups of the Builder are the base's orders (those not dropped)
	lost    int      // base groups dropped by applyChanges
	dropped []uint32 // customers (anonBucket: anonymous) whose base orders applyChanges dropped
	touched []bool   // per customer bucket (anonymous last): has new or dropped orders
	list    []uint32 // the touched customers, ascending

	// Set by buildOver for index: the latest order's Unix time, which
	// writing the orders found (when there are orders), and whether
	// writing the events set the History's latest event time.
	lastUnix    int64
	haveLast    bool
	evLatestSet bool
}

// drop records that applyChanges dropped group g of customer c. Nil-safe.
func (m *mergeState) drop(c uint32, g int) {
	if m == nil {
		return
	}
	m.dropped = append(m.dropped, c)
	if g < m.groups {
		m.lost++
	}
}

// compact records the end of applyChanges' drops. Nil-safe.
func (m *mergeState) compact() {
	if m == nil {
		return
	}
	m.groups -= m.lost
	m.lost = 0
}

// mark finds the touched customer buckets: those with a group after the
// base's or a dropped order. Customers new since the base count as
// touched. Nil-safe; O(new groups + dropped orders + customers).
func (m *mergeState) mark(gCust []uint32, nc int) {
	if m == nil {
		return
	}
	m.touched = make([]bool, nc+1)
	bucket := func(c uint32) int {
		if c == anonBucket {
			return nc
		}
		return int(c)
	}
	for _, c := range gCust[m.groups:] {
		m.touched[bucket(c)] = true
	}
	for _, c := range m.dropped {
		m.touched[bucket(c)] = true
	}
	for c := m.base.NumCustomers(); c < nc; c++ {
		m.touched[c] = true
	}
	for c, t := range m.touched[:nc] {
		if t {
			m.list = append(m.list, uint32(c))
		}
	}
}

// sorted reports whether bucket k holds only base orders, already in
// order and merged. Nil-safe.
func (m *mergeState) sorted(k int) bool {
	return m != nil && !m.touched[k]
}

// eachTouched calls f with the orders [lo, hi) of every touched
// customer in x: in the base with sign −1 (customers new since the base
// have none there), then in h with sign +1. A sum over the base's orders
// corrected by f's terms is the sum over h's.
func (m *mergeState) eachTouched(h *History, f func(x *History, lo, hi OrderID, sign int)) {
	baseNC := CustomerID(m.base.NumCustomers())
	for _, c := range m.list {
		if c := CustomerID(c); c < baseNC {
			lo, hi := m.base.CustomerOrders(c)
			f(m.base, lo, hi, -1)
		}
		lo, hi := h.CustomerOrders(CustomerID(c))
		f(h, lo, hi, +1)
	}
}

// customerRevenue returns the revenue of h's customers' orders: the
// base's, less the touched customers' orders in the base, plus theirs in
// h. Money sums are exact, so it is the sum over every order.
func (m *mergeState) customerRevenue(h *History) Money {
	rev := m.base.summary.CustomerRevenue
	m.eachTouched(h, func(x *History, lo, hi OrderID, sign int) {
		for o := lo; o < hi; o++ {
			if sign < 0 {
				rev -= x.OrderValue(o)
			} else {
				rev += x.OrderValue(o)
			}
		}
	})
	return rev
}

// allBuyers returns the bitmap of h's customers with a bought order: the
// base's, with the touched customers' membership set anew from h's first
// purchases (reindex or buyerIndex has computed them). Untouched
// customers keep their orders, so their membership is the base's.
func (m *mergeState) allBuyers(h *History) *roaring.Bitmap {
	b := m.base.allBuyers.Clone()
	for _, c := range m.list {
		if h.firstOrder[c] != noOrder {
			b.Add(c)
		} else {
			b.Remove(c)
		}
	}
	b.RunOptimize()
	return b
}

// returns counts h's lines with a negative quantity: the base's count,
// less the touched customers' lines in the base, plus theirs in h, and
// the same for the anonymous orders when they changed.
func (m *mergeState) returns(h *History) int {
	n := m.base.summary.Returns
	lines := func(x *History, lo, hi OrderID, sign int) {
		n += sign * countReturns(x.lineQty[x.orderOff[lo]:x.orderOff[hi]])
	}
	m.eachTouched(h, lines)
	if m.touched[len(m.touched)-1] { // the anonymous orders
		lo, hi := m.base.AnonymousOrders()
		lines(m.base, lo, hi, -1)
		lo, hi = h.AnonymousOrders()
		lines(h, lo, hi, +1)
	}
	return n
}

// countReturns counts the negative quantities of qty.
func countReturns(qty []int32) int {
	n := 0
	for _, q := range qty {
		if q < 0 {
			n++
		}
	}
	return n
}

// buyerChange adds customer c to (or removes it from) the buyers of
// product or category x.
type buyerChange struct {
	x, c uint32
	add  bool
}

// reindex builds h's first and last purchase orders and its buyer
// bitmaps from the base's, recomputing only what the touched customers
// change: time linear in the customers plus the touched customers' lines
// plus the size of the changed bitmaps. It reports false, having done
// nothing, when the catalog moved a base product to other categories
// (then every buyer of it moves: the full index is cheaper). Nil-safe.
func (m *mergeState) reindex(ctx context.Context, h *History) (bool, error) {
	if m == nil || noMergeIndex.Load() {
		return false, nil
	}
	base := m.base
	bc, nc := base.catalog, h.catalog
	for p := range bc.NumProducts() {
		if !slices.EqualFunc(bc.Shares(ProductID(p)), nc.Shares(ProductID(p)), func(x, y CategoryShare) bool { return x.Category == y.Category }) {
			return false, nil
		}
	}
	// Untouched customers keep their orders, shifted.
	baseNC := base.NumCustomers()
	for c := range h.NumCustomers() {
		if c >= baseNC || m.touched[c] {
			continue
		}
		shift := h.custLo[c] - base.custLo[c] // wraps for a shift down; the sum is right
		h.firstOrder[c], h.lastOrder[c] = base.firstOrder[c], base.lastOrder[c]
		if h.firstOrder[c] != noOrder {
			h.firstOrder[c] += shift
			h.lastOrder[c] += shift
		}
	}
	np, ncat := nc.NumProducts(), nc.NumCategories()
	oldP, newP := make([]uint32, np), make([]uint32, np)
	oldK, newK := make([]uint32, ncat), make([]uint32, ncat)
	var prod, cat []buyerChange
	for i, c := range m.list {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		// Mark what c bought before and after, then list the
		// differences, each once: marks are unique per customer and a
		// listed entry is cleared.
		mark := uint32(i) + 1
		var was func(fn func(p ProductID))
		if int(c) < baseNC {
			was = func(fn func(p ProductID)) { eachBought(base, c, fn) }
		} else {
			was = func(func(p ProductID)) {}
		}
		is := func(fn func(p ProductID)) { eachBought(h, c, fn) }
		was(func(p ProductID) {
			oldP[p] = mark
			for _, x := range bc.Shares(p) {
				oldK[x.Category] = mark
			}
		})
		is(func(p ProductID) {
			newP[p] = mark
			for _, x := range nc.Shares(p) {
				newK[x.Category] = mark
			}
		})
		was(func(p ProductID) {
			if oldP[p] == mark && newP[p] != mark {
				prod = append(prod, buyerChange{uint32(p), c, false})
				oldP[p] = 0
			}
			for _, x := range bc.Shares(p) {
				if k := x.Category; oldK[k] == mark && newK[k] != mark {
					cat = append(cat, buyerChange{uint32(k), c, false})
					oldK[k] = 0
				}
			}
		})
		is(func(p ProductID) {
			if newP[p] == mark && oldP[p] != mark {
				prod = append(prod, buyerChange{uint32(p), c, true})
				newP[p] = 0
			}
			for _, x := range nc.Shares(p) {
				if k := x.Category; newK[k] == mark && oldK[k] != mark {
					cat = append(cat, buyerChange{uint32(k), c, true})
					newK[k] = 0
				}
			}
		})
		h.firstOrder[c], h.lastOrder[c] = noOrder, noOrder
		for o := h.custLo[c]; o < h.custHi[c]; o++ {
			for j := h.orderOff[o]; j < h.orderOff[o+1]; j++ {
				if h.lineQty[j] > 0 {
					if h.firstOrder[c] == noOrder {
						h.firstOrder[c] = o
					}
					h.lastOrder[c] = o
					break
				}
			}
		}
	}
	h.buyers = patchBitmaps(base.buyers, np, prod)
	// category bitmaps are built on first use (catbuyers.go); the counts
	// follow the changes
	h.catCount = make([]uint32, ncat)
	copy(h.catCount, base.catCount)
	for _, x := range cat {
		if x.add {
			h.catCount[x.x]++
		} else {
			h.catCount[x.x]--
		}
	}
	return true, nil
}

// eachBought calls fn for the product of every line of positive quantity
// of customer c in h.
func eachBought(h *History, c uint32, fn func(p ProductID)) {
	for i := h.orderOff[h.custLo[c]]; i < h.orderOff[h.custHi[c]]; i++ {
		if h.lineQty[i] > 0 {
			fn(h.lineProduct[i])
		}
	}
}

// patchBitmaps returns n bitmaps: those of base (shared, not copied)
// where changes name none, and copies with the changes applied where
// they do (nil when that leaves a bitmap empty).
func patchBitmaps(base []*roaring.Bitmap, n int, changes []buyerChange) []*roaring.Bitmap {
	out := make([]*roaring.Bitmap, n)
	copy(out, base)
	slices.SortStableFunc(changes, func(a, b buyerChange) int { return cmp.Compare(a.x, b.x) })
	for i := 0; i < len(changes); {
		x := changes[i].x
		bm := roaring.New()
		if out[x] != nil {
			bm = out[x].Clone()
		}
		for ; i < len(changes) && changes[i].x == x; i++ {
			if changes[i].add {
				bm.Add(changes[i].c)
			} else {
				bm.Remove(changes[i].c)
			}
		}
		if bm.IsEmpty() {
			bm = nil
		} else {
			bm.RunOptimize()
		}
		out[x] = bm
	}
	return out
}

// lastOrder returns the latest order's Unix time that buildOver found,
// and whether it found it. Nil-safe.
func (m *mergeState) lastOrder() (unix int64, ok bool) {
	if m == nil {
		return 0, false
	}
	return m.lastUnix, m.haveLast
}
