package recommend_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// advLine is one purchase line of a generated store, kept for the naive
// models.
type advLine struct {
	cust, prod string
	t          time.Time
	qty        int
}

type advStore struct {
	h     *affinity.History
	nb    *similarity.Index
	lines []advLine
	np    int
	cust  []string
}

var advCats = []string{"A/x", "A/y", "B/z", "B/w", "C/v", "C/u"}

// advGenStore generates a small store: np products (some without a
// category, some never bought, some out of stock), nc customers with a
// few orders each, a few returns and anonymous orders. With multiCat some
// products belong to two categories.
func advGenStore(t testing.TB, seed uint64, np, nc int, multiCat bool) *advStore {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 99))
	var b affinity.Builder
	for p := range np {
		var cats []string
		switch x := r.IntN(10); {
		case x == 0:
		case multiCat && x <= 3:
			i := r.IntN(len(advCats))
			cats = []string{advCats[i], advCats[(i+1+r.IntN(len(advCats)-1))%len(advCats)]}
		default:
			cats = []string{advCats[r.IntN(len(advCats))]}
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%02d", p), Categories: cats,
			Price: affinity.Money(1+r.IntN(50)) * 10000, InStock: r.IntN(5) != 0}))
	}
	st := &advStore{np: np}
	add := func(c, o string, d int, p string, q int) {
		tm := day(d)
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: tm, Quantity: int32(q), Price: 10000}))
		if c != "" {
			st.lines = append(st.lines, advLine{c, p, tm, q})
		}
	}
	bought := max(np-3, 1) // the last products are never bought
	pick := func() string { return fmt.Sprintf("p%02d", r.IntN(r.IntN(bought)+1)) }
	for c := range nc {
		ck := fmt.Sprintf("c%02d", c)
		st.cust = append(st.cust, ck)
		for o := range 1 + r.IntN(4) {
			d := r.IntN(60)
			for range 1 + r.IntN(4) {
				add(ck, fmt.Sprintf("%s-%d", ck, o), d, pick(), 1)
			}
		}
		if r.IntN(6) == 0 {
			add(ck, ck+"-ret", 61, pick(), -1)
		}
	}
	for o := range 5 {
		add("", fmt.Sprintf("anon%d", o), r.IntN(60), pick(), 1)
		add("", fmt.Sprintf("anon%d", o), r.IntN(60), pick(), 1)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	st.h, st.nb = h, nb
	return st
}

func (st *advStore) engine(t testing.TB, o recommend.Options) *recommend.Engine {
	t.Helper()
	e, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), o)
	require.NoError(t, err)
	return e
}

// naive is the documented rule set for one request: which products may
// be results and which may be reasons.
type naive struct {
	eligible map[affinity.ProductID]bool
	anchors  map[affinity.ProductID]bool
}

// advModel derives, from the docs alone, the eligible results of req:
// not in Options.Exclude or Rules.Exclude, in stock unless
// IncludeOutOfStock, in the price band, not bought (quantity > 0) by the
// customer at or before the request's AsOf unless AllowRepeats, not in the
// basket, not sharing an assigned category with a basket product unless
// AllowSubstitutes (SubstituteDepth 0).
func advModel(st *advStore, e *recommend.Engine, excl *roaring.Bitmap, req recommend.Request) naive {
	cat := st.h.Catalog()
	n := naive{eligible: map[affinity.ProductID]bool{}, anchors: map[affinity.ProductID]bool{}}
	asOf := e.AsOf()
	if !req.AsOf.IsZero() {
		asOf = req.AsOf
	}
	cust := req.Customer
	if req.ByID {
		cust = ""
		if int(req.CustomerID) < st.h.NumCustomers() {
			cust = st.h.CustomerKey(req.CustomerID)
		}
	}
	bought := map[affinity.ProductID]bool{}
	for _, l := range st.lines {
		if cust != "" && l.cust == cust && l.qty > 0 && !l.t.After(asOf) {
			p, _ := cat.LookupProduct(l.prod)
			bought[p] = true
		}
	}
	basket := map[affinity.ProductID]bool{}
	for _, k := range req.Basket {
		p, _ := cat.LookupProduct(k)
		basket[p] = true
	}
	for _, p := range req.Items {
		basket[p] = true
	}
	ruleEx := map[affinity.ProductID]bool{}
	for _, k := range req.Rules.Exclude {
		p, _ := cat.LookupProduct(k)
		ruleEx[p] = true
	}
	subCats := map[affinity.CategoryID]bool{}
	for p := range basket {
		if excl == nil || !excl.Contains(uint32(p)) {
			for _, c := range cat.Categories(p) {
				subCats[c] = true
			}
		}
	}
	r := req.Rules
	for i := range st.np {
		p := affinity.ProductID(i)
		switch {
		case excl != nil && excl.Contains(uint32(p)), ruleEx[p], basket[p]:
			continue
		case !r.IncludeOutOfStock && !e.InStock(p):
			continue
		case r.MinPrice > 0 && cat.ProductPrice(p) < r.MinPrice, r.MaxPrice > 0 && cat.ProductPrice(p) > r.MaxPrice:
			continue
		case bought[p] && !r.AllowRepeats:
			continue
		}
		sub := false
		for _, c := range cat.Categories(p) {
			sub = sub || subCats[c]
		}
		if sub && !r.AllowSubstitutes {
			continue
		}
		n.eligible[p] = true
	}
	for p := range bought {
		n.anchors[p] = true
	}
	for p := range basket {
		n.anchors[p] = true
	}
	if excl != nil {
		for p := range n.anchors {
			if excl.Contains(uint32(p)) {
				delete(n.anchors, p)
			}
		}
	}
	return n
}

