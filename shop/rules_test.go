package shop_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestRulesAsTheEngines checks each rule of a Request against the
// engine behind the snapshot: the same rule given to recommend.Engine by
// shop key returns the same products, scores and sources, for customers,
// carts and both. Every rule must also change some answer on the demo
// shop, so that a rule dropped on the way would be seen.
func TestRequestRulesAsTheEngines(t *testing.T) {
	ctx := context.Background()
	snap := demo(t).Snapshot()
	h, cat, eng := snap.History(), snap.History().Catalog(), snap.Engine()

	// a price band around the middle half of the list prices
	var prices []affinity.Money
	for p := range cat.NumProducts() {
		prices = append(prices, cat.ProductPrice(affinity.ProductID(p)))
	}
	slices.Sort(prices)
	lo, hi := prices[len(prices)/4], prices[3*len(prices)/4]
	require.Less(t, lo, hi)

	rules := []struct {
		name  string
		rules shop.Rules
	}{
		{"price band", shop.Rules{MinPrice: lo, MaxPrice: hi}},
		{"min price", shop.Rules{MinPrice: hi}},
		{"max price", shop.Rules{MaxPrice: lo}},
		{"one per category", shop.Rules{MaxPerCategory: 1}},
		{"two per top level", shop.Rules{MaxPerCategory: 2, CategoryDepth: 1}},
		{"diversity", shop.Rules{Diversity: 0.5}},
		{"repeats", shop.Rules{AllowRepeats: true}},
		{"substitutes", shop.Rules{AllowSubstitutes: true}},
		{"out of stock", shop.Rules{IncludeOutOfStock: true}},
		{"all", shop.Rules{MinPrice: lo, MaxPerCategory: 2, CategoryDepth: 1, Diversity: 0.3, AllowRepeats: true, AllowSubstitutes: true, IncludeOutOfStock: true}},
	}
	type ask struct {
		customer string
		cart     []string
	}
	var asks []ask
	for c := 0; c < h.NumCustomers(); c += 211 {
		key := h.CustomerKey(affinity.CustomerID(c))
		asks = append(asks, ask{customer: key})
		if lo, hi := h.CustomerLines(affinity.CustomerID(c)); lo < hi {
			first := cat.ProductKey(h.LineProduct(lo))
			asks = append(asks, ask{cart: []string{first}}, ask{customer: key, cart: []string{first, cat.ProductKey(affinity.ProductID((c * 7) % cat.NumProducts()))}})
		}
	}
	require.Greater(t, len(asks), 40)

	for _, rc := range rules {
		t.Run(rc.name, func(t *testing.T) {
			changed := 0
			for _, a := range asks {
				req := shop.Request{Customer: a.customer, Cart: a.cart, K: 12, Rules: rc.rules}
				res, err := snap.Recommend(ctx, req)
				require.NoError(t, err)
				want, err := eng.Recommend(nil, recommend.Request{Customer: a.customer, Basket: a.cart, K: 12, Rules: recommend.Rules{
					MinPrice: req.MinPrice, MaxPrice: req.MaxPrice, MaxPerCategory: req.MaxPerCategory, CategoryDepth: req.CategoryDepth,
					Diversity: req.Diversity, AllowRepeats: req.AllowRepeats, AllowSubstitutes: req.AllowSubstitutes, IncludeOutOfStock: req.IncludeOutOfStock,
				}})
				require.NoError(t, err)
				require.Len(t, res.Recs, len(want), "%+v", a)
				for i := range want {
					assert.Equal(t, want[i].Key, res.Recs[i].Product, "%+v: rec %d", a, i)
					assert.Equal(t, want[i].Score, res.Recs[i].Score, "%+v: rec %d", a, i)
					assert.Equal(t, want[i].Source, res.Recs[i].Source, "%+v: rec %d", a, i)
				}
				plain, err := snap.Recommend(ctx, shop.Request{Customer: a.customer, Cart: a.cart, K: 12})
				require.NoError(t, err)
				if !slices.EqualFunc(plain.Recs, res.Recs, func(x, y shop.Rec) bool { return x.Product == y.Product }) {
					changed++
				}
			}
			assert.Positive(t, changed, "the rule changes no answer on the demo shop")
		})
	}
}

