package recommend_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// Adversarial tests of the business rules (Rules, Options.Exclude,
// consumables) and of Renew, against naive models derived from the
// package documentation only.

var advRuleDay0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func advRuleDay(n int) time.Time { return advRuleDay0.Add(time.Duration(n) * 24 * time.Hour) }

// advRuleCats: two levels, one top-level-only category, two consumable
// subtrees (Food at the top level, Sport/Run below it).
var advRuleCats = []string{"Home/Kitchen", "Home/Garden", "Sport/Run", "Sport/Swim", "Toys", "Food/Coffee", "Food/Tea"}

// advRuleConsumables marks Food (any depth below it) and Sport/Run.
var advRuleConsumables = []recommend.Consumable{
	{Category: "Food", Interval: 20 * 24 * time.Hour},
	{Category: "Sport/Run", Interval: 45 * 24 * time.Hour},
}

type advRuleLine struct {
	c, p string
	t    time.Time
	q    int
}

type advRuleWorld struct {
	h     *affinity.History
	nb    *similarity.Index
	lines []advRuleLine
	cust  []string
	np    int
}

// advRuleGen builds a small random shop: products with repeated prices
// (some unknown, 0), some out of stock, some without a category, some in
// two categories (never two consumable ones), customers with a few orders
// over 90 days, a few returns and anonymous orders.
func advRuleGen(t testing.TB, seed uint64, np, nc int) *advRuleWorld {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b affinity.Builder
	for p := range np {
		var cats []string
		switch x := r.IntN(12); {
		case x == 0:
		case x <= 2: // a second category that is never a consumable
			cats = []string{advRuleCats[r.IntN(len(advRuleCats))], advRuleCats[r.IntN(2)], "Toys"}
		default:
			cats = []string{advRuleCats[r.IntN(len(advRuleCats))]}
		}
		price := affinity.Money(r.IntN(6)) * 10000 // 0 (unknown) to 5.00, repeated
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%02d", p), Categories: cats, Price: price, InStock: r.IntN(6) != 0}))
	}
	w := &advRuleWorld{np: np}
	add := func(c, o string, d int, p string, q int) {
		tm := advRuleDay(d)
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: tm, Quantity: int32(q), Price: 10000}))
		if c != "" {
			w.lines = append(w.lines, advRuleLine{c, p, tm, q})
		}
	}
	pick := func() string { return fmt.Sprintf("p%02d", r.IntN(r.IntN(np-2)+1)) } // the last two never bought
	for c := range nc {
		ck := fmt.Sprintf("c%02d", c)
		w.cust = append(w.cust, ck)
		for o := range 1 + r.IntN(4) {
			d := r.IntN(90)
			for range 1 + r.IntN(4) {
				add(ck, fmt.Sprintf("%s-%d", ck, o), d, pick(), 1)
			}
		}
		if r.IntN(5) == 0 {
			add(ck, ck+"-ret", 91, pick(), -1)
		}
	}
	for o := range 4 {
		add("", fmt.Sprintf("anon%d", o), r.IntN(90), pick(), 1)
		add("", fmt.Sprintf("anon%d", o), r.IntN(90), pick(), 1)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	w.h = h
	w.nb = advRuleIndex(t, h)
	return w
}

func advRuleIndex(t testing.TB, h *affinity.History) *similarity.Index {
	t.Helper()
	ctx := context.Background()
	counts, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	return nb
}

func (w *advRuleWorld) engine(t testing.TB, o recommend.Options) *recommend.Engine {
	t.Helper()
	e, err := recommend.New(context.Background(), w.h, w.nb, w.h.Latest(), o)
	require.NoError(t, err)
	return e
}

// advRuleInterval returns the consumable interval of p (the first
// consumable whose category is one of p's categories or an ancestor of
// one), false when p is no consumable.
func advRuleInterval(cat *affinity.Catalog, cons []recommend.Consumable, p affinity.ProductID) (time.Duration, bool) {
	for _, c := range cons {
		id, ok := cat.LookupCategory(c.Category)
		if !ok {
			continue
		}
		for _, pc := range cat.Categories(p) {
			if cat.Ancestor(pc, cat.Depth(id)) == id {
				return c.Interval, true
			}
		}
	}
	return 0, false
}

// advRuleLast returns the time of c's last purchase (quantity > 0) of
// product key p at or before asOf.
func (w *advRuleWorld) last(c, p string, asOf time.Time) (time.Time, bool) {
	var last time.Time
	ok := false
	for _, l := range w.lines {
		if l.c == c && l.p == p && l.q > 0 && !l.t.After(asOf) {
			if !ok || l.t.After(last) {
				last = l.t
			}
			ok = true
		}
	}
	return last, ok
}

