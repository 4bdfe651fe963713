package recommend_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
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

var day0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return day0.Add(time.Duration(n) * 24 * time.Hour) }

// tinyShop is a hand-made shop: running shoes go with socks and bottles,
// two shoes are substitutes, coffee is a staple.
func tinyShop(t testing.TB) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "shoe1", Name: "Trail Runner", Categories: []string{"Sports/Running/Shoes"}, Price: affinity.MoneyFromFloat(90), InStock: true},
		{Key: "shoe2", Name: "Road Runner", Categories: []string{"Sports/Running/Shoes"}, Price: affinity.MoneyFromFloat(80), InStock: true},
		{Key: "sock", Name: "Running Socks", Categories: []string{"Sports/Running/Socks"}, Price: affinity.MoneyFromFloat(9), InStock: true},
		{Key: "bottle", Name: "Water Bottle", Categories: []string{"Home/Kitchen/Bottles"}, Price: affinity.MoneyFromFloat(15), InStock: true},
		{Key: "cap", Name: "Sun Cap", Categories: []string{"Apparel/Caps"}, Price: affinity.MoneyFromFloat(20), InStock: true},
		{Key: "coffee", Name: "Coffee Beans", Categories: []string{"Grocery/Coffee"}, Price: affinity.MoneyFromFloat(12), InStock: true},
		{Key: "mug", Name: "Mug", Categories: []string{"Home/Kitchen/Mugs"}, Price: affinity.MoneyFromFloat(8), InStock: true},
		{Key: "lamp", Name: "Lamp", Categories: []string{"Home/Living/Lamps"}, Price: affinity.MoneyFromFloat(40), InStock: false},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	add := func(cust, order string, d int, prods ...string) {
		for _, p := range prods {
			require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: p, Order: order, Time: day(d), Quantity: 1, Price: 10}))
		}
	}
	for i := range 12 {
		c := fmt.Sprintf("r%02d", i)
		add(c, c+"a", i, "shoe1", "sock")
		if i%2 == 0 {
			add(c, c+"b", i+3, "shoe1", "shoe2", "bottle")
		}
		if i%3 == 0 {
			add(c, c+"c", i+5, "shoe1", "cap")
		}
	}
	for i := range 8 {
		c := fmt.Sprintf("k%02d", i)
		add(c, c+"a", i, "coffee", "mug")
		add(c, c+"b", i+30, "coffee")
	}
	add("", "anon1", 3, "lamp", "mug")
	add("", "anon2", 4, "lamp", "mug")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

func tinyEngine(t testing.TB, h *affinity.History, o recommend.Options) *recommend.Engine {
	t.Helper()
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), o)
	require.NoError(t, err)
	return e
}

func keys(recs []recommend.Rec) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key
	}
	return out
}

func TestBasketComplementsNotSubstitutes(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{})
	recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"shoe1"}, K: 3})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, "sock", recs[0].Key)
	assert.Equal(t, recommend.Neighbors, recs[0].Source)
	assert.NotContains(t, keys(recs), "shoe2", "a substitute offered as cross-sell")
	assert.NotContains(t, keys(recs), "shoe1", "the basket product itself")
	for _, r := range recs {
		if r.Source == recommend.Neighbors {
			require.NotEmpty(t, r.Reasons())
			assert.Equal(t, "shoe1", h.Catalog().ProductKey(r.Reasons()[0].Product))
		}
	}
	assert.Contains(t, recs[0].Explain(e), "bought together with Trail Runner in 12 orders")

	recs, err = e.Recommend(recs[:0], recommend.Request{Basket: []string{"shoe1"}, K: 4, Rules: recommend.Rules{AllowSubstitutes: true}})
	require.NoError(t, err)
	assert.Contains(t, keys(recs), "shoe2")
}

func TestCustomerHistory(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{})
	// r01 bought shoe1 and sock only: bottle and cap are the complements.
	recs, err := e.Recommend(nil, recommend.Request{Customer: "r01", AsOf: day(40), K: 3})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.NotContains(t, keys(recs), "shoe1")
	assert.NotContains(t, keys(recs), "sock")
	assert.NotContains(t, keys(recs), "lamp", "out of stock")
	assert.ElementsMatch(t, []string{"shoe2", "bottle", "cap"}, keys(recs)[:3])

	recs, err = e.Recommend(recs[:0], recommend.Request{Customer: "r01", AsOf: day(40), K: 3, Rules: recommend.Rules{AllowRepeats: true}})
	require.NoError(t, err)
	assert.Contains(t, keys(recs), "sock", "repeats allowed")
}