// TestRequestRulesInvalid checks that a rule out of its range is an
// ErrInvalidRequest naming it, and that the edges of the ranges are
// served.
func TestRequestRulesInvalid(t *testing.T) {
	ctx := context.Background()
	snap := demo(t).Snapshot()
	bad := map[string]shop.Rules{
		"negative min price":  {MinPrice: -1},
		"negative max price":  {MaxPrice: -1},
		"min above max":       {MinPrice: 2000, MaxPrice: 1999},
		"negative cap":        {MaxPerCategory: -1},
		"negative depth":      {MaxPerCategory: 1, CategoryDepth: -1},
		"negative diversity":  {Diversity: -0.01},
		"diversity above one": {Diversity: 1.01},
		"diversity NaN":       {Diversity: math.NaN()},
		"diversity infinite":  {Diversity: math.Inf(1)},
	}
	for name, ru := range bad {
		require.ErrorIs(t, ru.Check(), shop.ErrInvalidRequest, name)
		_, err := snap.Recommend(ctx, shop.Request{Customer: "c000740", Rules: ru})
		require.ErrorIs(t, err, shop.ErrInvalidRequest, name)
		_, err = snap.Recommend(ctx, shop.Request{Cart: []string{"no such product"}, Rules: ru})
		require.ErrorIs(t, err, shop.ErrInvalidRequest, "%s, with a cart of unknown products", name)
	}
	edges := map[string]shop.Rules{
		"one price":            {MinPrice: 250000, MaxPrice: 250000},
		"min with no max":      {MinPrice: 250000},
		"diversity one":        {Diversity: 1},
		"depth without a cap":  {CategoryDepth: 3},
		"depth below the tree": {MaxPerCategory: 1, CategoryDepth: 9},
	}
	for name, ru := range edges {
		require.NoError(t, ru.Check(), name)
		_, err := snap.Recommend(ctx, shop.Request{Customer: "c000740", Rules: ru})
		require.NoError(t, err, name)
	}
}

// TestRulesCheckMessages: a rule out of its range reads "shop: invalid
// request: " once, then what is wrong, a price bound of zero as none,
// and wraps both the shop's and the engine's ErrInvalidRequest.
func TestRulesCheckMessages(t *testing.T) {
	for _, tc := range []struct {
		ru   shop.Rules
		want string
	}{
		{shop.Rules{MinPrice: -1}, "price band from -0.0001 with no maximum: a negative bound"},
		{shop.Rules{MaxPrice: -10000}, "price band up to -1.00 with no minimum: a negative bound"},
		{shop.Rules{MinPrice: 20000, MaxPrice: 19999}, "price band from 2.00 to 1.9999: MinPrice above MaxPrice"},
		{shop.Rules{MaxPerCategory: -1}, "negative MaxPerCategory -1"},
		{shop.Rules{MaxPerCategory: 1, CategoryDepth: -2}, "negative CategoryDepth -2"},
		{shop.Rules{Diversity: 1.5}, "diversity 1.5 outside [0, 1]"},
	} {
		err := tc.ru.Check()
		require.Error(t, err, tc.want)
		assert.Equal(t, "shop: invalid request: "+tc.want, err.Error())
		assert.ErrorIs(t, err, shop.ErrInvalidRequest)
		assert.ErrorIs(t, err, recommend.ErrInvalidRequest)
	}
}