// advTier is the rank tier of a source (Recommend's doc).
func advTier(s recommend.Source) int {
	switch s {
	case recommend.Rebuy, recommend.Neighbors:
		return 0
	case recommend.SegmentPopular:
		return 1
	}
	return 2
}

// advCheck asserts every documented rule on one result list.
func advCheck(t *testing.T, st *advStore, e *recommend.Engine, excl *roaring.Bitmap, req recommend.Request, recs []recommend.Rec) {
	t.Helper()
	n := advModel(st, e, excl, req)
	cat := st.h.Catalog()
	require.LessOrEqual(t, len(recs), req.K)
	if m := req.Rules.MaxPerCategory; m == 0 {
		assert.Equal(t, min(req.K, len(n.eligible)), len(recs), "K results whenever the catalog has K eligible products")
	} else if single(cat) {
		// the most results the caps allow: every uncapped product and up
		// to the cap of each category
		room, per := 0, map[affinity.CategoryID]int{}
		for p := range n.eligible {
			cs := cat.Categories(p)
			if len(cs) == 0 {
				room++
				continue
			}
			c := cs[0]
			if d := req.Rules.CategoryDepth; d > 0 {
				c = cat.Ancestor(c, d)
			}
			if per[c] < m {
				per[c]++
				room++
			}
		}
		assert.Equal(t, min(req.K, room), len(recs), "K results whenever the caps leave K eligible products")
	}
	seen := map[affinity.ProductID]bool{}
	last := map[recommend.Source]recommend.Rec{}
	seenSeg, popAfterSeg := false, false
	anchored := len(n.anchors) > 0
	caps := map[affinity.CategoryID]int{}
	for i, r := range recs {
		assert.False(t, seen[r.Product], "duplicate %s", r.Key)
		seen[r.Product] = true
		assert.True(t, n.eligible[r.Product], "%s not eligible (src %v)", r.Key, r.Source)
		assert.Equal(t, cat.ProductKey(r.Product), r.Key)
		assert.False(t, math.IsNaN(r.Score), "NaN score")
		assert.True(t, r.Score >= 0 && r.Score <= 1, "score %v of %s outside [0, 1]", r.Score, r.Key)
		for _, c := range cat.Categories(r.Product) {
			if d := req.Rules.CategoryDepth; d > 0 {
				c = cat.Ancestor(c, d)
			}
			caps[c]++
		}
		rs := r.Reasons()
		assert.LessOrEqual(t, len(rs), recommend.MaxReasons)
		switch r.Source {
		case recommend.Neighbors:
			assert.NotEmpty(t, rs, "a Neighbors result has a reason")
		case recommend.Popular, recommend.SegmentPopular:
			assert.Empty(t, rs, "fallbacks have no reasons")
		}
		for _, x := range rs {
			if x.Kind.Pair() {
				assert.GreaterOrEqual(t, x.Lift, float32(1), "a pair below chance is never a reason")
				assert.True(t, n.anchors[x.Product], "reason %d of %s is no anchor", x.Product, r.Key)
			}
		}
		switch {
		case advTier(r.Source) == 0:
			assert.False(t, seenSeg, "%s (%v) after a SegmentPopular fallback", r.Key, r.Source)
		case r.Source == recommend.SegmentPopular:
			assert.False(t, popAfterSeg, "SegmentPopular %s after the Popular fallback", r.Key)
			seenSeg = true
		case seenSeg:
			popAfterSeg = true
		}
		// within a source the order is Score descending, then id: the
		// Rebuy and Neighbors results among themselves, the fallbacks
		// among themselves (blend-placed Popular results, only possible
		// with anchors, may precede more popular fallbacks)
		src := r.Source
		if src == recommend.Rebuy {
			src = recommend.Neighbors
		}
		if src == recommend.Popular && (!seenSeg && anchored) {
			continue
		}
		if prev, ok := last[src]; ok && req.Rules.Diversity == 0 {
			assert.True(t, prev.Score > r.Score || (prev.Score == r.Score && prev.Product < r.Product),
				"order at %d: %s %v then %s %v", i, prev.Key, prev.Score, r.Key, r.Score)
		}
		last[src] = r
	}
	if m := req.Rules.MaxPerCategory; m > 0 {
		for c, k := range caps {
			assert.LessOrEqual(t, k, m, "category %s over its cap", cat.CategoryPath(c))
		}
	}
}