// advRuleCapCats returns the categories p counts toward under
// MaxPerCategory at depth (0: the assigned categories).
func advRuleCapCats(cat *affinity.Catalog, p affinity.ProductID, depth int) []affinity.CategoryID {
	var out []affinity.CategoryID
	for _, c := range cat.Categories(p) {
		if depth > 0 {
			c = cat.Ancestor(c, depth)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// advRuleNaive is what the docs say about one request.
type advRuleNaive struct {
	eligible map[affinity.ProductID]bool // may be a result of any source
	due      map[affinity.ProductID]bool // bought, consumable, due (before the other rules)
	bought   map[affinity.ProductID]bool
	inBasket map[affinity.ProductID]bool
}

// advRuleModel derives the eligible results of req from the docs: in
// stock unless IncludeOutOfStock, price in [MinPrice, MaxPrice] (zero:
// unbounded), not excluded by Options.Exclude or Rules.Exclude, not in the
// basket, no substitute (shared assigned category) of a basket product
// unless AllowSubstitutes, not bought by the customer at or before AsOf
// unless AllowRepeats or a due consumable.
func advRuleModel(w *advRuleWorld, e *recommend.Engine, o recommend.Options, req recommend.Request) advRuleNaive {
	cat := w.h.Catalog()
	asOf := req.AsOf
	if asOf.IsZero() {
		asOf = e.AsOf()
	}
	n := advRuleNaive{eligible: map[affinity.ProductID]bool{}, due: map[affinity.ProductID]bool{}, bought: map[affinity.ProductID]bool{}, inBasket: map[affinity.ProductID]bool{}}
	cust := req.Customer
	if req.ByID {
		cust = ""
		if int(req.CustomerID) < w.h.NumCustomers() {
			cust = w.h.CustomerKey(req.CustomerID)
		}
	}
	for _, k := range req.Basket {
		p, _ := cat.LookupProduct(k)
		n.inBasket[p] = true
	}
	for _, p := range req.Items {
		n.inBasket[p] = true
	}
	excl := map[affinity.ProductID]bool{}
	for _, k := range req.Rules.Exclude {
		p, _ := cat.LookupProduct(k)
		excl[p] = true
	}
	var only map[affinity.ProductID]bool // Rules.Only, nil when not given
	for _, k := range req.Rules.Only {
		if only == nil {
			only = map[affinity.ProductID]bool{}
		}
		p, _ := cat.LookupProduct(k)
		only[p] = true
	}
	// Rules.Category: one of the product's category paths is the filter
	// or below it
	inFilter := func(p affinity.ProductID) bool {
		if req.Rules.Category == "" {
			return true
		}
		for _, c := range cat.Categories(p) {
			path := cat.CategoryPath(c)
			if path == req.Rules.Category || strings.HasPrefix(path, req.Rules.Category+"/") {
				return true
			}
		}
		return false
	}
	for p := range affinity.ProductID(cat.NumProducts()) {
		key := cat.ProductKey(p)
		if cust != "" {
			if last, ok := w.last(cust, key, asOf); ok {
				n.bought[p] = true
				if iv, ok := advRuleInterval(cat, o.Consumables, p); ok && !last.Add(iv).After(asOf) {
					n.due[p] = true
				}
			}
		}
		switch {
		case o.Exclude != nil && o.Exclude.Contains(uint32(p)), excl[p], n.inBasket[p]:
			continue
		case only != nil && !only[p], !inFilter(p):
			continue
		case !req.Rules.IncludeOutOfStock && !e.InStock(p):
			continue
		case (req.Rules.MinPrice > 0 || req.Rules.MaxPrice > 0) && cat.ProductPrice(p) == 0:
			continue // no price: outside any band
		case req.Rules.MinPrice > 0 && cat.ProductPrice(p) < req.Rules.MinPrice:
			continue
		case req.Rules.MaxPrice > 0 && cat.ProductPrice(p) > req.Rules.MaxPrice:
			continue
		case n.bought[p] && !req.Rules.AllowRepeats && !n.due[p]:
			continue
		}
		if !req.Rules.AllowSubstitutes {
			sub := false
			for b := range n.inBasket {
				if o.Exclude != nil && o.Exclude.Contains(uint32(b)) {
					continue // non-merchandise: never an anchor, so no substitutes (the docs leave this open)
				}
				for _, c := range cat.Categories(b) {
					sub = sub || slices.Contains(cat.Categories(p), c)
				}
			}
			if sub {
				continue
			}
		}
		n.eligible[p] = true
	}
	return n
}

// advRuleCheck asserts every documented rule on recs, the answer to req.
// nextBasket: Repeat results may be the customer's own products.
func advRuleCheck(t *testing.T, w *advRuleWorld, e *recommend.Engine, o recommend.Options, req recommend.Request, recs []recommend.Rec) {
	t.Helper()
	cat := w.h.Catalog()
	n := advRuleModel(w, e, o, req)
	nextBasket := o.NextBasket.RepeatWeight > 0
	require.LessOrEqual(t, len(recs), req.K)
	seen := map[affinity.ProductID]bool{}
	perCat := map[affinity.CategoryID]int{}
	for i, r := range recs {
		assert.False(t, seen[r.Product], "duplicate %s", r.Key)
		seen[r.Product] = true
		assert.Equal(t, cat.ProductKey(r.Product), r.Key)
		ok := n.eligible[r.Product] || (nextBasket && r.Source == recommend.Repeat && n.bought[r.Product] && advRuleEligibleButBought(w, e, o, req, r.Product))
		assert.True(t, ok, "%s (%v, price %v, stock %v, bought %v, due %v) breaks a rule", r.Key, r.Source, cat.ProductPrice(r.Product), e.InStock(r.Product), n.bought[r.Product], n.due[r.Product])
		assert.False(t, math.IsNaN(r.Score) || math.IsInf(r.Score, 0), "%s score %v", r.Key, r.Score)
		assert.True(t, r.Score >= 0 && r.Score <= 1+1e-9, "%s (%v) score %v outside [0, 1]", r.Key, r.Source, r.Score)
		if r.Source == recommend.Rebuy {
			assert.True(t, n.due[r.Product], "Rebuy %s is not a due consumable", r.Key)
			if !nextBasket { // there the explore side, Rebuy included, is scaled by 1−RepeatWeight
				assert.InDelta(t, 1, r.Score, 1e-6, "a Rebuy has score 1")
			}
			if assert.Len(t, r.Reasons(), 1) {
				assert.Equal(t, recommend.Again, r.Reasons()[0].Kind)
			}
		}
		if r.Source == recommend.Repeat {
			assert.True(t, nextBasket && n.bought[r.Product], "Repeat %s outside next-basket mode or never bought", r.Key)
		}
		for _, rs := range r.Reasons() {
			if rs.Kind.Pair() {
				assert.False(t, o.Exclude != nil && o.Exclude.Contains(uint32(rs.Product)), "excluded %d is a reason of %s", rs.Product, r.Key)
			}
		}
		if req.Rules.MaxPerCategory > 0 {
			for _, c := range advRuleCapCats(cat, r.Product, req.Rules.CategoryDepth) {
				perCat[c]++
				assert.LessOrEqual(t, perCat[c], req.Rules.MaxPerCategory, "category %s over its cap at %s", cat.CategoryPath(c), r.Key)
			}
		}
		if i == 0 {
			continue
		}
		// order: tiers, then score within a source (Rebuy and Neighbors
		// share the blended score; MMR reorders Neighbors)
		prev := recs[i-1]
		fb := func(s recommend.Source) bool { return s == recommend.SegmentPopular || s == recommend.Popular }
		if prev.Source == recommend.SegmentPopular {
			assert.True(t, r.Source == recommend.SegmentPopular || r.Source == recommend.Popular, "%s (%v) after a SegmentPopular", r.Key, r.Source)
		}
		same := prev.Source == r.Source || (!fb(prev.Source) && !fb(r.Source) && prev.Source != recommend.Repeat && r.Source != recommend.Repeat)
		anchored := req.Customer != "" || req.ByID || len(req.Basket) > 0 || len(req.Items) > 0
		if prev.Source == recommend.Popular && r.Source == recommend.Popular && anchored {
			same = false // a blend-placed Popular may precede a more popular fallback
		}
		if same && req.Rules.Diversity == 0 && !nextBasket {
			assert.True(t, prev.Score > r.Score || (prev.Score == r.Score && prev.Product < r.Product),
				"%s (%v %v) before %s (%v %v)", prev.Key, prev.Source, prev.Score, r.Key, r.Source, r.Score)
		}
	}
	// a due consumable that every rule lets through has score 1: it ranks
	// before any Neighbors result below 1
	if req.Rules.MaxPerCategory == 0 && req.Rules.Diversity == 0 && !nextBasket {
		var rebuys int
		for p := range n.due {
			if n.eligible[p] {
				rebuys++
			}
		}
		got := 0
		for _, r := range recs {
			if r.Source == recommend.Rebuy {
				got++
			}
		}
		assert.Equal(t, min(rebuys, req.K), got, "every eligible due consumable is a Rebuy, first")
	}
	// K results whenever the catalog (and the caps) leave K eligible
	if !nextBasket && !req.Rules.AllowRepeats {
		room := 0
		used := map[affinity.CategoryID]int{}
		multi := false
		for p := range affinity.ProductID(cat.NumProducts()) {
			if !n.eligible[p] {
				continue
			}
			cs := advRuleCapCats(cat, p, req.Rules.CategoryDepth)
			if len(cs) > 1 {
				multi = true
			}
			if req.Rules.MaxPerCategory == 0 || len(cs) == 0 {
				room++
			} else if len(cs) == 1 && used[cs[0]] < req.Rules.MaxPerCategory {
				used[cs[0]]++
				room++
			}
		}
		if req.Rules.MaxPerCategory == 0 || !multi {
			assert.Equal(t, min(req.K, room), len(recs), "K results whenever the rules leave K eligible products (%d)", room)
		}
	}
}

// advRuleEligibleButBought reports whether p, bought by the customer, is
// eligible under every rule but the repeat one (next-basket Repeat).
func advRuleEligibleButBought(w *advRuleWorld, e *recommend.Engine, o recommend.Options, req recommend.Request, p affinity.ProductID) bool {
	r := req
	r.Rules.AllowRepeats = true
	return advRuleModel(w, e, o, r).eligible[p]
}

// advRuleRandRequest draws a request with random rules.
func advRuleRandRequest(r *rand.Rand, w *advRuleWorld) recommend.Request {
	req := recommend.Request{K: 1 + r.IntN(12)}
	if r.IntN(8) == 0 {
		req.K = recommend.MaxK
	}
	switch r.IntN(5) {
	case 0:
	case 1:
		req.Customer = w.cust[r.IntN(len(w.cust))]
	case 2:
		req.CustomerID, req.ByID = affinity.CustomerID(r.IntN(len(w.cust))), true
	default:
		req.Customer = w.cust[r.IntN(len(w.cust))]
		for range 1 + r.IntN(2) {
			req.Basket = append(req.Basket, fmt.Sprintf("p%02d", r.IntN(w.np)))
		}
	}
	if r.IntN(4) == 0 {
		req.AsOf = advRuleDay(20 + r.IntN(100))
	}
	if r.IntN(5) == 0 {
		req.Segment = roaring.BitmapOf(uint32(r.IntN(len(w.cust))), uint32(r.IntN(len(w.cust))))
	}
	ru := &req.Rules
	for range r.IntN(3) {
		ru.Exclude = append(ru.Exclude, fmt.Sprintf("p%02d", r.IntN(w.np)))
	}
	ru.IncludeOutOfStock = r.IntN(4) == 0
	ru.AllowRepeats = r.IntN(6) == 0
	ru.AllowSubstitutes = r.IntN(4) == 0
	if r.IntN(3) == 0 {
		ru.MinPrice = affinity.Money(r.IntN(4)) * 10000
	}
	if r.IntN(3) == 0 {
		ru.MaxPrice = ru.MinPrice + affinity.Money(r.IntN(3))*10000
	}
	if r.IntN(2) == 0 {
		ru.MaxPerCategory = 1 + r.IntN(2)
		ru.CategoryDepth = r.IntN(3)
	}
	if r.IntN(5) == 0 {
		ru.Diversity = []float64{0.3, 1}[r.IntN(2)]
	}
	if r.IntN(4) == 0 {
		for range 1 + r.IntN(8) {
			ru.Only = append(ru.Only, fmt.Sprintf("p%02d", r.IntN(w.np)))
		}
	}
	if cat := w.h.Catalog(); r.IntN(4) == 0 && cat.NumCategories() > 0 {
		ru.Category = cat.CategoryPath(affinity.CategoryID(r.IntN(cat.NumCategories())))
	}
	return req
}

// TestAdvRuleInvariants checks every documented rule on random requests
// over random small shops with consumables, with and without next-basket
// mode and non-merchandise exclusions.
func TestAdvRuleInvariants(t *testing.T) {
	for seed := range uint64(3) {
		w := advRuleGen(t, seed, 24, 14)
		r := rand.New(rand.NewPCG(seed, 1))
		for vi, o := range []recommend.Options{
			{Consumables: advRuleConsumables},
			{Consumables: advRuleConsumables, Exclude: roaring.BitmapOf(1, 3, 5), Segments: []*roaring.Bitmap{roaring.BitmapOf(0, 2, 4, 6, 8)}},
			{Consumables: advRuleConsumables, NextBasket: recommend.NextBasket{RepeatWeight: 0.6}},
		} {
			e := w.engine(t, o)
			for i := range 25 {
				req := advRuleRandRequest(r, w)
				recs, err := e.Recommend(nil, req)
				if req.Rules.MaxPrice > 0 && req.Rules.MinPrice > req.Rules.MaxPrice {
					require.ErrorIs(t, err, recommend.ErrInvalidRequest)
					continue
				}
				require.NoError(t, err, "%+v", req)
				t.Run(fmt.Sprintf("seed%d/opt%d/%d", seed, vi, i), func(t *testing.T) {
					if advRuleCheck(t, w, e, o, req, recs); t.Failed() {
						t.Logf("request %+v\nrecs %v", req, advRuleDump(recs))
					}
				})
			}
		}
	}
}

// advRuleFixed is a hand-made shop whose answers the docs fix exactly:
// every product has a known price, customer k bought coffee (a
// consumable) on day 0 and a mug on day 1; day 40 is the latest.
func advRuleFixed(t testing.TB) (*affinity.History, *similarity.Index) {
	t.Helper()
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "coffee", Categories: []string{"Food/Coffee"}, Price: 50000, InStock: true},
		{Key: "coffee2", Categories: []string{"Food/Coffee"}, Price: 60000, InStock: true},
		{Key: "tea", Categories: []string{"Food/Tea"}, Price: 30000, InStock: true},
		{Key: "mug", Categories: []string{"Home/Kitchen"}, Price: 30000, InStock: true},
		{Key: "pot", Categories: []string{"Home/Kitchen"}, Price: 70000, InStock: true},
		{Key: "spade", Categories: []string{"Home/Garden"}, Price: 0, InStock: true}, // price unknown
		{Key: "ball", Categories: []string{"Toys"}, Price: 10000, InStock: true},
		{Key: "free", Price: 20000, InStock: true}, // no category
	} {
		require.NoError(t, b.AddProduct(p))
	}
	add := func(c, o string, d int, ps ...string) {
		for _, p := range ps {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: advRuleDay(d), Quantity: 1, Price: 10000}))
		}
	}
	add("k", "k1", 0, "coffee")
	add("k", "k2", 1, "mug")
	for i := range 6 {
		c := fmt.Sprint("x", i)
		add(c, c, 2+i, "coffee", "mug", "tea", "pot", "spade", "ball", "free", "coffee2")
	}
	add("z", "z1", 40, "ball")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h, advRuleIndex(t, h)
}