func TestAsOfIgnoresLaterHistory(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{})
	// r00 bought shoe1+sock on day 0 and bottle+shoe2 on day 3; r01 only the
	// first order. As of day 1 they are the same customer.
	a, err := e.Recommend(nil, recommend.Request{Customer: "r00", AsOf: day(1), K: 4})
	require.NoError(t, err)
	b, err := e.Recommend(nil, recommend.Request{Customer: "r01", AsOf: day(1).Add(24 * time.Hour), K: 4})
	require.NoError(t, err)
	assert.Equal(t, keys(b), keys(a))
	assert.Contains(t, keys(a), "bottle", "bought later, so not yet excluded")
}

func TestConsumableDue(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{Consumables: []recommend.Consumable{{Category: "Grocery", Interval: 21 * 24 * time.Hour}}})
	// k00 last bought coffee on day 30.
	recs, err := e.Recommend(nil, recommend.Request{Customer: "k00", AsOf: day(40), K: 3})
	require.NoError(t, err)
	assert.NotContains(t, keys(recs), "coffee", "not due yet")
	recs, err = e.Recommend(recs[:0], recommend.Request{Customer: "k00", AsOf: day(60), K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, "coffee", recs[0].Key)
	assert.Equal(t, recommend.Rebuy, recs[0].Source)
	rs := recs[0].Reasons()
	require.Len(t, rs, 1)
	assert.Equal(t, recommend.Again, rs[0].Kind)
	assert.Equal(t, uint32(2), rs[0].Count)
	assert.InDelta(t, 30, rs[0].Measure, 1e-3)
	assert.Contains(t, recs[0].Explain(e), "bought 2 times before, last 30 days ago")

	_, err = recommend.New(context.Background(), h, mustIndex(t, h), h.Latest(), recommend.Options{Consumables: []recommend.Consumable{{Category: "Nope", Interval: time.Hour}}})
	assert.Error(t, err)
}

// mustIndexOptions are the options of mustIndex's cosine index.
var mustIndexOptions = similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1}

func mustIndex(t testing.TB, h *affinity.History) *similarity.Index {
	nb, err := index(context.Background(), h, similarity.CountOptions{}, mustIndexOptions)
	require.NoError(t, err)
	return nb
}

func TestStockSwap(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{})
	cat := h.Catalog()
	sock, _ := cat.LookupProduct("sock")
	lamp, _ := cat.LookupProduct("lamp")
	assert.True(t, e.InStock(sock))
	assert.False(t, e.InStock(lamp), "initial flag from the catalog")

	all := roaring.New()
	all.AddRange(0, uint64(cat.NumProducts()))
	all.Remove(uint32(sock))
	e.SetStock(all)
	all.Add(uint32(sock)) // the engine copied the set
	assert.False(t, e.InStock(sock))
	assert.True(t, e.InStock(lamp))
	recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"shoe1"}, K: 3})
	require.NoError(t, err)
	assert.NotContains(t, keys(recs), "sock")
	recs, err = e.Recommend(recs[:0], recommend.Request{Basket: []string{"shoe1"}, K: 3, Rules: recommend.Rules{IncludeOutOfStock: true}})
	require.NoError(t, err)
	assert.Equal(t, "sock", recs[0].Key)

	e.SetStock(nil)
	assert.True(t, e.InStock(sock))
	assert.False(t, e.InStock(affinity.ProductID(cat.NumProducts())))
}