// single reports whether every product has at most one category.
func single(cat *affinity.Catalog) bool {
	for p := range cat.NumProducts() {
		if len(cat.Categories(affinity.ProductID(p))) > 1 {
			return false
		}
	}
	return true
}

// advRandRequest draws a request over the store.
func advRandRequest(r *rand.Rand, st *advStore) recommend.Request {
	var req recommend.Request
	switch r.IntN(4) {
	case 0:
		req.Customer = st.cust[r.IntN(len(st.cust))]
	case 1:
		req.ByID, req.CustomerID = true, affinity.CustomerID(r.IntN(len(st.cust)+2))
	case 2:
		req.Customer = "nobody"
	}
	for range r.IntN(3) {
		if r.IntN(2) == 0 {
			req.Basket = append(req.Basket, fmt.Sprintf("p%02d", r.IntN(st.np)))
		} else {
			req.Items = append(req.Items, affinity.ProductID(r.IntN(st.np)))
		}
	}
	for range r.IntN(3) {
		req.Rules.Exclude = append(req.Rules.Exclude, fmt.Sprintf("p%02d", r.IntN(st.np)))
	}
	if r.IntN(3) == 0 {
		req.AsOf = day(r.IntN(70) - 5)
	}
	req.K = 1 + r.IntN(st.np+2)
	if r.IntN(4) == 0 {
		req.K = recommend.MaxK
	}
	ru := &req.Rules
	ru.IncludeOutOfStock = r.IntN(4) == 0
	ru.AllowRepeats = r.IntN(4) == 0
	ru.AllowSubstitutes = r.IntN(3) == 0
	if r.IntN(4) == 0 {
		ru.MinPrice = affinity.Money(r.IntN(20)) * 10000
		ru.MaxPrice = ru.MinPrice + affinity.Money(r.IntN(40))*10000
	}
	if r.IntN(3) == 0 {
		ru.MaxPerCategory, ru.CategoryDepth = 1+r.IntN(2), r.IntN(3)
	}
	if r.IntN(4) == 0 {
		ru.Diversity = []float64{0.3, 1}[r.IntN(2)]
	}
	return req
}

// TestAdvRequestInvariants checks every documented rule on the results of
// random requests over random small stores (single-category products).
func TestAdvRequestInvariants(t *testing.T) {
	seeds := testdata.Scale(40, 4)
	for seed := range seeds {
		st := advGenStore(t, uint64(seed), 14+seed%5, 25, false)
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		var excl *roaring.Bitmap
		if seed%2 == 1 {
			excl = roaring.BitmapOf(uint32(r.IntN(st.np)), uint32(r.IntN(st.np)))
		}
		e := st.engine(t, recommend.Options{Exclude: excl, Segments: []*roaring.Bitmap{roaring.BitmapOf(0, 1, 2, 3)}})
		if seed%3 == 2 {
			in := roaring.New()
			for p := range st.np {
				if r.IntN(2) == 0 {
					in.Add(uint32(p))
				}
			}
			e.SetStock(in)
		}
		for i := range testdata.Scale(200, 25) {
			req := advRandRequest(r, st)
			t.Run(fmt.Sprintf("seed%d/%d", seed, i), func(t *testing.T) {
				recs, err := e.Recommend(nil, req)
				require.NoError(t, err)
				advCheck(t, st, e, excl, req, recs)
			})
		}
	}
}