func advRuleKeys(recs []recommend.Rec) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key
	}
	return out
}

// TestAdvRulePriceBand: the band bounds the list price inclusively at
// both ends; zero means unbounded; MinPrice alone is no inconsistent
// band; a product of unknown price (0) is outside any band.
func TestAdvRulePriceBand(t *testing.T) {
	h, nb := advRuleFixed(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	cases := []struct {
		name     string
		min, max affinity.Money
		want     []string // the set, any order
	}{
		{"exact", 30000, 30000, []string{"mug", "tea"}},
		{"min only", 60000, 0, []string{"coffee2", "pot"}},
		{"max inclusive", 0, 20000, []string{"ball", "free"}}, // not spade: no price
		{"band", 20000, 50000, []string{"coffee", "free", "mug", "tea"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, err := e.Recommend(nil, recommend.Request{K: 20, Rules: recommend.Rules{MinPrice: c.min, MaxPrice: c.max}})
			require.NoError(t, err)
			got := advRuleKeys(recs)
			slices.Sort(got)
			assert.Equal(t, c.want, got)
		})
	}
	t.Run("negative bounds", func(t *testing.T) {
		for _, ru := range []recommend.Rules{{MinPrice: -1}, {MaxPrice: -1}, {MinPrice: -5, MaxPrice: -1}} {
			recs, err := e.Recommend(nil, recommend.Request{K: 20, Rules: ru})
			if err != nil {
				assert.ErrorIs(t, err, recommend.ErrInvalidRequest)
				continue
			}
			for _, r := range recs {
				p := h.Catalog().ProductPrice(r.Product)
				assert.True(t, (ru.MinPrice <= 0 || p >= ru.MinPrice) && (ru.MaxPrice <= 0 || p <= ru.MaxPrice), "%+v: %s at %v", ru, r.Key, p)
			}
		}
	})
}

// TestAdvRuleCategoryDepth: MaxPerCategory counts at CategoryDepth —
// depth 1 caps Home and Food as wholes; a category shallower than the
// depth (Toys, depth 1, at CategoryDepth 2) counts as itself; products
// without a category are not capped; fallbacks obey the cap too.
func TestAdvRuleCategoryDepth(t *testing.T) {
	h, nb := advRuleFixed(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	cat := h.Catalog()
	top := func(recs []recommend.Rec, depth int) map[string]int {
		m := map[string]int{}
		for _, r := range recs {
			for _, c := range advRuleCapCats(cat, r.Product, depth) {
				m[cat.CategoryPath(c)]++
			}
		}
		return m
	}
	for _, req := range []recommend.Request{{K: 20}, {K: 20, Basket: []string{"ball"}}, {K: 20, Customer: "z"}, {K: 20, Customer: "k"}} {
		for depth := range 4 {
			for _, cap := range []int{1, 2} {
				req := req
				req.Rules = recommend.Rules{MaxPerCategory: cap, CategoryDepth: depth}
				recs, err := e.Recommend(nil, req)
				require.NoError(t, err)
				m := top(recs, depth)
				for c, n := range m {
					assert.LessOrEqual(t, n, cap, "%+v: %s holds %d", req, c, n)
				}
				assert.Contains(t, advRuleKeys(recs), "free", "%+v: a product without a category is not capped", req)
				// room: at depth 1 Home, Food, Toys hold cap each; deeper,
				// Kitchen, Garden, Coffee, Tea, Toys
				n := 0
				elig := advRuleModel(&advRuleWorld{h: h, lines: advRuleFixedLines()}, e, recommend.Options{}, req).eligible
				used := map[affinity.CategoryID]int{}
				for p := range elig {
					cs := advRuleCapCats(cat, p, depth)
					if len(cs) == 0 || used[cs[0]] < cap {
						n++
						if len(cs) > 0 {
							used[cs[0]]++
						}
					}
				}
				assert.Len(t, recs, n, "%+v: %v", req, advRuleKeys(recs))
			}
		}
	}
}

// advRuleFixedLines are the customer lines of advRuleFixed.
func advRuleFixedLines() []advRuleLine {
	out := []advRuleLine{{"k", "coffee", advRuleDay(0), 1}, {"k", "mug", advRuleDay(1), 1}, {"z", "ball", advRuleDay(40), 1}}
	for i := range 6 {
		for _, p := range []string{"coffee", "mug", "tea", "pot", "spade", "ball", "free", "coffee2"} {
			out = append(out, advRuleLine{fmt.Sprint("x", i), p, advRuleDay(2 + i), 1})
		}
	}
	return out
}

// TestAdvRuleHostileRules: rules outside their meaningful range (NaN,
// negative or >1 diversity, negative caps and depths, absurd depths) are
// refused with ErrInvalidRequest or give results that keep every rule;
// never a panic.
func TestAdvRuleHostileRules(t *testing.T) {
	w := advRuleGen(t, 11, 20, 10)
	o := recommend.Options{Consumables: advRuleConsumables}
	e := w.engine(t, o)
	for _, ru := range []recommend.Rules{
		{Diversity: math.NaN()},
		{Diversity: math.Inf(1)},
		{Diversity: -0.5},
		{Diversity: 2},
		{MaxPerCategory: -1},
		{MaxPerCategory: 1, CategoryDepth: -3},
		{MaxPerCategory: 1, CategoryDepth: 1000},
		{MaxPerCategory: math.MaxInt},
		{MinPrice: math.MaxInt64},
		{Exclude: []string{"p00", "p00", "p00"}},
	} {
		for _, req := range []recommend.Request{{K: 8}, {K: 8, Customer: "c01"}, {K: 8, Basket: []string{"p02"}}} {
			req.Rules = ru
			name := fmt.Sprintf("%+v", req.Rules)
			t.Run(name, func(t *testing.T) {
				var recs []recommend.Rec
				var err error
				require.NotPanics(t, func() { recs, err = e.Recommend(nil, req) })
				if err != nil {
					assert.ErrorIs(t, err, recommend.ErrInvalidRequest)
					return
				}
				check := req
				check.Rules.Diversity = 0 // MMR reorders
				if ru.Diversity != 0 {
					check.Rules.Diversity = 1
				}
				if ru.MaxPerCategory < 0 {
					check.Rules.MaxPerCategory = 0
				}
				check.Rules.CategoryDepth = max(check.Rules.CategoryDepth, 0)
				advRuleCheck(t, w, e, o, check, recs)
			})
		}
	}
}

// TestAdvRuleConsumables: a consumable listed at the top level covers its
// subtree; due from exactly Interval after the last purchase as of the
// request's AsOf; not a Rebuy when a basket product is its substitute;
// inside a price band or a cap like any result; an unknown consumable
// category or a non-positive interval does not panic.
func TestAdvRuleConsumables(t *testing.T) {
	h, nb := advRuleFixed(t)
	ctx := context.Background()
	o := recommend.Options{Consumables: []recommend.Consumable{{Category: "Food", Interval: 10 * 24 * time.Hour}}}
	e, err := recommend.New(ctx, h, nb, h.Latest(), o)
	require.NoError(t, err)
	get := func(req recommend.Request) []recommend.Rec {
		t.Helper()
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		return recs
	}
	src := func(recs []recommend.Rec, key string) recommend.Source {
		for _, r := range recs {
			if r.Key == key {
				return r.Source
			}
		}
		return 0
	}
	// k bought coffee on day 0: due from day 10 (Food covers Food/Coffee)
	assert.Equal(t, recommend.Rebuy, src(get(recommend.Request{Customer: "k", K: 3}), "coffee"), "due at the latest day")
	assert.Equal(t, recommend.Rebuy, src(get(recommend.Request{Customer: "k", K: 3, AsOf: advRuleDay(10)}), "coffee"), "due exactly at the interval")
	assert.Zero(t, src(get(recommend.Request{Customer: "k", K: 8, AsOf: advRuleDay(10).Add(-time.Second)}), "coffee"), "not yet due")
	first := get(recommend.Request{Customer: "k", K: 3})
	require.NotEmpty(t, first)
	assert.Equal(t, "coffee", first[0].Key, "a Rebuy (score 1) ranks first")
	if rs := first[0].Reasons(); assert.Len(t, rs, 1) {
		// Again: Count the earlier purchases, Measure the days since the last
		assert.Equal(t, recommend.Again, rs[0].Kind)
		assert.Equal(t, uint32(1), rs[0].Count)
		assert.InDelta(t, 40, rs[0].Measure, 1e-3)
	}

	// a basket with coffee2 makes coffee a substitute of the cart
	assert.NotContains(t, advRuleKeys(get(recommend.Request{Customer: "k", Basket: []string{"coffee2"}, K: 8})), "coffee",
		"basket requests never offer a substitute of a basket product")
	// price band and cap
	assert.NotContains(t, advRuleKeys(get(recommend.Request{Customer: "k", K: 8, Rules: recommend.Rules{MaxPrice: 40000}})), "coffee", "above MaxPrice")
	capped := get(recommend.Request{Customer: "k", K: 8, Rules: recommend.Rules{MaxPerCategory: 1, CategoryDepth: 1}})
	food := 0
	for _, r := range capped {
		if c := h.Catalog().Categories(r.Product); len(c) > 0 && h.Catalog().CategoryPath(h.Catalog().Ancestor(c[0], 1)) == "Food" {
			food++
		}
	}
	assert.LessOrEqual(t, food, 1, "Food over its cap: %v", advRuleKeys(capped))
	// AllowRepeats: the mug (not consumable) comes back, not as a Rebuy
	rep := get(recommend.Request{Customer: "k", K: 12, Rules: recommend.Rules{AllowRepeats: true}})
	assert.NotEqual(t, recommend.Rebuy, src(rep, "mug"), "only consumables are re-buys")
	assert.Equal(t, recommend.Rebuy, src(rep, "coffee"), "a due consumable stays a Rebuy with AllowRepeats")

	for _, cons := range [][]recommend.Consumable{
		{{Category: "No/Such", Interval: time.Hour}},
		{{Category: "", Interval: time.Hour}},
		{{Category: "Food", Interval: 0}},
		{{Category: "Food", Interval: -time.Hour}},
		{{Category: "Food", Interval: math.MaxInt64}},
	} {
		t.Run(fmt.Sprintf("%+v", cons), func(t *testing.T) {
			var e2 *recommend.Engine
			var err error
			require.NotPanics(t, func() { e2, err = recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Consumables: cons}) })
			if err != nil {
				t.Logf("New: %v (ErrInvalidOptions: %v)", err, errors.Is(err, recommend.ErrInvalidOptions))
				return
			}
			var recs []recommend.Rec
			require.NotPanics(t, func() { recs, err = e2.Recommend(nil, recommend.Request{Customer: "k", K: 8}) })
			require.NoError(t, err)
			w := &advRuleWorld{h: h, lines: advRuleFixedLines()}
			advRuleCheck(t, w, e2, recommend.Options{Consumables: cons}, recommend.Request{Customer: "k", K: 8}, recs)
		})
	}
}

