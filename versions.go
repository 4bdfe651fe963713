package affinity

import (
	"fmt"
	"maps"
	"slices"
)

// How a History keeps the versions of order changes ([Builder.Apply]).
//
// A change of an order key wins over what a History holds of the key
// when its version is not lower: the highest version wins and, at equal
// versions, the later Build (within one Builder, where the calls' order
// may be a shuffle's, a delete beats a put of the same version). A later
// Build holds a later state of the source: a database polled by an
// updated_at column with ties (a cancellation and a re-opening in the
// same second) is read again at the same version, and its later state
// must win for incremental polls to build what a full poll does. So a
// History remembers, per key, the version of its latest winning change:
//
//   - of a put, in the order's entry of a version column (versions),
//     laid out by order id like the other order columns (layout.go):
//     shared with the base and appended to, written anew by a
//     compaction. Lines added with [Builder.Add] join an order without
//     changing its version, and an order they make has version 0. The
//     column is nil while every version is 0, and ids below verLo have
//     version 0, so that Histories loaded from files pay nothing for it
//     and the first versioned refresh of one that appends to it writes
//     versions for its own orders only.
//   - of a delete, as a tombstone: key and version, in a table of
//     their own (tombstones). A delete of version 0 leaves none:
//     version 0 means "no version", and a feed without versions that
//     deletes an order and puts it again in a later Build gets it back,
//     as a put of version 0 replaces an order added with Add. A put
//     that wins removes its key's tombstone. Add ignores tombstones:
//     its lines make an order of version 0 and the tombstone stays, so
//     that it still refuses changes below its version, and one at or
//     above it replaces the lines.
//
// An erasure is no versioned change: it drops the customer's orders with
// their versions and sets no tombstone, nor does a put of a customer
// erased in the same Builder (which deletes the other orders of its key);
// the tombstones stay as they are.

// tombstones holds the versions of deleted order keys, in shards chosen
// by the key's hash (as keyIndex). It is never modified once built: a
// History built on a base shares the base's, or one that shares the
// shards no change touched.
type tombstones struct {
	n      int
	shards [][]tombstone
}

type tombstone struct {
	hash    uint32 // keyHash(key)
	version int64
	key     string
}

// lookup returns the version of key's tombstone. Nil-safe.
func (t *tombstones) lookup(key string) (version int64, ok bool) {
	if t == nil {
		return 0, false
	}
	hash := keyHash(key)
	for _, e := range t.shards[hash&uint32(len(t.shards)-1)] {
		if e.hash == hash && e.key == key {
			return e.version, true
		}
	}
	return 0, false
}

// len returns the number of tombstones. Nil-safe.
func (t *tombstones) len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// with returns t with the tombstones of set added or moved to their new
// version and those of clear removed (nil when none is left): a new
// table sharing t's untouched shards, or, when t has grown too dense for
// its shards, a table built anew, in time linear in its size. Nil-safe.
func (t *tombstones) with(set map[string]int64, clear []string) *tombstones {
	if len(set) == 0 && len(clear) == 0 {
		return t
	}
	n := t.len()
	for k := range set {
		if _, ok := t.lookup(k); !ok {
			n++
		}
	}
	for _, k := range clear {
		if _, ok := t.lookup(k); ok {
			n--
		}
	}
	if n == 0 {
		return nil
	}
	// sorted keys: the same changes give the same table
	keys := slices.Sorted(maps.Keys(set))
	u := &tombstones{n: n}
	if t == nil || n > 2*keyShard*len(t.shards) || 4*keyShard*n < len(t.shards) {
		shards := 1
		for shards*keyShard < n {
			shards *= 2
		}
		u.shards = make([][]tombstone, shards)
		gone := make(map[string]bool, len(clear)+len(set))
		for _, k := range clear {
			gone[k] = true
		}
		for _, k := range keys {
			gone[k] = true
		}
		if t != nil {
			for _, s := range t.shards {
				for _, e := range s {
					if !gone[e.key] {
						u.put(e)
					}
				}
			}
		}
		for _, k := range keys {
			u.put(tombstone{keyHash(k), set[k], k})
		}
		return u
	}
	u.shards = slices.Clone(t.shards)
	mask := uint32(len(u.shards) - 1)
	copied := map[uint32]bool{}
	own := func(s uint32) []tombstone {
		if !copied[s] {
			u.shards[s] = slices.Clip(slices.Clone(u.shards[s]))
			copied[s] = true
		}
		return u.shards[s]
	}
	remove := func(k string, hash uint32) {
		s := hash & mask
		i := slices.IndexFunc(u.shards[s], func(e tombstone) bool { return e.hash == hash && e.key == k })
		if i >= 0 {
			u.shards[s] = slices.Delete(own(s), i, i+1)
		}
	}
	for _, k := range clear {
		remove(k, keyHash(k))
	}
	for _, k := range keys {
		hash := keyHash(k)
		remove(k, hash)
		s := hash & mask
		u.shards[s] = append(own(s), tombstone{hash, set[k], k})
	}
	return u
}