// TestAdvRequestEquivalences checks the documented equivalences of
// request forms: key and dense id, Basket and Items, duplicates, unknown
// customers, a customer without history as of AsOf, dst reuse and
// repetition.
func TestAdvRequestEquivalences(t *testing.T) {
	st := advGenStore(t, 3, 16, 25, false)
	e := st.engine(t, recommend.Options{})
	get := func(req recommend.Request) []recommend.Rec {
		t.Helper()
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		return recs
	}
	cat := st.h.Catalog()
	c0, _ := st.h.LookupCustomer("c00")
	p1, _ := cat.LookupProduct("p01")
	p2, _ := cat.LookupProduct("p02")
	anon := get(recommend.Request{K: 8})
	basketAnon := get(recommend.Request{Basket: []string{"p01"}, K: 8})
	first := day(1000)
	for _, l := range st.lines {
		if l.cust == "c05" && l.t.Before(first) {
			first = l.t
		}
	}
	cases := []struct {
		name string
		a, b recommend.Request
	}{
		{"key vs id", recommend.Request{Customer: "c00", K: 8}, recommend.Request{ByID: true, CustomerID: c0, K: 8}},
		{"ByID ignores Customer", recommend.Request{ByID: true, CustomerID: c0, Customer: "c07", K: 8}, recommend.Request{Customer: "c00", K: 8}},
		{"basket vs items", recommend.Request{Basket: []string{"p01", "p02"}, K: 8}, recommend.Request{Items: []affinity.ProductID{p1, p2}, K: 8}},
		{"basket and items overlap", recommend.Request{Basket: []string{"p01"}, Items: []affinity.ProductID{p1}, K: 8}, recommend.Request{Basket: []string{"p01"}, K: 8}},
		{"duplicates count once", recommend.Request{Basket: []string{"p01", "p01", "p01"}, K: 8}, recommend.Request{Basket: []string{"p01"}, K: 8}},
		{"customer basket", recommend.Request{Customer: "c00", Basket: []string{"p01"}, K: 8}, recommend.Request{ByID: true, CustomerID: c0, Items: []affinity.ProductID{p1}, K: 8}},
		{"exclude twice", recommend.Request{K: 8, Rules: recommend.Rules{Exclude: []string{"p01", "p01"}}}, recommend.Request{K: 8, Rules: recommend.Rules{Exclude: []string{"p01"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, keys(get(c.a)), keys(get(c.b)))
		})
	}
	t.Run("anonymous forms", func(t *testing.T) {
		for _, req := range []recommend.Request{
			{Customer: "nobody", K: 8},
			{ByID: true, CustomerID: affinity.CustomerID(st.h.NumCustomers()), K: 8},
			{ByID: true, CustomerID: affinity.NoCustomer, K: 8},
			{ByID: true, CustomerID: math.MaxUint32 - 1, K: 8},
			{Customer: "c05", AsOf: first.Add(-time.Second), K: 8}, // no history yet
		} {
			assert.Equal(t, keys(anon), keys(get(req)), "%+v", req)
		}
		assert.Equal(t, keys(basketAnon), keys(get(recommend.Request{Customer: "nobody", Basket: []string{"p01"}, K: 8})))
	})
	t.Run("as-of exactly at an order counts it", func(t *testing.T) {
		// the customer's first purchase, at AsOf, is excluded as bought
		var p string
		for _, l := range st.lines {
			if l.cust == "c05" && l.t.Equal(first) && l.qty > 0 {
				p = l.prod
			}
		}
		for _, r := range get(recommend.Request{Customer: "c05", AsOf: first, K: st.np}) {
			assert.NotEqual(t, p, r.Key)
		}
	})
	t.Run("repeat and dst prefix", func(t *testing.T) {
		req := recommend.Request{Customer: "c01", Basket: []string{"p03"}, K: 6, Rules: recommend.Rules{Diversity: 0.5, MaxPerCategory: 2}}
		a := get(req)
		dst := []recommend.Rec{{Key: "keep"}}
		b, err := e.Recommend(dst, req)
		require.NoError(t, err)
		require.Len(t, b, len(a)+1)
		assert.Equal(t, "keep", b[0].Key)
		assert.Equal(t, a, b[1:])
		assert.Equal(t, a, get(req))
	})
	t.Run("far future and far past as-of", func(t *testing.T) {
		for _, at := range []time.Time{day(1 << 20), time.Unix(1, 0), day(-100000)} {
			req := recommend.Request{Customer: "c02", Basket: []string{"p01"}, AsOf: at, K: 10, Segment: roaring.BitmapOf(1, 2, 3)}
			recs, err := e.Recommend(nil, req)
			require.NoError(t, err)
			advCheck(t, st, e, nil, req, recs)
		}
	})
}

// TestAdvRequestValidation checks the documented request errors: K
// outside [1, MaxK], an inconsistent rule, an unknown product; dst comes
// back unchanged.
func TestAdvRequestValidation(t *testing.T) {
	st := advGenStore(t, 5, 12, 10, false)
	e := st.engine(t, recommend.Options{})
	dst := []recommend.Rec{{Key: "x"}}
	for _, c := range []struct {
		name string
		req  recommend.Request
		err  error
	}{
		{"k0", recommend.Request{}, recommend.ErrInvalidRequest},
		{"k-1", recommend.Request{K: -1}, recommend.ErrInvalidRequest},
		{"kMax+1", recommend.Request{K: recommend.MaxK + 1}, recommend.ErrInvalidRequest},
		{"kMinInt", recommend.Request{K: math.MinInt}, recommend.ErrInvalidRequest},
		{"kMaxInt", recommend.Request{K: math.MaxInt}, recommend.ErrInvalidRequest},
		{"band", recommend.Request{K: 1, Rules: recommend.Rules{MinPrice: 20, MaxPrice: 10}}, recommend.ErrInvalidRequest},
		{"diversity NaN", recommend.Request{K: 1, Rules: recommend.Rules{Diversity: math.NaN()}}, recommend.ErrInvalidRequest},
		{"diversity <0", recommend.Request{K: 1, Rules: recommend.Rules{Diversity: -0.01}}, recommend.ErrInvalidRequest},
		{"diversity >1", recommend.Request{K: 1, Rules: recommend.Rules{Diversity: 1.01}}, recommend.ErrInvalidRequest},
		{"diversity +Inf", recommend.Request{K: 1, Rules: recommend.Rules{Diversity: math.Inf(1)}}, recommend.ErrInvalidRequest},
		{"cap <0", recommend.Request{K: 1, Rules: recommend.Rules{MaxPerCategory: -1}}, recommend.ErrInvalidRequest},
		{"basket key", recommend.Request{K: 1, Basket: []string{"nope"}}, recommend.ErrUnknownProduct},
		{"item id", recommend.Request{K: 1, Items: []affinity.ProductID{affinity.ProductID(st.np)}}, recommend.ErrUnknownProduct},
		{"item max id", recommend.Request{K: 1, Items: []affinity.ProductID{math.MaxUint32}}, recommend.ErrUnknownProduct},
		{"exclude key", recommend.Request{K: 1, Rules: recommend.Rules{Exclude: []string{"nope"}}}, recommend.ErrUnknownProduct},
		{"only key", recommend.Request{K: 1, Rules: recommend.Rules{Only: []string{"nope"}}}, recommend.ErrUnknownProduct},
		{"category", recommend.Request{K: 1, Rules: recommend.Rules{Category: "Nope/Nothing"}}, recommend.ErrUnknownCategory},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.Recommend(dst, c.req)
			require.ErrorIs(t, err, c.err)
			assert.Equal(t, dst, out)
		})
	}
	t.Run("MaxK", func(t *testing.T) {
		recs, err := e.Recommend(nil, recommend.Request{K: recommend.MaxK, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		assert.Len(t, recs, st.np)
	})
}

// TestAdvOptionsValidation: NaN or infinite weights and exponents and too
// many workers are ErrInvalidOptions; MaxWorkers itself is fine.
func TestAdvOptionsValidation(t *testing.T) {
	st := advGenStore(t, 6, 10, 8, false)
	set := map[string]func(*recommend.Options, float64){
		"SequentialWeight":         func(o *recommend.Options, v float64) { o.SequentialWeight = v },
		"SubstitutePenalty":        func(o *recommend.Options, v float64) { o.SubstitutePenalty = v },
		"LiftExponent":             func(o *recommend.Options, v float64) { o.LiftExponent = v },
		"PopularityExponent":       func(o *recommend.Options, v float64) { o.PopularityExponent = v },
		"PopularityBlend":          func(o *recommend.Options, v float64) { o.PopularityBlend = v },
		"BasketPopularityExponent": func(o *recommend.Options, v float64) { o.BasketPopularityExponent = v },
		"BasketPopularityBlend":    func(o *recommend.Options, v float64) { o.BasketPopularityBlend = v },
		"Personalization":          func(o *recommend.Options, v float64) { o.Personalization = v },
		"ViewWeight":               func(o *recommend.Options, v float64) { o.ViewWeight = v },
		"CartWeight":               func(o *recommend.Options, v float64) { o.CartWeight = v },
		"WishlistWeight":           func(o *recommend.Options, v float64) { o.WishlistWeight = v },
		"RatingWeight":             func(o *recommend.Options, v float64) { o.RatingWeight = v },
	}
	for name, f := range set {
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			t.Run(fmt.Sprint(name, v), func(t *testing.T) {
				var o recommend.Options
				f(&o, v)
				_, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), o)
				require.ErrorIs(t, err, recommend.ErrInvalidOptions)
				assert.Contains(t, err.Error(), name)
			})
		}
	}
	_, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), recommend.Options{Workers: recommend.MaxWorkers + 1})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
	_, err = recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), recommend.Options{Workers: recommend.MaxWorkers})
	require.NoError(t, err)
}