// TestAdvRuleRecommendAllEqualsRecommend: out[c] of RecommendAll is
// Recommend's answer for customer c with the same AsOf, K, Rules and
// Segment (caps at depth, price bands, exclusions, consumables); an
// invalid request or unknown exclusion is an error of RecommendAll too.
func TestAdvRuleRecommendAllEqualsRecommend(t *testing.T) {
	w := advRuleGen(t, 21, 22, 12)
	ctx := context.Background()
	o := recommend.Options{Consumables: advRuleConsumables, Exclude: roaring.BitmapOf(2), Workers: 3}
	e := w.engine(t, o)
	for i, req := range []recommend.Request{
		{K: 6, Rules: recommend.Rules{MaxPerCategory: 1, CategoryDepth: 1, MinPrice: 10000}},
		{K: 9, AsOf: advRuleDay(50), Rules: recommend.Rules{Exclude: []string{"p03", "p04"}, MaxPrice: 30000, IncludeOutOfStock: true}},
		{K: 4, Segment: roaring.BitmapOf(1, 2, 3), Rules: recommend.Rules{Diversity: 0.5, MaxPerCategory: 2}},
	} {
		all, err := e.RecommendAll(ctx, req)
		require.NoError(t, err)
		require.Len(t, all, w.h.NumCustomers())
		for c := range all {
			r := req
			r.CustomerID, r.ByID = affinity.CustomerID(c), true
			one, err := e.Recommend(nil, r)
			require.NoError(t, err)
			assert.Equal(t, one, all[c], "request %d customer %d", i, c)
		}
	}
	for _, req := range []recommend.Request{
		{K: 0}, {K: recommend.MaxK + 1}, {K: 3, Rules: recommend.Rules{MinPrice: 3, MaxPrice: 2}},
	} {
		_, err := e.RecommendAll(ctx, req)
		assert.ErrorIs(t, err, recommend.ErrInvalidRequest, "%+v", req)
	}
	_, err := e.RecommendAll(ctx, recommend.Request{K: 3, Rules: recommend.Rules{Exclude: []string{"nope"}}})
	assert.ErrorIs(t, err, recommend.ErrUnknownProduct)
	// SetStock applies to RecommendAll's requests
	e.SetStock(roaring.BitmapOf(0, 1, 5, 6, 7))
	all, err := e.RecommendAll(ctx, recommend.Request{K: 10})
	require.NoError(t, err)
	for c, recs := range all {
		for _, r := range recs {
			assert.True(t, slices.Contains([]affinity.ProductID{0, 1, 5, 6, 7}, r.Product), "customer %d: %s out of stock", c, r.Key)
		}
	}
}