func TestBadInput(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{})
	for _, tc := range []struct {
		name string
		req  recommend.Request
		want error
	}{
		{"k zero", recommend.Request{K: 0}, recommend.ErrInvalidRequest},
		{"k negative", recommend.Request{K: -3}, recommend.ErrInvalidRequest},
		{"k huge", recommend.Request{K: recommend.MaxK + 1}, recommend.ErrInvalidRequest},
		{"price band", recommend.Request{K: 3, Rules: recommend.Rules{MinPrice: 50, MaxPrice: 10}}, recommend.ErrInvalidRequest},
		{"diversity", recommend.Request{K: 3, Rules: recommend.Rules{Diversity: 2}}, recommend.ErrInvalidRequest},
		{"unknown basket product", recommend.Request{K: 3, Basket: []string{"shoe1", "nope"}}, recommend.ErrUnknownProduct},
		{"unknown item id", recommend.Request{K: 3, Items: []affinity.ProductID{1 << 30}}, recommend.ErrUnknownProduct},
		{"unknown excluded product", recommend.Request{K: 3, Rules: recommend.Rules{Exclude: []string{"nope"}}}, recommend.ErrUnknownProduct},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]recommend.Rec, 1, 4)
			got, err := e.Recommend(dst, tc.req)
			require.ErrorIs(t, err, tc.want)
			assert.Len(t, got, 1, "dst returned unchanged")
		})
	}
	_, err := recommend.New(context.Background(), nil, nil, time.Unix(1, 0), recommend.Options{})
	assert.Error(t, err)
}

func TestColdStartFallbacks(t *testing.T) {
	h := tinyShop(t)
	e := tinyEngine(t, h, recommend.Options{PopularityBlend: -1, BasketPopularityBlend: -1}) // fallbacks only, no blended popular products
	cat := h.Catalog()
	inStock := 0
	for p := range cat.NumProducts() {
		if cat.InStock(affinity.ProductID(p)) {
			inStock++
		}
	}
	for _, req := range []recommend.Request{
		{K: 100},                          // nothing known: popular
		{Customer: "stranger", K: 100},    // unknown customer: like anonymous
		{Basket: []string{"cap"}, K: 100}, // few neighbours, then popular
	} {
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		want := inStock - len(req.Basket)
		if len(req.Basket) > 0 {
			want-- // the cap has no substitutes in stock, but itself is excluded
		}
		seen := map[string]bool{}
		tier := 0
		for _, r := range recs {
			assert.False(t, seen[r.Key], "duplicate %s", r.Key)
			seen[r.Key] = true
			assert.True(t, e.InStock(r.Product))
			tr := map[recommend.Source]int{recommend.Rebuy: 0, recommend.Neighbors: 0, recommend.SegmentPopular: 1, recommend.Popular: 2}[r.Source]
			assert.GreaterOrEqual(t, tr, tier, "sources out of order")
			tier = tr
		}
		assert.GreaterOrEqual(t, len(recs), want-1)
		assert.Equal(t, recommend.Popular, recs[len(recs)-1].Source)
		assert.Equal(t, "popular in the shop", recs[len(recs)-1].Explain(e))
	}
	// K results whenever the catalog allows
	recs, err := e.Recommend(nil, recommend.Request{K: 3})
	require.NoError(t, err)
	assert.Len(t, recs, 3)
}

func TestSegments(t *testing.T) {
	h := tinyShop(t)
	runners := roaring.New()
	coffee := roaring.New()
	for c := range h.NumCustomers() {
		if h.CustomerKey(affinity.CustomerID(c))[0] == 'r' {
			runners.Add(uint32(c))
		} else {
			coffee.Add(uint32(c))
		}
	}
	e := tinyEngine(t, h, recommend.Options{Segments: []*roaring.Bitmap{coffee, runners}})
	// what the runners see on the home page
	recs, err := e.Recommend(nil, recommend.Request{Segment: runners, K: 3})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.ElementsMatch(t, []string{"shoe1", "sock", "shoe2"}, keys(recs))
	for _, r := range recs {
		assert.Equal(t, recommend.SegmentPopular, r.Source)
	}
	// a coffee customer with nothing else to go on gets the coffee segment's
	// favourites before the shop's
	recs, err = e.Recommend(nil, recommend.Request{Customer: "k03", AsOf: day(50), K: 4, Rules: recommend.Rules{AllowRepeats: true}, Basket: nil})
	require.NoError(t, err)
	require.NotEmpty(t, recs)

	// boosts: runners see caps first
	e = tinyEngine(t, h, recommend.Options{Boosts: []recommend.Boost{{Customers: runners, Category: "Apparel", Factor: 10}}})
	recs, err = e.Recommend(nil, recommend.Request{Customer: "r01", AsOf: day(40), K: 3})
	require.NoError(t, err)
	assert.Equal(t, "cap", recs[0].Key)
}

