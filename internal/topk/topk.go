// Package topk keeps the k best of a stream of (score, id) pairs, for the
// neighbour selection of similarity and the candidate ranking of
// recommend: one implementation of the packed-key selection.
//
// A pair is packed into one uint64 key: the high 32 bits order scores
// descending (any float32 but NaN, −0 equal to +0), the low 32 bits hold
// the id, so one integer comparison applies both the score and the
// tie-break by ascending id, and a smaller key is better.
package topk

import (
	"math"
	"slices"
)

// scoreBits maps scores to uint32 so that a higher score gets a smaller
// value; −0 is +0.
func scoreBits(v float32) uint32 {
	u := math.Float32bits(v + 0)
	if u&(1<<31) != 0 {
		u = ^u
	} else {
		u |= 1 << 31
	}
	return ^u
}

func scoreFromBits(u uint32) float32 {
	u = ^u
	if u&(1<<31) != 0 {
		u &^= 1 << 31
	} else {
		u = ^u
	}
	return math.Float32frombits(u)
}

// Pack returns the key of (v, id): keys order by v descending, then id
// ascending. v must not be NaN.
func Pack(v float32, id uint32) uint64 { return uint64(scoreBits(v))<<32 | uint64(id) }

// PackCount returns the key of an integer score v and id: keys order by
// v descending, then id ascending, exact for every uint32, where a
// float32 score (Pack) tells integers apart only up to 2^24. Keys of
// PackCount and of Pack do not mix, and [Keys.Floor] means nothing for
// them; the id comes back as Unpack's second result.
func PackCount(v, id uint32) uint64 { return uint64(^v)<<32 | uint64(id) }

// Unpack returns the score and id of a key made by [Pack].
func Unpack(key uint64) (float32, uint32) { return scoreFromBits(uint32(key >> 32)), uint32(key) }

// Keys keeps the k best (smallest) of the keys offered to it. Keys below
// the current threshold collect in a buffer of 2k; when it fills, a
// selection keeps the k best and their worst becomes the threshold. Most
// candidates of a long stream cost one comparison, and the buffer costs
// O(k) per k admitted, where a heap would pay O(log k) for each. The zero
// value keeps nothing until [Keys.Reset]. Keys must be distinct. After the
// buffer has grown once, no method allocates.
type Keys struct {
	k   int
	h   []uint64
	thr uint64 // keys ≥ thr cannot make the k best
	// Floor is the score of the threshold: lower scores cannot make the k
	// best. Keys itself only writes it (Push and Rejects compare keys
	// with the threshold); a caller that knows a bound may raise it and
	// skip, before pushing, the candidates below it (then fewer than k
	// keys may be kept).
	Floor float32
}

// Reset empties t and makes it keep the k best (k ≥ 0).
func (t *Keys) Reset(k int) {
	t.k, t.h, t.thr, t.Floor = k, t.h[:0], math.MaxUint64, float32(math.Inf(-1))
	if k == 0 {
		t.thr, t.Floor = 0, float32(math.Inf(1))
	}
}

// K returns the k of the last Reset.
func (t *Keys) K() int { return t.k }

// Len returns the number of keys held (up to 2k before [Keys.Sorted]).
func (t *Keys) Len() int { return len(t.h) }

// Full reports whether k keys are known to be better than the threshold.
func (t *Keys) Full() bool { return t.thr != math.MaxUint64 || len(t.h) >= t.k }

// Push offers (v, id); v must not be NaN.
func (t *Keys) Push(v float32, id uint32) {
	if key := Pack(v, id); !t.Rejects(key) {
		t.PushKey(key)
	}
}

// PushCount offers the integer score v of id, as [PackCount] keys it.
func (t *Keys) PushCount(v, id uint32) {
	if key := PackCount(v, id); !t.Rejects(key) {
		t.PushKey(key)
	}
}

// Rejects reports whether key cannot make the k best: the cheap, inlined
// test that keeps most candidates out of PushKey.
func (t *Keys) Rejects(key uint64) bool { return key >= t.thr }

// PushKey adds a key that passed Rejects.
func (t *Keys) PushKey(key uint64) {
	t.h = append(t.h, key)
	if len(t.h)-t.k >= t.k { // len ≥ 2k, without overflow for a huge k
		t.compact()
	}
}

// compact keeps the k best keys and makes the worst of them the
// threshold.
func (t *Keys) compact() {
	SelectSmallest(t.h, t.k)
	t.h = t.h[:t.k]
	t.thr = t.h[t.k-1]
	t.Floor, _ = Unpack(t.thr)
}

// Sorted returns the kept keys, best first: at most k. The slice aliases
// t's buffer until the next Reset.
func (t *Keys) Sorted() []uint64 {
	if len(t.h) > t.k {
		SelectSmallest(t.h, t.k)
		t.h = t.h[:t.k]
	}
	slices.Sort(t.h)
	return t.h
}

// SelectSmallest reorders the distinct keys a so that a[k-1] is the k-th
// smallest, with the smaller ones before it (1 ≤ k ≤ len(a)): a
// quickselect with median-of-three pivots, finishing small ranges with an
// insertion sort.
func SelectSmallest(a []uint64, k int) {
	lo, hi := 0, len(a)
	for hi-lo > 16 {
		last, mid := hi-1, lo+(hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[last] < a[lo] {
			a[last], a[lo] = a[lo], a[last]
		}
		if a[mid] < a[last] {
			a[mid], a[last] = a[last], a[mid]
		}
		pivot, p := a[last], lo
		for j := lo; j < last; j++ {
			if a[j] < pivot {
				a[p], a[j] = a[j], a[p]
				p++
			}
		}
		a[p], a[last] = a[last], a[p]
		switch {
		case k-1 < p:
			hi = p
		case k-1 > p:
			lo = p + 1
		default:
			return
		}
	}
	for i := lo + 1; i < hi; i++ {
		for j := i; j > lo && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