// TestAdvRuleExcludeEverything: rules that leave nothing give an empty
// answer, not an error; excluding a basket product is no error.
func TestAdvRuleExcludeEverything(t *testing.T) {
	h, nb := advRuleFixed(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	var all []string
	for p := range affinity.ProductID(h.Catalog().NumProducts()) {
		all = append(all, h.Catalog().ProductKey(p))
	}
	for _, req := range []recommend.Request{{K: 5}, {K: 5, Customer: "k"}, {K: 5, Basket: []string{"mug"}}, {K: 5, Segment: roaring.BitmapOf(0, 1)}} {
		req.Rules.Exclude = all
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		assert.Empty(t, recs, "%+v", req)
	}
	e.SetStock(roaring.New())
	recs, err := e.Recommend(nil, recommend.Request{K: 5, Customer: "k"})
	require.NoError(t, err)
	assert.Empty(t, recs, "nothing in stock")
	// non-merchandise: every product (and ids outside the catalog)
	ex := roaring.New()
	ex.AddRange(0, uint64(h.Catalog().NumProducts())+10)
	e2, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{Exclude: ex, Consumables: advRuleConsumables[:1]})
	require.NoError(t, err)
	for _, req := range []recommend.Request{{K: 5}, {K: 5, Customer: "k"}, {K: 5, Basket: []string{"mug"}}, {K: 5, Segment: roaring.BitmapOf(0, 1)}} {
		recs, err := e2.Recommend(nil, req)
		require.NoError(t, err)
		assert.Empty(t, recs, "%+v", req)
	}
	out, err := e2.RecommendAll(context.Background(), recommend.Request{K: 3})
	require.NoError(t, err)
	for c, recs := range out {
		assert.Empty(t, recs, "customer %d", c)
	}
}