// put adds e to its shard.
func (t *tombstones) put(e tombstone) {
	s := &t.shards[e.hash&uint32(len(t.shards)-1)]
	*s = append(*s, e)
}

// size returns the bytes t keeps resident, the keys' bytes not counted.
// Nil-safe.
func (t *tombstones) size() int {
	if t == nil {
		return 0
	}
	return 24*len(t.shards) + 32*t.n
}

// OrderVersion returns the version of o: that of the put
// ([Builder.PutOrder], [Builder.Apply]) that made it, or 0 for an order
// made by [Builder.Add] (lines that Add joins to an order do not change
// its version). A History keeps it so that a change of the order's key
// in a later Build wins over the order only by the rule of
// [Builder.Apply]. It takes O(1) time and panics when o is not below
// [History.NumOrderIDs].
func (h *History) OrderVersion(o OrderID) int64 {
	if o >= OrderID(len(h.orderDelta)) {
		panic(fmt.Sprintf("affinity: order %d out of range", o))
	}
	if i := int64(o) - int64(h.verLo); i >= 0 && i < int64(len(h.versions)) {
		return h.versions[i]
	}
	return 0
}

// keyVersion returns the version of the latest change of key that h
// holds: the highest of its tombstone's and its orders' versions; ok is
// false when h holds neither. It indexes h's order keys on first use (see
// [History.LookupOrder]) and takes time linear in the orders with key,
// whatever other keys share its shard of the index.
func (h *History) keyVersion(key string) (version int64, ok bool) {
	return h.keyOrders(key, nil)
}

// keyOrders is keyVersion that also calls f, when not nil, with each
// order of key h holds, in the one walk over them.
func (h *History) keyOrders(key string, f func(o uint32)) (version int64, ok bool) {
	version, ok = h.tomb.lookup(key)
	h.keyIndex().each(h, key, func(o uint32) bool {
		if v := h.OrderVersion(OrderID(o)); !ok || v > version {
			version, ok = v, true
		}
		if f != nil {
			f(o)
		}
		return true
	})
	return version, ok
}

// versioned reports whether h holds a version other than 0: an order's
// or a tombstone. Nil-safe.
func (h *History) versioned() bool {
	return h != nil && (h.versions != nil || h.tomb != nil)
}

// resolve drops the staged changes that lose to what base (nil: none)
// holds of their keys, by the rule of Apply, and records how the
// surviving ones change the tombstones: a put that adds its order
// removes its key's, a delete of a version other than 0 sets it. A put
// of a customer erased in the Builder deletes the other orders of its
// key and leaves the tombstones as they are. Whether a change loses was
// found when it was staged, against the same base (stagedOrder.loses).
func (ch *orderChanges) resolve(base *History) {
	if ch == nil {
		return
	}
	for k, o := range ch.byKey {
		if o.loses { // found when staged, against the same base
			delete(ch.byKey, k)
			continue
		}
		erased := false
		if !o.del {
			_, erased = ch.erased[o.lines[0].Customer]
		}
		var t int64
		var dead bool
		if base != nil {
			t, dead = base.tomb.lookup(k)
		}
		switch {
		case erased:
			// dropped with its customer: an erasure is no versioned change
		case !o.del && dead:
			ch.untomb = append(ch.untomb, k)
		case o.del && o.version != 0 && (!dead || t != o.version):
			if ch.tomb == nil {
				ch.tomb = map[string]int64{}
			}
			ch.tomb[k] = o.version
		}
	}
}

// dropUnchanged drops the staged puts, surviving resolve, that would put
// back what base holds: a put of the version base holds of its key,
// whose key names one order of base and no tombstone, with the same
// customer, time and lines, in the same order (the order Add keeps), and
// no line added with the key in this Builder (which the put would drop).
// Such a put wins by the rule of Apply and changes nothing, so a feed
// that resends what it sent, as a database polled by updated_at >= the
// last poll's time reads its latest rows again, costs no rebuild.
func (b *Builder) dropUnchanged(base *History) {
	ch := b.changes
	if ch == nil || base == nil || len(ch.byKey) == 0 {
		return
	}
	for k, o := range ch.byKey {
		if o.del {
			continue
		}
		if only, ok := b.baseHolds(base, k, o.lines); ok && base.OrderVersion(OrderID(only)) == o.version {
			delete(ch.byKey, k)
		}
	}
}