// TestAdvHostileOptions: options outside their useful range but not
// rejected must still give results that keep the documented rules
// (scores of Neighbors in [0, 1], order, eligibility), or be rejected
// with ErrInvalidOptions.
func TestAdvHostileOptions(t *testing.T) {
	st := advGenStore(t, 8, 16, 25, false)
	for _, c := range []struct {
		name string
		o    recommend.Options
	}{
		{"negative half-lives", recommend.Options{HalfLife: -time.Hour, PopularHalfLife: -time.Hour}},
		{"huge half-lives", recommend.Options{HalfLife: math.MaxInt64, PopularHalfLife: math.MaxInt64}},
		{"tiny half-lives", recommend.Options{HalfLife: 1, PopularHalfLife: 1}},
		{"negative exponents", recommend.Options{PopularityExponent: -1e6, BasketPopularityExponent: -1e6, LiftExponent: -1e6}},
		{"huge weights", recommend.Options{SequentialWeight: 1e300, SubstitutePenalty: 1e300}},
		{"negative penalty", recommend.Options{SubstitutePenalty: -1}},
		{"huge depths", recommend.Options{SubstituteDepth: math.MaxInt, ProfileDepth: math.MaxInt}},
		{"negative depths", recommend.Options{SubstituteDepth: -5, ProfileDepth: -5}},
		{"huge history", recommend.Options{MaxHistory: math.MaxInt, MaxEdges: math.MaxInt32}},
		{"one edge", recommend.Options{MaxEdges: 1, MaxHistory: 1}},
		{"workers", recommend.Options{Workers: math.MinInt}},
		{"personalization 1", recommend.Options{Personalization: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), c.o)
			if err != nil {
				require.ErrorIs(t, err, recommend.ErrInvalidOptions)
				return
			}
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 15 {
				req := advRandRequest(r, st)
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					recs, err := e.Recommend(nil, req)
					require.NoError(t, err)
					advCheck(t, st, e, nil, req, recs)
				})
			}
		})
	}
}

