package affinity

import (
	"math"
	"sync/atomic"
)

// How a History built on a base lays out its orders and events.
//
// A History built from scratch has its orders in its sort order:
// customers by id, each customer's orders in time order, the anonymous
// orders last, ids and lines without gaps; its events by customer, in
// time order. A refresh changes a few customers of many; writing that
// order anew would copy every column, a cost in proportion to the
// history, not to the change. So a Build on a base (buildOver) appends
// instead: the touched customers' orders, merged with what was staged,
// get new ids after the base's, their lines go after the base's lines,
// and their old ids become holes: ids whose customer's range no longer
// holds them (OrderCustomer and Orders skip them; no range of the
// History reaches them). The events of customers with new or erased
// events are appended the same way (overEvents).
//
// The new History shares the base's columns: it writes past their
// lengths, into their spare capacity, which no reader of the base looks
// at, and which only one History built on a base may claim (tail).
// Bytes written there are never written again, so the base and every
// History built on it read what they read. (A History that shares the
// base's event columns as they are, having no event changes, shares
// their room only when it holds that claim; else it gets them without
// room, so that no History built on it can append where another History
// built on the base does.) A second Build on the same
// base, or one without the room, writes every order (or event) anew in
// the sort order instead (overBuild.write, a compaction), with room to
// grow by an eighth; so does a Build after which the holes would hold
// more than a quarter of the lines (or events), or whose new orders lie
// outside the 32-bit span of times the base stores. A chain of
// refreshes thus copies the columns once in a while, a cost spread over
// the refreshes that filled the room, and in between writes in
// proportion to the touched customers' orders and events. What stays
// in proportion to the customers and products is a copy of per-customer
// and per-product arrays (ranges, first and last purchases, buyer
// bitmap pointers) and of each buyer bitmap a change touches.

// Layout modes for tests: layoutAuto compacts when the policy above says
// so, layoutCompact always, layoutAppend only when it cannot append.
const (
	layoutAuto int32 = iota
	layoutCompact
	layoutAppend
)

var layoutMode atomic.Int32

// grown returns a slice of length n with room for an eighth more than
// size (or n, when larger), and at least 1,024 more, so that small
// Histories append too; with layoutAppend, for twice as much.
func grown[T any](n, size int) []T {
	size = max(n, size)
	extra := size/8 + 1024
	if layoutMode.Load() == layoutAppend {
		extra = 2*size + 64
	}
	return make([]T, n, size+extra)
}

// room reports whether s has room for n more elements past its length.
func room[T any](s []T, n int) bool { return cap(s)-len(s) >= n }

// copyRanges returns copies of the per-customer ranges [lo[c], hi[c])
// for n customers, those past the ranges' length empty.
func copyRanges(lo, hi []uint32, n int) ([]uint32, []uint32) {
	l, h := make([]uint32, n), make([]uint32, n)
	copy(l, lo)
	copy(h, hi)
	return l, h
}

// setBucket makes the order ids [lo, hi) customer k's (the anonymous
// orders' for k == NumCustomers).
func (h *History) setBucket(k int, lo, hi uint32) {
	c := uint32(k)
	if k == len(h.custLo) {
		c = anonBucket
		h.anonLo, h.anonHi = lo, hi
	} else {
		h.custLo[k], h.custHi[k] = lo, hi
	}
	for o := lo; o < hi; o++ {
		h.orderCust[o] = c
	}
}