func TestRulesShapeResults(t *testing.T) {
	h, nb := demoIndex(t)
	e := newEngine(t, fixture{h: h, nb: nb}, recommend.Options{})
	cat := h.Catalog()
	cust := h.CustomerKey(7)
	lo, hi := affinity.MoneyFromFloat(5), affinity.MoneyFromFloat(20)
	recs, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 20, Rules: recommend.Rules{MinPrice: lo, MaxPrice: hi, MaxPerCategory: 2}})
	require.NoError(t, err)
	require.Len(t, recs, 20)
	perCat := map[affinity.CategoryID]int{}
	for _, r := range recs {
		p := cat.ProductPrice(r.Product)
		assert.True(t, p >= lo && p <= hi, "price %v", p)
		c := cat.Categories(r.Product)[0]
		perCat[c]++
		assert.LessOrEqual(t, perCat[c], 2)
	}
	ex := []string{recs[0].Key, recs[1].Key}
	recs2, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 20, Rules: recommend.Rules{Exclude: ex}})
	require.NoError(t, err)
	assert.NotContains(t, keys(recs2), ex[0])
	assert.NotContains(t, keys(recs2), ex[1])

	// MMR diversity spreads the results over more categories
	plain, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 10})
	require.NoError(t, err)
	div, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 10, Rules: recommend.Rules{Diversity: 0.7}})
	require.NoError(t, err)
	cats := func(rs []recommend.Rec) int {
		m := map[affinity.CategoryID]bool{}
		for _, r := range rs {
			m[cat.Categories(r.Product)[0]] = true
		}
		return len(m)
	}
	assert.GreaterOrEqual(t, cats(div), cats(plain))
	assert.ElementsMatch(t, keys(plain)[:1], keys(div)[:1], "MMR keeps the best result first")
}

// The engine's basket ranking equals a naive map-based implementation of
// the documented formula (no popularity prior or blend, no penalty,
// anonymous: no personalisation). The quick suite tries 60 baskets of
// the long suite's 200.
func TestBasketMatchesNaive(t *testing.T) {
	h, nb := demoIndex(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{PopularityExponent: -1, PopularityBlend: -1, BasketPopularityExponent: -1, BasketPopularityBlend: -1, SubstitutePenalty: 1})
	require.NoError(t, err)
	cat := h.Catalog()
	np := cat.NumProducts()
	var recs []recommend.Rec
	for trial := range testdata.Scale(200, 60) {
		basket := []affinity.ProductID{affinity.ProductID(trial * 7 % np), affinity.ProductID((trial*31 + 5) % np), affinity.ProductID(trial * 13 % np)}
		score := map[affinity.ProductID]float32{}
		anchors := slices.Clone(basket)
		slices.Sort(anchors)
		for _, a := range slices.Compact(anchors) {
			for _, n := range nb.Neighbors(a) {
				if n.Score > 0 {
					score[n.Product] += n.Score
				}
			}
		}
		var want []affinity.ProductID
		for p := range score {
			if slices.Contains(basket, p) || !cat.InStock(p) {
				continue
			}
			sub := false
			for _, a := range basket {
				for _, ca := range cat.Categories(a) {
					sub = sub || slices.Contains(cat.Categories(p), ca)
				}
			}
			if !sub {
				want = append(want, p)
			}
		}
		slices.SortFunc(want, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(score[b], score[a]), cmp.Compare(a, b)) })
		want = want[:min(10, len(want))]
		popular := map[affinity.ProductID]float64{} // the fallback's scores: an empty request
		cold, err := e.Recommend(nil, recommend.Request{K: recommend.MaxK})
		require.NoError(t, err)
		for _, r := range cold {
			popular[r.Product] = r.Score
		}
		recs, err = e.Recommend(recs[:0], recommend.Request{Items: basket, K: 10})
		require.NoError(t, err)
		require.Len(t, recs, 10)
		var got []affinity.ProductID
		for _, r := range recs {
			if r.Source == recommend.Neighbors || (r.Source == recommend.Popular && score[r.Product] > 0) {
				got = append(got, r.Product)
				if r.Source == recommend.Popular {
					// placed by the popularity blend, scored as the fallbacks
					assert.InDelta(t, popular[r.Product], r.Score, 1e-6)
				} else {
					assert.InDelta(t, score[r.Product]/score[want[0]], r.Score, 1e-5)
				}
				for _, rs := range r.Reasons() {
					assert.Contains(t, basket, rs.Product)
					i := slices.IndexFunc(nb.Neighbors(rs.Product), func(n similarity.Neighbor) bool { return n.Product == r.Product })
					require.GreaterOrEqual(t, i, 0)
					assert.Equal(t, nb.Neighbors(rs.Product)[i].Count, rs.Count)
				}
			}
		}
		require.Equal(t, want, got, "basket %v", basket)
	}
}