// TestAdvRuleRenewIsNew: Renew returns what New returns — for a prev whose
// stock set was changed by SetStock (New starts from the catalog's flags),
// whose options differ (consumables, exclusions, segments), and for an
// as-of time before prev's; rules-heavy requests answer the same.
func TestAdvRuleRenewIsNew(t *testing.T) {
	w := advRuleGen(t, 31, 22, 12)
	ctx := context.Background()
	// the next History: a few new orders, one of a new customer, one of a
	// new product, and a return
	b := affinity.NewBuilder(w.h)
	require.NoError(t, b.AddProduct(affinity.Product{Key: "new", Categories: []string{"Food/Tea"}, Price: 20000, InStock: true}))
	for i, l := range []affinity.Purchase{
		{Customer: "c01", Product: "p03", Order: "r1", Time: advRuleDay(95), Quantity: 1, Price: 1},
		{Customer: "c01", Product: "new", Order: "r1", Time: advRuleDay(95), Quantity: 1, Price: 1},
		{Customer: "zz", Product: "p05", Order: "r2", Time: advRuleDay(96), Quantity: 1, Price: 1},
		{Customer: "zz", Product: "p01", Order: "r2", Time: advRuleDay(96), Quantity: 1, Price: 1},
		{Customer: "c02", Product: "p01", Order: "r3", Time: advRuleDay(96), Quantity: -1, Price: 1},
	} {
		require.NoError(t, b.Add(l), "line %d", i)
	}
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	nb2 := advRuleIndex(t, h2)
	reqs := func(h *affinity.History) []recommend.Request {
		var out []recommend.Request
		for c := range h.NumCustomers() {
			out = append(out,
				recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 6},
				recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 5, Basket: []string{"p01"},
					Rules: recommend.Rules{MaxPerCategory: 1, CategoryDepth: 1, MaxPrice: 40000, Exclude: []string{"p00"}}})
		}
		return append(out, recommend.Request{K: 8}, recommend.Request{K: 8, Segment: roaring.BitmapOf(0, 1, 2, 12)})
	}
	optA := recommend.Options{Consumables: advRuleConsumables, Segments: []*roaring.Bitmap{roaring.BitmapOf(0, 1, 2)}}
	optB := recommend.Options{Consumables: advRuleConsumables[:1], Exclude: roaring.BitmapOf(4), Segments: []*roaring.Bitmap{roaring.BitmapOf(3, 12)}}
	for _, c := range []struct {
		name       string
		prevOpts   recommend.Options
		opts       recommend.Options
		asOf       time.Time
		stock      *roaring.Bitmap
		nextStocks bool
	}{
		{name: "same options", prevOpts: optA, opts: optA, asOf: h2.Latest()},
		{name: "prev stock changed", prevOpts: optA, opts: optA, asOf: h2.Latest(), stock: roaring.BitmapOf(0, 1, 2)},
		{name: "other options", prevOpts: optA, opts: optB, asOf: h2.Latest()},
		{name: "other options back", prevOpts: optB, opts: optA, asOf: h2.Latest()},
		{name: "earlier as-of", prevOpts: optA, opts: optA, asOf: advRuleDay(60)},
	} {
		t.Run(c.name, func(t *testing.T) {
			prev, err := recommend.New(ctx, w.h, w.nb, w.h.Latest(), c.prevOpts)
			require.NoError(t, err)
			if c.stock != nil {
				prev.SetStock(c.stock)
			}
			got, err := recommend.Renew(ctx, prev, h2, nb2, c.asOf, c.opts)
			require.NoError(t, err)
			want, err := recommend.New(ctx, h2, nb2, c.asOf, c.opts)
			require.NoError(t, err)
			for p := range affinity.ProductID(h2.Catalog().NumProducts()) {
				assert.Equal(t, want.InStock(p), got.InStock(p), "stock of %s", h2.Catalog().ProductKey(p))
			}
			for _, req := range reqs(h2) {
				a, err := want.Recommend(nil, req)
				require.NoError(t, err)
				b, err := got.Recommend(nil, req)
				require.NoError(t, err)
				if !assert.Equal(t, a, b, "%+v", req) {
					return
				}
			}
			if c.stock != nil {
				for p := range affinity.ProductID(w.h.Catalog().NumProducts()) {
					assert.Equal(t, c.stock.Contains(uint32(p)), prev.InStock(p), "prev keeps its stock set")
				}
			}
		})
	}
}