// appendTo writes h's orders as base's, with the touched buckets' orders
// appended (see above). It reports false, having changed nothing, when
// the layout policy calls for a compaction instead.
func (ob *overBuild) appendTo(h *History, base *History, b *Builder, claim func() bool) bool {
	mode := layoutMode.Load()
	if mode == layoutCompact {
		return false
	}
	nc := ob.nc
	first, last := base.firstUnix, base.summary.Last.Unix()
	var addO, addL, addK, goneO, goneL int
	newLo, newHi := int64(math.MaxInt64), int64(math.MinInt64)
	exactFirst, exactLast := true, true // no touched base order had the base's first or last time
	for _, k := range ob.keys {
		lo, hi := ob.baseRange(base, k)
		goneO += int(hi - lo)
		goneL += int(base.orderOff[hi] - base.orderOff[lo])
		for o := lo; o < hi; o++ {
			t := base.OrderUnix(OrderID(o))
			exactFirst = exactFirst && t != first
			exactLast = exactLast && t != last
		}
		s := ob.size(base, k)
		addO, addK, addL = addO+s.orders, addK+s.keys, addL+s.lines
		newLo, newHi = min(newLo, s.lo), max(newHi, s.hi)
	}
	holes := base.holeLines + goneL
	switch {
	case mode == layoutAuto && 4*holes > len(base.lineProduct)+addL:
		return false
	case addO > 0 && (newLo < base.baseUnix || newHi-base.baseUnix > math.MaxUint32):
		return false
	case len(base.orderKeys)+addK > math.MaxUint32, len(base.lineProduct)+addL > math.MaxUint32:
		return false
	case !room(base.orderCust, addO) || !room(base.orderDelta, addO) || !room(base.orderOff, addO) ||
		!room(base.orderKeyOff, addO) || !room(base.orderKeys, addK) || !room(base.lineProduct, addL) ||
		!room(base.lineQty, addL) || !room(base.linePrice, addL):
		return false
	case !claim():
		return false // another History is built on base's room
	}
	nb, lb := len(base.orderDelta), len(base.lineProduct)
	h.baseUnix = base.baseUnix
	h.orderCust = base.orderCust[:nb+addO]
	h.orderDelta = base.orderDelta[:nb+addO]
	h.orderOff = base.orderOff[:nb+1+addO]
	h.orderKeyOff = base.orderKeyOff[:nb+1+addO]
	h.orderKeys = base.orderKeys
	h.lineProduct = base.lineProduct[:lb+addL]
	h.lineQty = base.lineQty[:lb+addL]
	h.linePrice = base.linePrice[:lb+addL]
	h.custLo, h.custHi = copyRanges(base.custLo, base.custHi, nc)
	h.anonLo, h.anonHi = base.anonLo, base.anonHi
	h.versions, h.verLo = appendVersions(base, addO, ob.versioned)
	o, l := uint32(nb), uint32(lb)
	for _, k := range ob.keys {
		o, l = ob.writeBucket(h, base, b, k, o, l)
	}
	h.numOrders = base.numOrders - goneO + addO
	h.numLines = base.numLines - goneL + addL
	h.holeLines = holes
	switch {
	case h.numOrders == 0:
		first, last = 0, 0
	case !exactFirst || !exactLast || base.numOrders == goneO:
		first, last = h.span()
	default:
		first, last = min(first, newLo), max(last, newHi)
	}
	h.firstUnix = first
	b.merge.lastUnix, b.merge.haveLast = last, h.numOrders > 0
	return true
}

// appendVersions returns the version column of a History that appends
// add orders to base's (holding base's room, see above), and the id it
// starts at: nil while no version is other than 0; base's, extended in
// its room or else copied with room to grow, or, when base has none, one
// for the new orders alone, so that the first versioned refresh of a
// History does not write a version for each of its orders. The new
// orders' entries are zeroed: writeBucket sets those that are not 0.
func appendVersions(base *History, add int, versioned bool) ([]int64, uint32) {
	v := base.versions
	switch {
	case v == nil && !versioned:
		return nil, 0
	case v == nil:
		return grown[int64](add, 0), uint32(len(base.orderDelta))
	case room(v, add):
		v = v[:len(v)+add]
	default:
		v = append(make([]int64, 0, (len(v)+add)*5/4+1024), v...)[:len(v)+add]
	}
	clear(v[len(base.versions):])
	return v, base.verLo
}

// writeBucket writes the merged orders of touched bucket k from order id
// o and line l on (their base lines, then the staged ones) and makes them
// the bucket's; it returns the next order id and line.
func (ob *overBuild) writeBucket(h, base *History, b *Builder, k int, o, l uint32) (uint32, uint32) {
	from := o
	for _, x := range ob.orders[k] {
		h.orderDelta[o] = uint32(x.unix - h.baseUnix)
		h.orderKeys = append(h.orderKeys, x.key...)
		h.orderKeyOff[o+1] = uint32(len(h.orderKeys))
		if h.versions != nil {
			h.versions[o-h.verLo] = ob.version(base, b, &x)
		}
		if x.base >= 0 {
			llo, lhi := base.orderOff[x.base], base.orderOff[x.base+1]
			copy(h.lineProduct[l:], base.lineProduct[llo:lhi])
			copy(h.lineQty[l:], base.lineQty[llo:lhi])
			copy(h.linePrice[l:], base.linePrice[llo:lhi])
			l += lhi - llo
		}
		for _, i := range ob.lines[x.first : x.first+x.n] {
			h.lineProduct[l], h.lineQty[l], h.linePrice[l] = b.lProduct[i], b.lQty[i], b.lPrice[i]
			l++
		}
		o++
		h.orderOff[o] = l
	}
	h.setBucket(k, from, o)
	return o, l
}

// span returns the earliest and the latest order time of h, which has at
// least one order, in a pass over its orders.
func (h *History) span() (first, last int64) {
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for o := range h.Orders() {
		lo, hi = min(lo, h.orderDelta[o]), max(hi, h.orderDelta[o])
	}
	return h.baseUnix + int64(lo), h.baseUnix + int64(hi)
}