func TestConcurrentDeterministic(t *testing.T) {
	h, nb := demoIndex(t)
	e := newEngine(t, fixture{h: h, nb: nb}, recommend.Options{})
	const n = 200
	want := make([][]recommend.Rec, n)
	var err error
	for c := range n {
		want[c], err = e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 10})
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []recommend.Rec
			for i := range n {
				c := (i*7 + g) % n
				var err error
				dst, err = e.Recommend(dst[:0], recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 10})
				if err == nil && !slices.Equal(keys(dst), keys(want[c])) {
					err = fmt.Errorf("customer %d: got %v, want %v", c, keys(dst), keys(want[c]))
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	all, err := e.RecommendAll(context.Background(), recommend.Request{K: 10})
	require.NoError(t, err)
	require.Len(t, all, h.NumCustomers())
	for c := range n {
		assert.Equal(t, keys(want[c]), keys(all[c]))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.RecommendAll(ctx, recommend.Request{K: 10})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	h, nb := demoIndex(t)
	e := newEngine(t, fixture{h: h, nb: nb}, recommend.Options{})
	dst := make([]recommend.Rec, 0, 10)
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		dst, _ = e.Recommend(dst[:0], recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(i % 300)), K: 10})
		i++
	})
	assert.LessOrEqual(t, allocs, 0.0)
	basket := []string{h.Catalog().ProductKey(3), h.Catalog().ProductKey(9)}
	allocs = testing.AllocsPerRun(500, func() {
		dst, _ = e.Recommend(dst[:0], recommend.Request{Basket: basket, K: 10})
	})
	assert.LessOrEqual(t, allocs, 0.0)
}

// Rating data (MovieLens-style: events, no purchases) works end to end:
// rated products are anchors and are excluded, popularity counts ratings.
func TestRatingEvents(t *testing.T) {
	var b affinity.Builder
	rate := func(c, p string, d int) {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: p, Time: day(d), Kind: affinity.Rating, Weight: 4}))
	}
	for i := range 10 {
		c := fmt.Sprintf("u%d", i)
		rate(c, "alien", i)
		rate(c, "aliens", i+1)
		if i < 6 {
			rate(c, "blade-runner", i+2)
		}
	}
	rate("x", "alien", 3)
	rate("y", "heat", 3)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Customer, Events: true}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	recs, err := e.Recommend(nil, recommend.Request{Customer: "x", K: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{"aliens", "blade-runner", "heat"}, keys(recs))
	assert.Equal(t, recommend.Neighbors, recs[0].Source)
	recs, err = e.Recommend(recs[:0], recommend.Request{K: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"alien", "aliens"}, keys(recs), "popular by ratings")
}

// With a long history and a tight edge budget the cart still gets its
// edges: it is served first.
func TestCartGetsBudgetFirst(t *testing.T) {
	h, nb := demoIndex(t)
	e := newEngine(t, fixture{h: h, nb: nb}, recommend.Options{MaxEdges: 16})
	cat := h.Catalog()
	var cust affinity.CustomerID
	for c := range h.NumCustomers() {
		if lo, hi := h.CustomerLines(affinity.CustomerID(c)); hi-lo >= 30 {
			cust = affinity.CustomerID(c)
			break
		}
	}
	cart := cat.ProductKey(e.History().LineProduct(0))
	recs, err := e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(cust), Basket: []string{cart}, K: 5, Rules: recommend.Rules{AllowRepeats: true}})
	require.NoError(t, err)
	fromCart := 0
	for i := range recs {
		for _, rs := range recs[i].Reasons() {
			if cat.ProductKey(rs.Product) == cart {
				fromCart++
			}
		}
	}
	assert.Positive(t, fromCart, "no result explained by the cart")
}