// TestAdvRuleRenewOtherHistory: Renew with a nil prev, or a prev of an
// unrelated History (another catalog), is New.
func TestAdvRuleRenewOtherHistory(t *testing.T) {
	ctx := context.Background()
	a, b := advRuleGen(t, 51, 20, 10), advRuleGen(t, 52, 26, 13)
	o := recommend.Options{Consumables: advRuleConsumables}
	for name, prev := range map[string]*recommend.Engine{"nil": nil, "other": a.engine(t, o), "other options": a.engine(t, recommend.Options{Exclude: roaring.BitmapOf(0, 1)})} {
		t.Run(name, func(t *testing.T) {
			got, err := recommend.Renew(ctx, prev, b.h, b.nb, b.h.Latest(), o)
			require.NoError(t, err)
			want := b.engine(t, o)
			for c := range b.h.NumCustomers() {
				for _, req := range []recommend.Request{
					{CustomerID: affinity.CustomerID(c), ByID: true, K: 7},
					{CustomerID: affinity.CustomerID(c), ByID: true, K: 5, Basket: []string{"p24"}, Rules: recommend.Rules{MaxPerCategory: 1}},
				} {
					x, err := want.Recommend(nil, req)
					require.NoError(t, err)
					y, err := got.Recommend(nil, req)
					require.NoError(t, err)
					require.Equal(t, x, y, "%+v", req)
				}
			}
		})
	}
}