// TestRequestRulesNeverNonMerchandise checks that no rule brings
// non-merchandise back: out of stock, repeats and substitutes allowed, on
// Online Retail-like keys in a small shop whose customers bought postage.
func TestRequestRulesNeverNonMerchandise(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var lines []affinity.Purchase
	for c := range 40 {
		cust := string(rune('a'+c%26)) + string(rune('a'+c/26))
		for o := range 3 {
			at := t0.AddDate(0, 0, 7*o+c%5)
			order := cust + string(rune('0'+o))
			for _, p := range []string{"POST", "DOT", "p1", []string{"p2", "p3", "p4"}[(c+o)%3]} {
				lines = append(lines, affinity.Purchase{Customer: cust, Product: p, Order: order, Time: at, Quantity: 1, Price: 12000})
			}
		}
	}
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(lines)), shop.Options{NonMerchandise: []string{"POST", "DOT"}})
	require.NoError(t, err)
	s.SetInStock("POST", true)
	snap := s.Snapshot()
	for _, req := range []shop.Request{
		{Customer: "aa", K: 10, Rules: shop.Rules{AllowRepeats: true, IncludeOutOfStock: true, AllowSubstitutes: true}},
		{Cart: []string{"POST", "p1"}, K: 10, Rules: shop.Rules{AllowRepeats: true, IncludeOutOfStock: true, AllowSubstitutes: true}},
		{Customer: "new", K: 10, Rules: shop.Rules{IncludeOutOfStock: true, Diversity: 1}},
	} {
		res, err := snap.Recommend(ctx, req)
		require.NoError(t, err)
		require.NotEmpty(t, res.Recs, "%+v", req)
		for _, r := range res.Recs {
			assert.NotContains(t, []string{"POST", "DOT"}, r.Product, "%+v", req)
			for _, x := range r.Reasons() {
				assert.NotContains(t, []string{"POST", "DOT"}, x.Product, "%+v: a reason", req)
			}
		}
	}
}

// TestRequestFiltersBeyondTheTopK checks that a category filter and an
// Only list are applied before the top K are chosen: in a shop of 1,200
// popular products in category A and 100 less popular ones in B, a
// request for B's products gets K of them (it got none while the filter
// was applied to the engine's first MaxK answers), and an Only list of
// B's least bought products gets those.
func TestRequestFiltersBeyondTheTopK(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var products []affinity.Product
	var lines []affinity.Purchase
	for i := range 1300 {
		key, cat, buyers := fmt.Sprintf("a%04d", i), "A/x", 30
		if i >= 1200 {
			key, cat, buyers = fmt.Sprintf("b%04d", i), "B/y", 2
		}
		products = append(products, affinity.Product{Key: key, Name: key, Categories: []string{cat}, Price: 10000, InStock: true})
		for c := range buyers {
			cust := fmt.Sprintf("c%03d", (i*7+c)%400)
			lines = append(lines, affinity.Purchase{Customer: cust, Product: key, Order: fmt.Sprintf("%s-%d", cust, i%3), Time: t0.AddDate(0, 0, i%3), Quantity: 1, Price: 10000})
		}
	}
	s, err := shop.Open(ctx, shop.Sources(shop.Catalog(products), shop.Purchases(slices.Values(lines))), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	snap := s.Snapshot()
	for _, req := range []shop.Request{
		{Category: "B", K: 5},
		{Category: "B/y", K: 5, Customer: "c007"},
		{Category: "B", K: 5, Cart: []string{"a0001"}},
	} {
		res, err := snap.Recommend(ctx, req)
		require.NoError(t, err)
		require.Len(t, res.Recs, 5, "%+v", req)
		for _, r := range res.Recs {
			assert.Equal(t, "B/y", r.Category, "%+v", req)
		}
	}
	only := []string{"b1299", "b1298", "b1297", "no-such"}
	res, err := snap.Recommend(ctx, shop.Request{Only: only, K: 10})
	require.NoError(t, err)
	got := make([]string, len(res.Recs))
	for i, r := range res.Recs {
		got[i] = r.Product
	}
	slices.Sort(got)
	assert.Equal(t, []string{"b1297", "b1298", "b1299"}, got)
	assert.Equal(t, []string{"no-such"}, res.Ignored)

	res, err = snap.Recommend(ctx, shop.Request{Only: []string{"no-such", "nor-this"}, K: 10})
	require.NoError(t, err)
	assert.Empty(t, res.Recs, "an Only list of unknown keys only: nothing, not everything")
	assert.Equal(t, []string{"no-such", "nor-this"}, res.Ignored)
}
