package recommend

import (
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
)

// substitutes holds each product's categories at the substitute depth,
// built once by [newSubstitutes]: two products are substitutes when they
// share one.
type substitutes struct {
	off []uint32
	cat []affinity.CategoryID
}

// newSubstitutes resolves the categories of the np products of c at
// depth (0: their assigned categories). Time linear in the catalog's
// category assignments.
func newSubstitutes(c *affinity.Catalog, np, depth int) *substitutes {
	t := &substitutes{off: make([]uint32, np+1)}
	for p := range np {
		start := len(t.cat)
		for _, l := range c.Categories(affinity.ProductID(p)) {
			a := l
			if depth > 0 {
				a = c.Ancestor(l, depth)
			}
			if !slices.Contains(t.cat[start:], a) {
				t.cat = append(t.cat, a)
			}
		}
		t.off[p+1] = uint32(len(t.cat))
	}
	return t
}

// of returns p's categories at the substitute depth.
func (t *substitutes) of(p affinity.ProductID) []affinity.CategoryID {
	return t.cat[t.off[p]:t.off[p+1]]
}

// same reports whether a and b are substitutes.
func (t *substitutes) same(a, b affinity.ProductID) bool {
	for _, x := range t.of(a) {
		if slices.Contains(t.of(b), x) {
			return true
		}
	}
	return false
}

// bitset is a dense set of product ids.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// bitsetOf returns the products of b (nil: none) below n as a bitset of n.
func bitsetOf(b *roaring.Bitmap, n int) bitset {
	s := newBitset(n)
	if b == nil {
		return s
	}
	it := b.Iterator()
	for it.HasNext() {
		p := it.Next()
		if int(p) >= n {
			break
		}
		s.add(affinity.ProductID(p))
	}
	return s
}

func (b bitset) has(p affinity.ProductID) bool { return b[p>>6]&(1<<(p&63)) != 0 }

func (b bitset) add(p affinity.ProductID) { b[p>>6] |= 1 << (p & 63) }

// len returns the number of products in b.
func (b bitset) len() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// samePrefix reports whether b and a hold the same products among the
// first n, each holding at least n.
func (b bitset) samePrefix(a bitset, n int) bool {
	full := n / 64
	if !slices.Equal(b[:full], a[:full]) {
		return false
	}
	if r := n % 64; r > 0 {
		mask := uint64(1)<<r - 1
		return b[full]&mask == a[full]&mask
	}
	return true
}