// TestAdvPopularityBlendAboveOne: a blend above 1 has no meaning as an
// interpolation; it must be rejected or still give scores in [0, 1].
func TestAdvPopularityBlendAboveOne(t *testing.T) {
	st := advGenStore(t, 8, 16, 25, false)
	e, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(),
		recommend.Options{PopularityBlend: 3, BasketPopularityBlend: 3})
	if err != nil {
		require.ErrorIs(t, err, recommend.ErrInvalidOptions)
		return
	}
	for _, req := range []recommend.Request{
		{Basket: []string{"p01"}, K: 10},
		{Customer: "c03", K: 10},
	} {
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		advCheck(t, st, e, nil, req, recs)
	}
}

// TestAdvMaxPerCategoryMultiCategory: a product in several categories
// counts toward the cap of each.
func TestAdvMaxPerCategoryMultiCategory(t *testing.T) {
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "x", Categories: []string{"A/x", "B/y"}, InStock: true},
		{Key: "y", Categories: []string{"B/y"}, InStock: true},
		{Key: "z", Categories: []string{"C/z"}, InStock: true},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	for i, p := range []string{"x", "x", "x", "y", "y", "z"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", i), Product: p, Order: fmt.Sprint("o", i), Time: day(i), Quantity: 1, Price: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	e := tinyEngine(t, h, recommend.Options{})
	recs, err := e.Recommend(nil, recommend.Request{K: 3, Rules: recommend.Rules{MaxPerCategory: 1}})
	require.NoError(t, err)
	// doc: "MaxPerCategory caps the results per category at CategoryDepth
	// (0 = the products' assigned categories)": x and y are both in B/y.
	assert.False(t, slices.Contains(keys(recs), "x") && slices.Contains(keys(recs), "y"), "B/y holds %v", keys(recs))
}

// TestAdvMaxEdgesHuge: a huge MaxEdges (math.MaxInt, whose per-anchor
// share could overflow a float → int conversion) bounds nothing, as −1.
func TestAdvMaxEdgesHuge(t *testing.T) {
	// one anchor with many neighbours: every product bought with hub
	var b affinity.Builder
	const n = 30
	for p := range n {
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%02d", p), InStock: true}))
	}
	require.NoError(t, b.AddProduct(affinity.Product{Key: "hub", InStock: true}))
	for p := range n {
		for k := range p + 1 {
			o := fmt.Sprintf("o%d-%d", p, k)
			for _, q := range []string{"hub", fmt.Sprintf("p%02d", p)} {
				require.NoError(t, b.Add(affinity.Purchase{Customer: o, Product: q, Order: o, Time: day(p), Quantity: 1, Price: 1}))
			}
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1, K: 50})
	require.NoError(t, err)
	req := recommend.Request{Basket: []string{"hub"}, K: 20}
	var got [2][]recommend.Rec
	for i, me := range []int{-1, math.MaxInt} {
		e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{MaxEdges: me, BasketPopularityBlend: -1})
		require.NoError(t, err)
		got[i], err = e.Recommend(nil, req)
		require.NoError(t, err)
	}
	nbrs := func(recs []recommend.Rec) (k int) {
		for _, r := range recs {
			if r.Source == recommend.Neighbors {
				k++
			}
		}
		return k
	}
	assert.Equal(t, 20, nbrs(got[0]), "no bound: every neighbour")
	assert.Equal(t, keys(got[0]), keys(got[1]), "MaxEdges = MaxInt bounds nothing either")
}

