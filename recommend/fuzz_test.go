package recommend_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

var (
	fuzzOnce    sync.Once
	fuzzEngine  *recommend.Engine
	fuzzCatalog *affinity.Catalog
)

// FuzzRecommend throws arbitrary requests at a small engine: any input
// yields results or an error, never a panic, and results obey K, the
// exclusions, an only-these list, a category filter and uniqueness.
func FuzzRecommend(f *testing.F) {
	f.Add("r01", "shoe1", "sock", 3, int64(40), 0.0, 0, int64(0), int64(0), uint32(0), true)
	f.Add("", "", "", 0, int64(-5), 0.5, 2, int64(100), int64(10), uint32(3), false)
	f.Add("k00", "coffee", "nope", 1001, int64(1<<40), 1.5, -1, int64(-1), int64(0), uint32(1<<31), true)
	f.Add("Grocery", "", "", 5, int64(40), 0.0, 0, int64(0), int64(0), uint32(2), false)      // a category filter
	f.Add("r01", "shoe1", "sock", 3, int64(40), 0.0, 0, int64(0), int64(0), uint32(1), false) // only socks
	f.Fuzz(func(t *testing.T, cust, b1, b2 string, k int, days int64, div float64, perCat int, minP, maxP int64, item uint32, seg bool) {
		fuzzOnce.Do(func() {
			h := tinyShop(t)
			fuzzEngine = tinyEngine(t, h, recommend.Options{Consumables: []recommend.Consumable{{Category: "Grocery", Interval: 7 * 24 * time.Hour}}})
			fuzzCatalog = h.Catalog()
		})
		e := fuzzEngine
		req := recommend.Request{Customer: cust, K: k, AsOf: day0.Add(time.Duration(days%(1<<20)) * time.Hour),
			Rules: recommend.Rules{Diversity: div, MaxPerCategory: perCat, MinPrice: affinity.Money(minP), MaxPrice: affinity.Money(maxP)}}
		if b1 != "" {
			req.Basket = append(req.Basket, b1)
		}
		only := b2 != "" && item%5 == 1 // b2 the only product allowed, not excluded
		switch {
		case only:
			req.Rules.Only = []string{b2}
		case b2 != "":
			req.Rules.Exclude = append(req.Rules.Exclude, b2)
		}
		if item%7 == 2 {
			req.Rules.Category = cust // a path, known or not
		}
		if item%4 == 0 {
			req.Items = []affinity.ProductID{affinity.ProductID(item / 4)}
		}
		if seg {
			req.Segment = roaring.BitmapOf(item%64, 1, 2)
		}
		recs, err := e.Recommend(nil, req)
		if err != nil {
			if len(recs) != 0 {
				t.Fatalf("error %v with %d results", err, len(recs))
			}
			return
		}
		if len(recs) > k {
			t.Fatalf("%d results for k = %d", len(recs), k)
		}
		seen := map[affinity.ProductID]bool{}
		for i := range recs {
			r := &recs[i]
			if seen[r.Product] || r.Key == b1 || (r.Key == b2) != only {
				t.Fatalf("result %s repeated, in the basket, excluded or not the only one", r.Key)
			}
			if c := req.Rules.Category; c != "" && !fuzzInCategory(fuzzCatalog, r.Product, c) {
				t.Fatalf("result %s outside category %q", r.Key, c)
			}
			seen[r.Product] = true
			_ = r.Explain(e)
		}
	})
}

// fuzzInCategory reports whether one of p's category paths is path or
// below it (path as the catalog spells it).
func fuzzInCategory(cat *affinity.Catalog, p affinity.ProductID, path string) bool {
	c, ok := cat.LookupCategory(path)
	if !ok {
		return false
	}
	want := cat.CategoryPath(c)
	for _, pc := range cat.Categories(p) {
		if got := cat.CategoryPath(pc); got == want || strings.HasPrefix(got, want+"/") {
			return true
		}
	}
	return false
}
