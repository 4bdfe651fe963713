package affinity

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// CustomerID is the dense id of a customer in a [History]: 0 ≤ id <
// [History.NumCustomers]. It converts to a roaring bitmap value with uint32(id).
type CustomerID uint32

// ProductID is the dense id of a product in a [Catalog]: 0 ≤ id <
// [Catalog.NumProducts].
type ProductID uint32

// CategoryID is the dense id of a category node in a [Catalog]: 0 ≤ id <
// [Catalog.NumCategories]. Every level of a category path has its own id.
type CategoryID uint32

// OrderID is the dense id of an order in a [History]: 0 ≤ id <
// [History.NumOrders]. Orders are numbered in the History's sort order
// (customer, then time), so a customer's orders form one range.
type OrderID uint32

// NoCategory is the parent of a top-level category.
const NoCategory = CategoryID(1<<32 - 1)

// keyTable interns shop string ids to dense uint32 ids in first-seen order.
// The zero value is empty and ready to use. It is an open-addressing hash
// table whose slots hold the top 32 bits of the key's hash beside the id, so
// that growing never hashes a string again and most probes never touch the
// key's bytes.
type keyTable struct {
	keys  []string
	slots []uint64 // hash<<32 | id+1; 0 = empty
	shift uint     // 64 - log2(len(slots))
}

var keySeed = maphash.MakeSeed()

func (t *keyTable) hash(k string) uint64 { return maphash.String(keySeed, k) }

// find returns the slot index for k and whether it holds k.
func (t *keyTable) find(k string, h uint64) (int, bool) {
	mask := len(t.slots) - 1
	fp := h >> 32
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return i, false
		}
		if s>>32 == fp && t.keys[uint32(s)-1] == k {
			return i, true
		}
	}
}

func (t *keyTable) intern(k string) uint32 {
	if len(t.slots) == 0 {
		t.resize(16)
	}
	h := t.hash(k)
	i, ok := t.find(k, h)
	if ok {
		return uint32(t.slots[i]) - 1
	}
	id := uint32(len(t.keys))
	t.keys = append(t.keys, k)
	t.slots[i] = h>>32<<32 | uint64(id+1)
	if len(t.keys)*4 > len(t.slots)*3 {
		t.resize(len(t.slots) * 2)
	}
	return id
}

func (t *keyTable) lookup(k string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	i, ok := t.find(k, t.hash(k))
	if !ok {
		return 0, false
	}
	return uint32(t.slots[i]) - 1, true
}

// resize rehashes into n slots (a power of two ≥ 16, n ≤ 2^32) using the
// stored fingerprints: the slot index is the fingerprint's top bits.
func (t *keyTable) resize(n int) {
	old := t.slots
	t.slots = make([]uint64, n)
	t.shift = uint(64 - bits.TrailingZeros(uint(n)))
	mask := n - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(s >> t.shift)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

func (t *keyTable) len() int { return len(t.keys) }

// grow makes room for n more keys without resizing.
func (t *keyTable) grow(n int) {
	need := (len(t.keys) + n) * 4 / 3
	if need <= len(t.slots) {
		return
	}
	size := 16
	for size < need+1 {
		size *= 2
	}
	t.resize(size)
	t.keys = slices.Grow(t.keys, n)
}

// clone returns a table that shares nothing mutable with t.
func (t *keyTable) clone() keyTable {
	return keyTable{keys: slices.Clip(slices.Clone(t.keys)), slots: slices.Clone(t.slots), shift: t.shift}
}

// size returns the bytes held by the table itself (not the key strings).
func (t *keyTable) size() int { return 16*cap(t.keys) + 8*len(t.slots) }