// TestAdvRuleDeterministic: the same request gives the same answer on
// two engines built independently with different worker counts, and
// Recommend into a reused dst is the same as into nil.
func TestAdvRuleDeterministic(t *testing.T) {
	w := advRuleGen(t, 41, 20, 12)
	o := recommend.Options{Consumables: advRuleConsumables}
	e1 := w.engine(t, o)
	o.Workers = 2
	e2 := w.engine(t, o)
	r := rand.New(rand.NewPCG(41, 2))
	dst := make([]recommend.Rec, 0, 64)
	for range 30 {
		req := advRuleRandRequest(r, w)
		a, err1 := e1.Recommend(nil, req)
		b, err2 := e2.Recommend(dst[:0], req)
		if err1 != nil {
			assert.Equal(t, err1.Error(), err2.Error())
			continue
		}
		require.NoError(t, err2)
		if len(a) == 0 {
			assert.Empty(t, b, "%+v", req) // nil and dst[:0]
			continue
		}
		assert.Equal(t, a, b, "%+v", req)
	}
}

func advRuleDump(recs []recommend.Rec) string {
	var s string
	for _, r := range recs {
		s += fmt.Sprintf("\n  %s %v %.4f %v", r.Key, r.Source, r.Score, r.Reasons())
	}
	return s
}

// TestAdvRuleNextBasketAllowRepeats: in next-basket mode AllowRepeats
// lets the customer's own products be explore candidates too; each
// product is still one result, whatever side placed it.
func TestAdvRuleNextBasketAllowRepeats(t *testing.T) {
	h, nb := advRuleFixed(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}})
	require.NoError(t, err)
	recs, err := e.Recommend(nil, recommend.Request{Customer: "k", K: 12, Rules: recommend.Rules{AllowRepeats: true}})
	require.NoError(t, err)
	got := advRuleKeys(recs)
	seen := map[string]bool{}
	for _, k := range got {
		assert.False(t, seen[k], "%s twice in %v", k, advRuleDump(recs))
		seen[k] = true
	}
	assert.Len(t, recs, 8, "the catalog has eight products")
}

// TestAdvRuleConsumableOptionErrors: a consumable interval of zero or
// less has no meaning: New refuses it, wrapping ErrInvalidOptions (the
// sentinel "for options that have no meaning") and naming the field.
func TestAdvRuleConsumableOptionErrors(t *testing.T) {
	h, nb := advRuleFixed(t)
	for _, iv := range []time.Duration{0, -time.Hour} {
		_, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{Consumables: []recommend.Consumable{{Category: "Food", Interval: iv}}})
		require.Error(t, err)
		assert.ErrorIs(t, err, recommend.ErrInvalidOptions, "interval %v", iv)
		assert.Contains(t, err.Error(), "Consumables", "names the field")
	}
	// an unknown category is an error too (undocumented), never a panic
	_, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{Consumables: []recommend.Consumable{{Category: "No/Such", Interval: time.Hour}}})
	assert.Error(t, err)
}
