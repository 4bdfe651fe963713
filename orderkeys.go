package affinity

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// keyIndex finds a History's orders by shop order id: every order id
// with a non-empty key, in shards chosen by the key's hash. Each shard is
// sorted by hash, then by the order's place in the History's order
// (customer, then id; anonymous orders last), so a lookup binary-searches
// its hash and meets the key's orders first-ranking first, never walking
// the orders of other keys in its shard, however many share one key. A
// History built on a base that has one by appending (layout.go) gets its
// own from the base's: the shard table copied, the shards its new or
// dropped orders lie in copied, rid of the ids the build left unused and
// extended, the others shared (they hold no id the build left unused:
// such ids are a changed customer's old orders, whose keys its new ones
// repeat, or dropped ones). Lookups still skip any unused id (live). A
// compaction renumbers every order, and the next use builds the index
// anew.
type keyIndex struct {
	mask    uint32
	entries int // listed ids
	shards  [][]keyEntry
}

// size returns the bytes x keeps: its shards' headers and entries.
func (x *keyIndex) size() int {
	n := 24 * len(x.shards)
	for _, s := range x.shards {
		n += 8 * cap(s)
	}
	return n
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
	for o := range h.Orders() { // in the History's order: ranks ascending
		if k := h.OrderKey(o); k != "" {
			hash := keyHash(k)
			s := &x.shards[hash&x.mask]
			*s = append(*s, keyEntry{hash, uint32(o)})
			x.entries++
		}
	}
	for _, s := range x.shards {
		slices.SortStableFunc(s, func(a, b keyEntry) int { return cmp.Compare(a.hash, b.hash) })
	}
	return x
}

// rank orders the entries of one hash as the History orders their
// orders: the lowest customer (anonymous orders last), then the lowest
// id in the customer's range.
func (h *History) rank(o uint32) uint64 { return uint64(h.orderCust[o])<<32 | uint64(o) }

// each calls fn with every order of h with key, first-ranking first
// ([History.Orders]), until fn returns false. It takes time logarithmic
// in the size of the key's shard plus one step per id listed with the
// key's hash.
func (x *keyIndex) each(h *History, key string, fn func(o uint32) bool) {
	hash := keyHash(key)
	s := x.shards[hash&x.mask]
	i, _ := slices.BinarySearchFunc(s, hash, func(e keyEntry, hash uint32) int { return cmp.Compare(e.hash, hash) })
	for ; i < len(s) && s[i].hash == hash; i++ {
		if o := s[i].id; h.live(o) && h.OrderKey(OrderID(o)) == key && !fn(o) {
			return
		}
	}
}

// derive lists the order ids [from, NumOrderIDs) of h, a History that
// appended them to the columns of x's History after dropping the base's
// orders dropped, in a new index that shares x's other shards; nil when
// x has grown too dense to extend (the next use builds h's anew). It
// takes time linear in the new orders and the shards they and the
// dropped ones lie in.
func (x *keyIndex) derive(h *History, from uint32, dropped []uint32) *keyIndex {
	if x.entries+len(h.orderDelta)-int(from) > 2*keyShard*len(x.shards) {
		return nil
	}
	y := &keyIndex{mask: x.mask, entries: x.entries, shards: slices.Clone(x.shards)}
	copied := map[uint32]bool{}
	own := func(key string) (hash, s uint32) {
		hash = keyHash(key)
		s = hash & y.mask
		if !copied[s] {
			// the base's shard stays as it is: a copy without the ids
			// h leaves unused
			old := y.shards[s]
			y.shards[s] = slices.DeleteFunc(slices.Clone(old), func(e keyEntry) bool { return !h.live(e.id) })
			y.entries -= len(old) - len(y.shards[s])
			copied[s] = true
		}
		return hash, s
	}
	for _, o := range dropped {
		if k := h.OrderKey(OrderID(o)); k != "" {
			own(k)
		}
	}
	for o := from; o < uint32(len(h.orderDelta)); o++ {
		if k := h.OrderKey(OrderID(o)); k != "" {
			hash, s := own(k)
			y.shards[s] = append(y.shards[s], keyEntry{hash, o})
			y.entries++
		}
	}
	for s := range copied {
		slices.SortFunc(y.shards[s], func(a, b keyEntry) int {
			return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(h.rank(a.id), h.rank(b.id)))
		})
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
// orders by a hash of their keys, sorted within each hash in the
// History's order, in time O(n log n) in the orders n and 8 bytes per
// order, kept for later calls, which take time logarithmic in the about
// 32 orders whose keys share a shard of the index (O(1) on average), not
// in the orders that share key. A History built on this one by appending
// to its columns (see [OrderID]) extends the index in time proportional
// to its new and dropped orders and the shards of the index they lie in.
// Safe for concurrent use.
func (h *History) LookupOrder(key string) (OrderID, bool) {
	if key == "" {
		return 0, false
	}
	best, found := uint32(0), false
	h.keyIndex().each(h, key, func(o uint32) bool {
		best, found = o, true
		return false
	})
	return OrderID(best), found
}