// TestAdvSetStock: nil means every product in stock (even those the
// catalog marks out of stock), ids outside the catalog are ignored, the
// bitmap is copied, and results follow the set.
func TestAdvSetStock(t *testing.T) {
	st := advGenStore(t, 9, 12, 20, false)
	e := st.engine(t, recommend.Options{})
	e.SetStock(nil)
	for p := range st.np {
		assert.True(t, e.InStock(affinity.ProductID(p)))
	}
	recs, err := e.Recommend(nil, recommend.Request{K: st.np})
	require.NoError(t, err)
	assert.Len(t, recs, st.np)

	in := roaring.BitmapOf(1, 3, uint32(st.np), uint32(st.np)+70, math.MaxUint32)
	e.SetStock(in)
	in.Add(5) // the engine keeps its copy
	for p := range st.np + 2 {
		assert.Equal(t, p == 1 || p == 3, e.InStock(affinity.ProductID(p)), "product %d", p)
	}
	for _, req := range []recommend.Request{{K: 5}, {Customer: "c01", K: 5}, {Basket: []string{"p00"}, K: 5}} {
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		advCheck(t, st, e, nil, req, recs)
	}
	e.SetStock(roaring.New())
	recs, err = e.Recommend(nil, recommend.Request{K: 5})
	require.NoError(t, err)
	assert.Empty(t, recs)
	recs, err = e.Recommend(nil, recommend.Request{K: 5, Rules: recommend.Rules{IncludeOutOfStock: true}})
	require.NoError(t, err)
	assert.Len(t, recs, 5)
}

// TestAdvHugeExponents: an exponent no score can carry is refused
// (MaxPopularityExponent), and the scores of what New takes are never NaN.
func TestAdvHugeExponents(t *testing.T) {
	st := advGenStore(t, 8, 16, 25, false)
	for _, c := range []struct {
		name string
		o    recommend.Options
	}{
		{"PopularityExponent", recommend.Options{PopularityExponent: 1e6}},
		{"BasketPopularityExponent", recommend.Options{BasketPopularityExponent: 1e6}},
		{"LiftExponent", recommend.Options{LiftExponent: 1e6}},
		{"PopularityExponent 200", recommend.Options{PopularityExponent: 200}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := recommend.New(context.Background(), st.h, st.nb, st.h.Latest(), c.o)
			if err != nil {
				require.ErrorIs(t, err, recommend.ErrInvalidOptions)
				return
			}
			for _, req := range []recommend.Request{
				{Customer: "c03", K: 6},
				{Basket: []string{"p01", "p02"}, K: 6},
				{Customer: "c04", Basket: []string{"p00"}, K: 6},
			} {
				recs, err := e.Recommend(nil, req)
				require.NoError(t, err)
				for _, r := range recs {
					assert.False(t, math.IsNaN(r.Score), "customer %q basket %v: %s (%v) has a NaN score", req.Customer, req.Basket, r.Key, r.Source)
				}
			}
		})
	}
}

// TestAdvMultiCategoryRules checks eligibility, substitutes, order and
// reasons on stores whose products may belong to two categories (caps
// are TestAdvMaxPerCategoryMultiCategory's).
func TestAdvMultiCategoryRules(t *testing.T) {
	for seed := range testdata.Scale(20, 2) {
		st := advGenStore(t, uint64(seed)+100, 15, 25, true)
		e := st.engine(t, recommend.Options{})
		r := rand.New(rand.NewPCG(uint64(seed), 8))
		for i := range testdata.Scale(100, 20) {
			req := advRandRequest(r, st)
			req.Rules.MaxPerCategory = 0
			t.Run(fmt.Sprintf("seed%d/%d", seed, i), func(t *testing.T) {
				recs, err := e.Recommend(nil, req)
				require.NoError(t, err)
				advCheck(t, st, e, nil, req, recs)
			})
		}
	}
}

