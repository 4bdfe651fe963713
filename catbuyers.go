package affinity

import (
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// categoryBuyers holds a History's per-category buyer bitmaps: set by a
// build from scratch (buyerIndex), or built on first use from the
// products' bitmaps for a History built on a base, whose build keeps only
// the counts (reindex): nearly every category gains a buyer in a busy
// refresh, and each of their bitmaps holds up to a bit a customer, so
// patching copies would cost in proportion to the customers.
type categoryBuyers struct {
	once sync.Once
	bm   atomic.Pointer[[]*roaring.Bitmap]
}

// set stores bitmaps built with the History.
func (x *categoryBuyers) set(bm []*roaring.Bitmap) { x.bm.Store(&bm) }

// built returns the bitmaps when they are built, else nil.
func (x *categoryBuyers) built() []*roaring.Bitmap {
	if p := x.bm.Load(); p != nil {
		return *p
	}
	return nil
}

// categoryBitmaps returns h's per-category buyer bitmaps, building them
// on first use: each category's is the union of its products' (a
// product's shares name every level of its categories).
func (h *History) categoryBitmaps() []*roaring.Bitmap {
	x := &h.cats
	x.once.Do(func() {
		if x.bm.Load() != nil {
			return
		}
		cat := h.catalog
		parts := make([][]*roaring.Bitmap, cat.NumCategories())
		for p := range cat.NumProducts() {
			b := h.buyers[p]
			if b == nil {
				continue
			}
			for _, s := range cat.Shares(ProductID(p)) {
				parts[s.Category] = append(parts[s.Category], b)
			}
		}
		bm := make([]*roaring.Bitmap, len(parts))
		for k, ps := range parts {
			if len(ps) > 0 {
				u := roaring.FastOr(ps...)
				u.RunOptimize()
				bm[k] = u
			}
		}
		x.set(bm)
	})
	return x.built()
}