// baseHolds reports whether base holds a put of lines (of one customer,
// not erased in the Builder) as it is: as one order of key, its only
// one, with no tombstone of key, of lines' customer, time and lines in
// the same order, and no line added with key in this Builder (which the
// put would drop); it returns that order.
func (b *Builder) baseHolds(base *History, key string, lines []Purchase) (uint32, bool) {
	if ch := b.changes; ch != nil && ch.isErased(lines[0].Customer) {
		return 0, false
	}
	if _, dead := base.tomb.lookup(key); dead {
		return 0, false
	}
	only, n := base.ordersOf(key)
	return only, n == 1 && base.sameOrder(only, lines) && !b.addedOrders()[key]
}

// HoldsOrder reports whether [Builder.Build] would hold order key as a
// put of lines ([Builder.PutOrder]) leaves it, with nothing more staged:
// the base History (see [NewBuilder]) holds key as one order and no
// tombstone, of lines' customer, time (the earliest line's) and lines in
// the same order, their Order fields empty or key; for no lines (a
// delete), it holds key's tombstone and no order of it. And nothing
// staged or added in this Builder changes key or erases lines' customer.
// The change then changes nothing but key's version, which a change at
// another version than the base's changes (a rebuild, see [NewBuilder]):
// a loader that reads an unchanged order again, under a version of its
// own, leaves the change out and keeps the base's version. False without
// a base, and for lines [Builder.Apply] refuses (two customers, a line
// of another order, one [Builder.Add] refuses). It takes time linear in the number of lines and of the base's
// orders of key, indexing the base's order keys on first use (see
// [History.LookupOrder]), and on its first call after [Builder.Add],
// linear in the orders added.
func (b *Builder) HoldsOrder(key string, lines []Purchase) bool {
	base := b.baseHistory()
	if base == nil || key == "" {
		return false
	}
	for _, p := range lines {
		// lines Apply refuses are no put the base can hold
		if p.Order != "" && p.Order != key || p.Customer != lines[0].Customer || checkPurchase(p) != nil {
			return false
		}
	}
	if ch := b.changes; ch != nil {
		if _, staged := ch.byKey[key]; staged {
			return false
		}
	}
	if len(lines) == 0 {
		_, dead := base.tomb.lookup(key)
		_, n := base.ordersOf(key)
		return dead && n == 0 && !b.addedOrders()[key]
	}
	_, ok := b.baseHolds(base, key, lines)
	return ok
}

// ordersOf returns how many orders of h have key, up to 2, and the last
// of them.
func (h *History) ordersOf(key string) (only uint32, n int) {
	h.keyIndex().each(h, key, func(x uint32) bool { n, only = n+1, x; return n < 2 })
	return only, n
}

// addedOrders returns the order keys of the lines added with Add, built
// on first need and kept by Add from then on.
func (b *Builder) addedOrders() map[string]bool {
	if b.addedKeys == nil {
		b.addedKeys = make(map[string]bool, len(b.gKey))
		for _, g := range b.gKey {
			b.addedKeys[g] = true
		}
	}
	return b.addedKeys
}

// sameOrder reports whether order o of h is the order Add makes of lines
// (one order's lines): the same customer, time (the earliest line's) and
// lines in the same order.
func (h *History) sameOrder(o uint32, lines []Purchase) bool {
	lo, hi := h.orderOff[o], h.orderOff[o+1]
	if int(hi-lo) != len(lines) {
		return false
	}
	if c := h.orderCust[o]; c == anonBucket {
		if lines[0].Customer != "" {
			return false
		}
	} else if h.customers.keys[c] != lines[0].Customer || lines[0].Customer == "" {
		return false
	}
	unix := lines[0].Time.Unix()
	for i, p := range lines {
		l := lo + uint32(i)
		if p.Quantity != h.lineQty[l] || p.Price != h.linePrice[l] || p.Product != h.catalog.ProductKey(h.lineProduct[l]) {
			return false
		}
		unix = min(unix, p.Time.Unix())
	}
	return unix == h.OrderUnix(OrderID(o))
}

// setGroupVersion records that staged group g was made by a put of
// version v.
func (b *Builder) setGroupVersion(g uint32, v int64) {
	if v == 0 && b.gVersion == nil {
		return
	}
	if b.gVersion == nil {
		b.gVersion = make([]int64, len(b.gCust), cap(b.gCust))
	}
	b.gVersion[g] = v
}

// trimVersions returns versions as a History keeps them: nil when every
// version is 0.
func trimVersions(versions []int64) []int64 {
	for _, v := range versions {
		if v != 0 {
			return versions
		}
	}
	return nil
}
