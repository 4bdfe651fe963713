package affinity

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// keyTable interns shop string ids to dense uint32 ids in first-seen order.
// The zero value is empty and ready to use.
//
// It is an open-addressing hash table with linear probing. A slot holds the
// id, a 24-bit fingerprint of the key's hash, the key's length and its first
// eight bytes, so that a probe for a short key (most shop ids for products,
// customers and orders have at most eight bytes) is decided without
// touching the key string at all, and a longer key is compared only when
// fingerprint, length and prefix all match. Growing reuses the fingerprints
// up to 2^24 slots and hashes the keys again only beyond.
type keyTable struct {
	keys  []string
	slots []keySlot
	shift uint // 64 - log2(len(slots))
}

type keySlot struct {
	meta uint64 // tag<<32 | id+1; 0 = empty. tag = fingerprint<<8 | min(len, 255)
	pre  uint64 // first 8 bytes of the key, little-endian, zero-padded
}

const fpBits = 24

var keySeed = maphash.MakeSeed()

func keyTag(h uint64, k string) uint64 {
	return (h>>(64-fpBits))<<8 | uint64(min(len(k), 255))
}

func keyPrefix(k string) uint64 {
	if len(k) >= 8 {
		return uint64(k[0]) | uint64(k[1])<<8 | uint64(k[2])<<16 | uint64(k[3])<<24 |
			uint64(k[4])<<32 | uint64(k[5])<<40 | uint64(k[6])<<48 | uint64(k[7])<<56
	}
	var p uint64
	for i := len(k) - 1; i >= 0; i-- {
		p = p<<8 | uint64(k[i])
	}
	return p
}

// find returns the slot index for k and whether it holds k.
func (t *keyTable) find(k string, h uint64) (int, bool) {
	mask := len(t.slots) - 1
	tag, pre := keyTag(h, k), keyPrefix(k)
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.meta == 0 {
			return i, false
		}
		if s.meta>>32 == tag && s.pre == pre && (len(k) <= 8 || t.keys[uint32(s.meta)-1] == k) {
			return i, true
		}
	}
}

func (t *keyTable) intern(k string) uint32 {
	if len(t.slots) == 0 {
		t.resize(16)
	}
	h := maphash.String(keySeed, k)
	i, ok := t.find(k, h)
	if ok {
		return uint32(t.slots[i].meta) - 1
	}
	id := uint32(len(t.keys))
	t.keys = append(double(t.keys), k)
	t.slots[i] = keySlot{meta: keyTag(h, k)<<32 | uint64(id+1), pre: keyPrefix(k)}
	if len(t.keys)*4 > len(t.slots)*3 {
		t.resize(len(t.slots) * 2)
	}
	return id
}

func (t *keyTable) lookup(k string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	i, ok := t.find(k, maphash.String(keySeed, k))
	if !ok {
		return 0, false
	}
	return uint32(t.slots[i].meta) - 1, true
}

// resize rehashes into n slots, a power of two ≥ 16.
func (t *keyTable) resize(n int) {
	old := t.slots
	t.slots = make([]keySlot, n)
	logn := uint(bits.TrailingZeros(uint(n)))
	t.shift = 64 - logn
	mask := n - 1
	for _, s := range old {
		if s.meta == 0 {
			continue
		}
		var i int
		if logn <= fpBits {
			i = int(s.meta >> (32 + 8 + fpBits - logn))
		} else {
			i = int(maphash.String(keySeed, t.keys[uint32(s.meta)-1]) >> t.shift)
		}
		for t.slots[i].meta != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

func (t *keyTable) len() int { return len(t.keys) }

// grow makes room for n more keys without resizing.
func (t *keyTable) grow(n int) {
	need := (len(t.keys) + n) * 4 / 3
	if need < len(t.slots) {
		return
	}
	size := 16
	for size <= need {
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
func (t *keyTable) size() int { return 16*cap(t.keys) + 16*len(t.slots) }
