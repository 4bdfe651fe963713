package affinity

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// keyIndex finds a History's orders by shop order id: every order id
// with a non-empty key, in shards chosen by the key's hash. A History
// built on a base that has one by appending (layout.go) gets its own
// from the base's: the shard table copied, the shards its new orders
// land in copied and extended, the others shared; the ids its build
// left unused stay listed, and lookups skip them (live). A compaction
// renumbers every order, and the next use builds the index anew.
type keyIndex struct {
	mask    uint32
	entries int // listed ids, unused ones included
	shards  [][]keyEntry
}

type keyEntry struct {
	hash uint32 // the key's hash, to compare before the key
	id   uint32
}

// keyShard is the number of entries a shard holds on average when its
// index is built.
const keyShard = 32

func keyHash(key string) uint32 { return uint32(maphash.String(keySeed, key)) } // keySeed: intern.go

// orderKeys holds a History's keyIndex: extended from its base's by
// Build, or built on first use.
type orderKeys struct {
	once sync.Once
	x    atomic.Pointer[keyIndex]
}

// keyIndex returns h's index of order keys, building it on first use in
// time linear in the orders.
func (h *History) keyIndex() *keyIndex {
	h.keys.once.Do(func() {
		if h.keys.x.Load() == nil {
			h.keys.x.Store(newKeyIndex(h))
		}
	})
	return h.keys.x.Load()
}

func newKeyIndex(h *History) *keyIndex {
	n := 1
	for n*keyShard < h.NumOrders() {
		n *= 2
	}
	x := &keyIndex{mask: uint32(n - 1), shards: make([][]keyEntry, n)}
	for o := range h.Orders() {
		x.add(h, uint32(o))
	}
	return x
}

// add lists order id o of h (nothing for an order without a key).
func (x *keyIndex) add(h *History, o uint32) {
	if k := h.OrderKey(OrderID(o)); k != "" {
		hash := keyHash(k)
		s := &x.shards[hash&x.mask]
		*s = append(*s, keyEntry{hash, o})
		x.entries++
	}
}

// each calls fn with every order of h with key, in no particular order.
func (x *keyIndex) each(h *History, key string, fn func(o uint32)) {
	hash := keyHash(key)
	for _, e := range x.shards[hash&x.mask] {
		if e.hash == hash && h.live(e.id) && h.OrderKey(OrderID(e.id)) == key {
			fn(e.id)
		}
	}
}

// derive lists the order ids [from, NumOrderIDs) of h, a History that
// appended them to the columns of x's History, in a new index that shares
// x's untouched shards; nil when x has grown too dense to extend (the
// next use builds h's anew).
func (x *keyIndex) derive(h *History, from uint32) *keyIndex {
	if x.entries+len(h.orderDelta)-int(from) > 2*keyShard*len(x.shards) {
		return nil
	}
	y := &keyIndex{mask: x.mask, entries: x.entries, shards: slices.Clone(x.shards)}
	copied := map[uint32]bool{}
	for o := from; o < uint32(len(h.orderDelta)); o++ {
		k := h.OrderKey(OrderID(o))
		if k == "" {
			continue
		}
		hash := keyHash(k)
		s := hash & y.mask
		if !copied[s] {
			// the base's shard stays as it is: extend a copy
			y.shards[s] = slices.Clip(slices.Clone(y.shards[s]))
			copied[s] = true
		}
		y.shards[s] = append(y.shards[s], keyEntry{hash, o})
		y.entries++
	}
	return y
}

// live reports whether order id o names an order of h: it lies in its
// customer's range (or in the anonymous one).
func (h *History) live(o uint32) bool {
	lo, hi := h.anonLo, h.anonHi
	if c := h.orderCust[o]; c != anonBucket {
		lo, hi = h.custLo[c], h.custHi[c]
	}
	return lo <= o && o < hi
}

// LookupOrder returns the order with shop order id key: the first in the
// History's order ([History.Orders]) when several customers' orders share
// the key (shops that feed orders through [Builder.PutOrder] keep keys
// unique). The empty key is never found. The first call indexes the
// orders by a hash of their keys, in time linear in the orders and 8
// bytes per order, kept for later calls, which take O(1) time; a History
// built on this one by appending to its columns (see [OrderID]) extends
// the index in time proportional to its new orders. Safe for concurrent
// use.
func (h *History) LookupOrder(key string) (OrderID, bool) {
	if key == "" {
		return 0, false
	}
	best, found := uint32(0), false
	// the first in the History's order: the lowest customer (anonymous
	// orders last), then the lowest id in the customer's range
	rank := func(o uint32) uint64 { return uint64(h.orderCust[o])<<32 | uint64(o) }
	h.keyIndex().each(h, key, func(o uint32) {
		if !found || rank(o) < rank(best) {
			best, found = o, true
		}
	})
	return OrderID(best), found
}