// TestAdvConcurrentSetStock: requests racing with SetStock each see one
// whole stock set (run under -race).
func TestAdvConcurrentSetStock(t *testing.T) {
	st := advGenStore(t, 11, 12, 20, false)
	e := st.engine(t, recommend.Options{})
	odd, even := roaring.New(), roaring.New()
	for p := range st.np {
		if p%2 == 1 {
			odd.Add(uint32(p))
		} else {
			even.Add(uint32(p))
		}
	}
	e.SetStock(odd)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			e.SetStock([]*roaring.Bitmap{odd, even}[i%2])
		}
	}()
	mixed := 0
	for range 200 {
		recs, err := e.Recommend(nil, recommend.Request{K: st.np})
		require.NoError(t, err)
		par := map[int]bool{}
		for _, r := range recs {
			par[int(r.Product)%2] = true
		}
		if len(par) > 1 {
			mixed++
		}
	}
	<-done
	assert.Zero(t, mixed, "a request saw two stock sets")
}

// TestAdvRebuyRules: a due consumable comes back as a Rebuy with score 1
// and one Again reason, from the moment its interval has passed, unless
// the rules (exclusion, basket, stock) keep it out.
func TestAdvRebuyRules(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{Consumables: []recommend.Consumable{{Category: "Grocery", Interval: 5 * 24 * time.Hour}}})
	// k00 bought coffee on days 0 and 30
	find := func(recs []recommend.Rec) *recommend.Rec {
		for i := range recs {
			if recs[i].Key == "coffee" {
				return &recs[i]
			}
		}
		return nil
	}
	get := func(req recommend.Request) []recommend.Rec {
		t.Helper()
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		return recs
	}
	due := recommend.Request{Customer: "k00", K: 5, AsOf: day(35)}
	r := find(get(due))
	require.NotNil(t, r, "due exactly at its interval")
	assert.Equal(t, recommend.Rebuy, r.Source)
	assert.InDelta(t, 1, r.Score, 1e-6)
	require.Len(t, r.Reasons(), 1)
	assert.Equal(t, recommend.Again, r.Reasons()[0].Kind)
	assert.Equal(t, uint32(2), r.Reasons()[0].Count)

	notYet := due
	notYet.AsOf = day(35).Add(-time.Second)
	assert.Nil(t, find(get(notYet)), "not due a second before its interval")

	bk := due
	bk.Basket = []string{"coffee"}
	assert.Nil(t, find(get(bk)), "in the basket")
	cat := h.Catalog()
	coffee, _ := cat.LookupProduct("coffee")
	all := roaring.New()
	all.AddRange(0, uint64(cat.NumProducts()))
	all.Remove(uint32(coffee))
	e.SetStock(all)
	assert.Nil(t, find(get(due)), "out of stock")
	oos := due
	oos.Rules.IncludeOutOfStock = true
	assert.NotNil(t, find(get(oos)), "out of stock allowed")
}

// TestAdvSegmentEdges: segment requests with an empty segment, ids
// outside the History and as-of times around the data keep every rule.
func TestAdvSegmentEdges(t *testing.T) {
	st := advGenStore(t, 12, 14, 25, false)
	e := st.engine(t, recommend.Options{})
	for _, c := range []struct {
		name string
		seg  *roaring.Bitmap
		at   time.Time
	}{
		{"empty", roaring.New(), time.Time{}},
		{"outside", roaring.BitmapOf(1000, math.MaxUint32), time.Time{}},
		{"mixed", roaring.BitmapOf(0, 3, 1000), time.Time{}},
		{"before data", roaring.BitmapOf(0, 3, 5), day(-10)},
		{"far future", roaring.BitmapOf(0, 3, 5), day(1 << 20)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, req := range []recommend.Request{
				{Segment: c.seg, AsOf: c.at, K: 10},
				{Customer: "c01", Segment: c.seg, AsOf: c.at, K: 10},
			} {
				recs, err := e.Recommend(nil, req)
				require.NoError(t, err)
				advCheck(t, st, e, nil, req, recs)
			}
		})
	}
}

// TestAdvExcludedDueConsumable: a consumable due again that the rules
// exclude is returned by no path, the popular fallback included.
func TestAdvExcludedDueConsumable(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{Consumables: []recommend.Consumable{{Category: "Grocery", Interval: 5 * 24 * time.Hour}}})
	// k00 bought coffee on days 0 and 30: due from day 35
	recs, err := e.Recommend(nil, recommend.Request{Customer: "k00", K: 5, AsOf: day(35), Rules: recommend.Rules{Exclude: []string{"coffee"}}})
	require.NoError(t, err)
	assert.NotContains(t, keys(recs), "coffee", "Rules.Exclude: shop product ids never to return")
}
