package recommend_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// refStore is a small generated shop with a three-level category tree,
// products in several categories or none, prices at round values (so
// that price bands fall on them exactly) and unpriced products.
type refStore struct {
	h      *affinity.History
	e      *recommend.Engine
	np     int
	nonM   *roaring.Bitmap                               // Options.Exclude
	bought map[string]map[affinity.ProductID][]time.Time // purchase times
	stock  []bool
	// nextBasket: the customer's own products may come back (Repeat)
	nextBasket bool
	subDepth   int // Options.SubstituteDepth
}

var refCats = []string{"A/x/1", "A/x/2", "A/y", "B/z/3", "B/z/4", "B", "C/w"}

var refT0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func refKey(p int) string { return fmt.Sprintf("q%02d", p) }

func newRefStore(t testing.TB, seed uint64, workers int) *refStore {
	return newRefStoreWith(t, seed, recommend.Options{Workers: workers})
}

// newRefStoreWith is newRefStore with o, to which it adds its
// non-merchandise, segments and consumables.
func newRefStoreWith(t testing.TB, seed uint64, o recommend.Options) *refStore {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 71))
	np := 16 + r.IntN(10)
	if seed%5 == 4 {
		np = 60 + r.IntN(80) // the dense sets' second and third words
	}
	var b affinity.Builder
	for p := range np {
		var cats []string
		switch x := r.IntN(10); {
		case x == 0:
		case x <= 2:
			i := r.IntN(len(refCats))
			cats = []string{refCats[i], refCats[(i+1+r.IntN(len(refCats)-1))%len(refCats)]}
		default:
			cats = []string{refCats[r.IntN(len(refCats))]}
		}
		if p == 0 {
			cats = []string{"C/w"} // the consumables' category is never empty
		}
		price := affinity.Money(r.IntN(6)) * 5000 // 0 (no price) to 2.5000
		require.NoError(t, b.AddProduct(affinity.Product{Key: refKey(p), Categories: cats, Price: price, InStock: r.IntN(6) != 0}))
	}
	st := &refStore{np: np, bought: map[string]map[affinity.ProductID][]time.Time{}}
	type line struct {
		c, p string
		tm   time.Time
		q    int32
	}
	var lines []line
	for c := range 20 {
		ck := fmt.Sprintf("k%02d", c)
		for o := range 1 + r.IntN(3) {
			tm := refT0.Add(time.Duration(r.IntN(50)) * 24 * time.Hour)
			for range 1 + r.IntN(4) {
				p := refKey(r.IntN(r.IntN(np-2) + 1)) // the last two are never bought
				q := int32(1)
				if r.IntN(12) == 0 {
					q = -1
				}
				require.NoError(t, b.Add(affinity.Purchase{Customer: ck, Product: p, Order: fmt.Sprintf("%s-%d", ck, o), Time: tm, Quantity: q, Price: 10000}))
				lines = append(lines, line{ck, p, tm, q})
			}
		}
	}
	// views, carts and wishlists: anchors, never "already bought"; one
	// customer (k20) known by events alone
	for range 25 {
		kind := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Wishlist}[r.IntN(3)]
		require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprintf("k%02d", r.IntN(21)), Product: refKey(r.IntN(np)),
			Time: refT0.Add(time.Duration(r.IntN(55*24)) * time.Hour), Kind: kind, Weight: 1}))
	}
	// ratings: rated products count as bought
	for range 6 {
		ck, p, tm := fmt.Sprintf("k%02d", r.IntN(20)), refKey(r.IntN(np)), refT0.Add(time.Duration(r.IntN(55*24))*time.Hour)
		require.NoError(t, b.AddEvent(affinity.Event{Customer: ck, Product: p, Time: tm, Kind: affinity.Rating, Weight: 4}))
		lines = append(lines, line{ck, p, tm, 1})
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	cat := h.Catalog()
	for _, l := range lines {
		if l.q <= 0 {
			continue
		}
		p, _ := cat.LookupProduct(l.p)
		if st.bought[l.c] == nil {
			st.bought[l.c] = map[affinity.ProductID][]time.Time{}
		}
		st.bought[l.c][p] = append(st.bought[l.c][p], l.tm)
	}
	counts, err := similarity.Count(context.Background(), h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(context.Background(), counts, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	if o.Evidence != nil {
		// a learned model, with signed weights, reasons from the counts
		nb, err = similarity.FitEASE(context.Background(), h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: 5})
		require.NoError(t, err)
		o.Evidence = counts
	}
	st.nonM = roaring.BitmapOf(uint32(r.IntN(np)))
	segs := []*roaring.Bitmap{roaring.BitmapOf(0, 1, 2, 3, 4, 5)}
	o.Exclude, o.Segments, o.Consumables = st.nonM, segs, []recommend.Consumable{{Category: "C", Interval: refDue}}
	st.e, err = recommend.New(context.Background(), h, nb, h.Latest(), o)
	st.nextBasket, st.subDepth = o.NextBasket.RepeatWeight > 0, o.SubstituteDepth
	require.NoError(t, err)
	st.h = h
	st.stock = make([]bool, np)
	for p := range np {
		st.stock[p] = cat.InStock(affinity.ProductID(p))
	}
	return st
}

// eligible is the documented rule set of req, written from the docs
// alone: the products a result may be.
func (st *refStore) eligible(req recommend.Request) map[affinity.ProductID]bool {
	cat := st.h.Catalog()
	ru := req.Rules
	asOf := st.e.AsOf()
	if !req.AsOf.IsZero() {
		asOf = req.AsOf
	}
	ban := map[affinity.ProductID]bool{}
	for _, k := range ru.Exclude {
		p, _ := cat.LookupProduct(k)
		ban[p] = true
	}
	only := map[affinity.ProductID]bool{}
	for _, k := range ru.Only {
		p, _ := cat.LookupProduct(k)
		only[p] = true
	}
	basket := map[affinity.ProductID]bool{}
	for _, k := range req.Basket {
		p, _ := cat.LookupProduct(k)
		basket[p] = true
	}
	for _, p := range req.Items {
		basket[p] = true
	}
	subCats := map[affinity.CategoryID]bool{}
	for p := range basket {
		if st.nonM.Contains(uint32(p)) {
			continue // non-merchandise in the cart bans nothing
		}
		for _, c := range cat.Categories(p) {
			subCats[st.subCat(c)] = true
		}
	}
	cust := req.Customer
	if req.ByID {
		cust = ""
		if int(req.CustomerID) < st.h.NumCustomers() {
			cust = st.h.CustomerKey(req.CustomerID)
		}
	}
	out := map[affinity.ProductID]bool{}
	for p := range affinity.ProductID(st.np) {
		switch {
		case st.nonM.Contains(uint32(p)), ban[p], basket[p]:
			continue
		case len(ru.Only) > 0 && !only[p]:
			continue
		case !ru.IncludeOutOfStock && !st.stock[p]:
			continue
		}
		if ru.Category != "" && !inCategory(cat, p, ru.Category) {
			continue
		}
		if ru.MinPrice > 0 || ru.MaxPrice > 0 {
			pr := cat.ProductPrice(p)
			if pr == 0 || pr < ru.MinPrice || (ru.MaxPrice > 0 && pr > ru.MaxPrice) {
				continue
			}
		}
		if !ru.AllowRepeats {
			// bought at or before asOf, and not a consumable due again
			var last time.Time
			for _, tm := range st.bought[cust][p] {
				if !tm.After(asOf) && tm.After(last) {
					last = tm
				}
			}
			if !last.IsZero() && !(inCategory(cat, p, "C") && asOf.Sub(last) >= refDue) {
				continue
			}
		}
		if !ru.AllowSubstitutes && slices.ContainsFunc(cat.Categories(p), func(c affinity.CategoryID) bool { return subCats[st.subCat(c)] }) {
			continue
		}
		out[p] = true
	}
	return out
}

// subCat is the category of c at the substitute depth.
func (st *refStore) subCat(c affinity.CategoryID) affinity.CategoryID {
	if st.subDepth > 0 {
		return st.h.Catalog().Ancestor(c, st.subDepth)
	}
	return c
}

// dedup returns the keys without repeats, in their first order.
func dedup(keys []string) []string {
	var out []string
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// refDue is the interval of the consumables (category "C").
const refDue = 10 * 24 * time.Hour

// inCategory reports whether one of p's categories has path or is below it.
func inCategory(cat *affinity.Catalog, p affinity.ProductID, path string) bool {
	for _, c := range cat.Categories(p) {
		q := cat.CategoryPath(c)
		if q == path || strings.HasPrefix(q, path+"/") {
			return true
		}
	}
	return false
}

// randRequest draws a request with every rule the engine has, the
// bounds of a price band on products' prices.
func (st *refStore) randRequest(r *rand.Rand) recommend.Request {
	var req recommend.Request
	switch r.IntN(5) {
	case 0, 1:
		req.Customer = fmt.Sprintf("k%02d", r.IntN(22)) // two unknown
	case 2:
		req.ByID, req.CustomerID = true, affinity.CustomerID(r.IntN(22))
	}
	for range r.IntN(3) {
		k := refKey(r.IntN(st.np))
		req.Basket = append(req.Basket, k, k) // duplicates count once
	}
	if r.IntN(4) == 0 {
		req.Items = append(req.Items, affinity.ProductID(r.IntN(st.np)))
	}
	ru := &req.Rules
	for range r.IntN(3) {
		k := refKey(r.IntN(st.np))
		ru.Exclude = append(ru.Exclude, k, k)
	}
	if r.IntN(4) == 0 {
		for range 1 + r.IntN(8) {
			ru.Only = append(ru.Only, refKey(r.IntN(st.np)))
		}
	}
	if r.IntN(3) == 0 {
		ru.Category = []string{"A", "A/x", "A/x/1", "B", "B/z", "C/w", "A/y"}[r.IntN(7)]
	}
	if r.IntN(4) == 0 {
		// an ad-hoc segment, ids past the customers included
		req.Segment = roaring.BitmapOf(uint32(r.IntN(20)), uint32(r.IntN(20)), uint32(r.IntN(20)), 1000)
	}
	if r.IntN(3) == 0 {
		req.AsOf = refT0.Add(time.Duration(r.IntN(55)) * 24 * time.Hour)
	}
	req.K = 1 + r.IntN(st.np+2)
	if r.IntN(6) == 0 {
		req.K = recommend.MaxK
	}
	ru.IncludeOutOfStock = r.IntN(4) == 0
	ru.AllowRepeats = r.IntN(4) == 0
	ru.AllowSubstitutes = r.IntN(3) == 0
	if r.IntN(3) == 0 {
		ru.MinPrice = affinity.Money(r.IntN(4)) * 5000
		if r.IntN(3) != 0 {
			ru.MaxPrice = ru.MinPrice + affinity.Money(r.IntN(3))*5000
		}
	}
	if r.IntN(3) == 0 {
		ru.MaxPerCategory, ru.CategoryDepth = 1+r.IntN(2), r.IntN(4)
	}
	if r.IntN(3) == 0 {
		ru.Diversity = []float64{0.5, 1}[r.IntN(2)]
	}
	return req
}

// check asserts the documented promises on one result list.
func (st *refStore) check(t *testing.T, req recommend.Request, recs []recommend.Rec) {
	t.Helper()
	cat := st.h.Catalog()
	el := st.eligible(req)
	require.LessOrEqual(t, len(recs), req.K)
	if req.Rules.MaxPerCategory == 0 {
		if st.nextBasket {
			assert.GreaterOrEqual(t, len(recs), min(req.K, len(el)), "K results whenever K are eligible")
		} else {
			assert.Equal(t, min(req.K, len(el)), len(recs), "K results whenever K are eligible")
		}
	}
	if st.nextBasket {
		// the customer's own products may come back as repeats
		loose := req
		loose.Rules.AllowRepeats = true
		el = st.eligible(loose)
	}
	seen := map[affinity.ProductID]bool{}
	caps := map[affinity.CategoryID]int{}
	for _, r := range recs {
		assert.False(t, seen[r.Product], "%s twice", r.Key)
		seen[r.Product] = true
		assert.True(t, el[r.Product], "%s (%v) is not eligible", r.Key, r.Source)
		one := map[affinity.CategoryID]bool{}
		for _, c := range cat.Categories(r.Product) {
			if d := req.Rules.CategoryDepth; d > 0 {
				c = cat.Ancestor(c, d)
			}
			one[c] = true
		}
		for c := range one {
			caps[c]++
		}
		for _, x := range r.Reasons() {
			assert.False(t, st.nonM.Contains(uint32(x.Product)), "%s has a non-merchandise reason", r.Key)
		}
	}
	if m := req.Rules.MaxPerCategory; m > 0 {
		for c, n := range caps {
			assert.LessOrEqual(t, n, m, "category %s over its cap", cat.CategoryPath(c))
		}
		if len(recs) < req.K {
			// short only when every eligible product left out has a
			// full category
			for p := range el {
				if seen[p] {
					continue
				}
				full := false
				for _, c := range cat.Categories(p) {
					if d := req.Rules.CategoryDepth; d > 0 {
						c = cat.Ancestor(c, d)
					}
					full = full || caps[c] >= m
				}
				assert.True(t, full, "%s left out of %d results under caps of %d", cat.ProductKey(p), len(recs), m)
			}
		}
	}
}

// TestRequestRulesReference checks random requests with every rule
// against a reference written from the docs: eligibility, K, caps,
// determinism.
func TestRequestRulesReference(t *testing.T) {
	for seed := range uint64(testdata.Scale(30, 5)) {
		var o recommend.Options
		switch seed % 4 {
		case 0:
			o.Boosts = []recommend.Boost{{Category: "A/x", Factor: 3}, {Customers: roaring.BitmapOf(0, 1, 2), Products: roaring.BitmapOf(1, 2, 500), Factor: 0.25}}
		case 1:
			o.SubstituteDepth = 1 + int(seed/4)%2
		case 2:
			o.Evidence = new(similarity.Counts) // newRefStoreWith fits EASE
		case 3:
			o.NextBasket.RepeatWeight = 0.5
		}
		st := newRefStoreWith(t, seed, o)
		r := rand.New(rand.NewPCG(seed, 3))
		if seed%2 == 1 {
			var in, out []affinity.ProductID
			for p := range st.np {
				if r.IntN(3) == 0 {
					st.stock[p] = !st.stock[p]
					if st.stock[p] {
						in = append(in, affinity.ProductID(p))
					} else {
						out = append(out, affinity.ProductID(p))
					}
				}
			}
			st.e.UpdateStock(in, out)
		}
		for i := range testdata.Scale(150, 30) {
			req := st.randRequest(r)
			recs, err := st.e.Recommend(nil, req)
			if _, ok := st.h.Catalog().LookupCategory(req.Rules.Category); !ok && req.Rules.Category != "" {
				require.ErrorIs(t, err, recommend.ErrUnknownCategory)
				continue
			}
			require.NoError(t, err, "%+v", req)
			t.Run(fmt.Sprintf("seed%d/%d", seed, i), func(t *testing.T) {
				st.check(t, req, recs)
				again, err := st.e.Recommend(make([]recommend.Rec, 0, 3), req)
				require.NoError(t, err)
				if len(recs) > 0 {
					assert.Equal(t, recs, again, "same request, same answer")
				} else {
					assert.Empty(t, again)
				}
				// duplicates count once
				once := req
				once.Basket, once.Rules.Exclude, once.Rules.Only = dedup(req.Basket), dedup(req.Rules.Exclude), dedup(req.Rules.Only)
				single, err := st.e.Recommend(nil, once)
				require.NoError(t, err)
				assert.Equal(t, len(recs), len(single))
				if len(recs) > 0 {
					assert.Equal(t, recs, single, "duplicate keys change nothing")
				}
			})
		}
	}
}

// TestRequestDiversityKeepsBest: MMR re-ranking keeps the most relevant
// result first at every Diversity, 1 included, where relevance has no
// weight in the MMR value and every candidate ties at the first place.
func TestRequestDiversityKeepsBest(t *testing.T) {
	for seed := range uint64(testdata.Scale(20, 6)) {
		st := newRefStore(t, seed, 1)
		for c := range 20 {
			req := recommend.Request{Customer: fmt.Sprintf("k%02d", c), K: 5}
			base, err := st.e.Recommend(nil, req)
			require.NoError(t, err)
			if len(base) == 0 || base[0].Source.Fallback() {
				continue
			}
			for _, d := range []float64{0.3, 0.9, 1} {
				req.Rules.Diversity = d
				recs, err := st.e.Recommend(nil, req)
				require.NoError(t, err)
				require.NotEmpty(t, recs)
				assert.Equal(t, base[0].Key, recs[0].Key, "seed %d customer k%02d diversity %v", seed, c, d)
			}
		}
	}
}

// TestRequestAllWorkers: RecommendAll's answers are those of Recommend by
// id, on any number of workers.
func TestRequestAllWorkers(t *testing.T) {
	for seed := range uint64(testdata.Scale(6, 2)) {
		var prev [][]recommend.Rec
		for _, w := range []int{1, 3} {
			st := newRefStore(t, seed, w)
			req := recommend.Request{K: 6, Segment: roaring.BitmapOf(2, 3, 5, 8, 13, 500), Rules: recommend.Rules{Category: "A", MaxPerCategory: 2, Diversity: 0.5, Exclude: []string{refKey(1), refKey(1)}}}
			all, err := st.e.RecommendAll(context.Background(), req)
			require.NoError(t, err)
			for c := range all {
				one := req
				one.ByID, one.CustomerID = true, affinity.CustomerID(c)
				recs, err := st.e.Recommend(nil, one)
				require.NoError(t, err)
				assert.Equal(t, recs, all[c], "customer %d", c)
				st.check(t, one, all[c])
			}
			if prev != nil {
				assert.Equal(t, prev, all, "workers %d", w)
			}
			prev = all
		}
	}
}
