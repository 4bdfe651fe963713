package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
)

// A small generated shop served through package shop, its requests
// checked against a reference written from the docs of Request, Rules
// and the live controls.

var refShopT0 = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

var refShopCats = []string{"A/x/1", "A/x/2", "A/y", "B/z", "B", "C/w/3"}

type refShop struct {
	s      *shop.Shop
	np     int
	keys   []string
	stock  map[string]bool
	bought map[string]map[string]time.Time // first purchase
	asOf   time.Time                       // Options.AsOf; zero: the data's latest
}

func refShopKey(p int) string { return fmt.Sprintf("s%02d", p) }

func newRefShop(t *testing.T, seed uint64) *refShop {
	return newRefShopWith(t, seed, shop.Options{})
}

// newRefShopWith is newRefShop with o, to which it adds the model,
// next-basket mode off and the non-merchandise.
func newRefShopWith(t *testing.T, seed uint64, o shop.Options) *refShop {
	asOf := o.AsOf
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 17))
	np := 14 + r.IntN(8)
	rs := &refShop{np: np, asOf: asOf, stock: map[string]bool{}, bought: map[string]map[string]time.Time{}}
	var cat []affinity.Product
	for p := range np {
		var cats []string
		switch x := r.IntN(10); {
		case x == 0:
		case x <= 2:
			i := r.IntN(len(refShopCats))
			cats = []string{refShopCats[i], refShopCats[(i+1)%len(refShopCats)]}
		default:
			cats = []string{refShopCats[r.IntN(len(refShopCats))]}
		}
		if p == 0 {
			cats = []string{"A/x/1"} // every path of the filters is known
		}
		k := refShopKey(p)
		in := r.IntN(6) != 0
		cat = append(cat, affinity.Product{Key: k, Name: "Thing " + k, Categories: cats, Price: affinity.Money(r.IntN(5)) * 12500, InStock: in})
		rs.keys = append(rs.keys, k)
		rs.stock[k] = in
	}
	cat = append(cat, affinity.Product{Key: "post", Name: "POSTAGE", Categories: []string{"A/x/1"}, Price: 25000, InStock: true},
		affinity.Product{Key: "fee", Name: "Thing fee", Categories: []string{"B"}, Price: 12500, InStock: true})
	o.Model, o.NextBasket, o.NonMerchandise = "neighbours", shop.Off, []string{"fee"}
	var lines []affinity.Purchase
	for c := range 24 {
		ck := fmt.Sprintf("u%02d", c)
		for o := range 1 + r.IntN(3) {
			at := refShopT0.Add(time.Duration(r.IntN(60*24)) * time.Hour)
			ok := fmt.Sprintf("%s-%d", ck, o)
			for range 1 + r.IntN(4) {
				k := refShopKey(r.IntN(r.IntN(np-1) + 1))
				lines = append(lines, affinity.Purchase{Customer: ck, Product: k, Order: ok, Time: at, Quantity: 1, Price: 10000})
				if rs.bought[ck] == nil {
					rs.bought[ck] = map[string]time.Time{}
				}
				if t0, ok := rs.bought[ck][k]; !ok || at.Before(t0) {
					rs.bought[ck][k] = at
				}
			}
			switch r.IntN(3) {
			case 0:
				lines = append(lines, affinity.Purchase{Customer: ck, Product: "post", Order: ok, Time: at, Quantity: 1, Price: 25000})
			case 1:
				lines = append(lines, affinity.Purchase{Customer: ck, Product: "fee", Order: ok, Time: at, Quantity: 1, Price: 12500})
			}
		}
	}
	s, err := shop.Open(context.Background(), shop.Sources(shop.Catalog(cat), shop.Purchases(slices.Values(lines))),
		o)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	rs.s = s
	return rs
}

// eligible returns the keys a result of req may be.
func (rs *refShop) eligible(snap *shop.Snapshot, req shop.Request, known bool) map[string]bool {
	cat := snap.History().Catalog()
	in := func(list []string, k string) bool { return slices.Contains(list, k) }
	cartCats := map[affinity.CategoryID]bool{}
	for _, k := range req.Cart {
		if p, ok := cat.LookupProduct(k); ok && !snap.IsNonMerchandise(k) {
			for _, c := range cat.Categories(p) {
				cartCats[c] = true
			}
		}
	}
	onlyKnown := false
	for _, k := range req.Only {
		_, ok := cat.LookupProduct(k)
		onlyKnown = onlyKnown || ok
	}
	out := map[string]bool{}
	if len(req.Only) > 0 && !onlyKnown {
		return out
	}
	for _, k := range rs.keys {
		p, _ := cat.LookupProduct(k)
		switch {
		case in(req.Exclude, k), in(req.Cart, k):
			continue
		case len(req.Only) > 0 && !in(req.Only, k):
			continue
		case !req.IncludeOutOfStock && !rs.stock[k]:
			continue
		case known && !req.AllowRepeats && rs.boughtBy(req.Customer, k, snap.AsOf()):
			continue
		}
		if req.Category != "" && !slices.ContainsFunc(cat.Categories(p), func(c affinity.CategoryID) bool {
			q := cat.CategoryPath(c)
			return q == req.Category || strings.HasPrefix(q, req.Category+"/")
		}) {
			continue
		}
		if req.MinPrice > 0 || req.MaxPrice > 0 {
			pr := cat.ProductPrice(p)
			if pr == 0 || pr < req.MinPrice || (req.MaxPrice > 0 && pr > req.MaxPrice) {
				continue
			}
		}
		if !req.AllowSubstitutes && slices.ContainsFunc(cat.Categories(p), func(c affinity.CategoryID) bool { return cartCats[c] }) {
			continue
		}
		out[k] = true
	}
	return out
}

// boughtBy reports whether customer c bought k at or before asOf.
func (rs *refShop) boughtBy(c, k string, asOf time.Time) bool {
	t0, ok := rs.bought[c][k]
	return ok && !t0.After(asOf)
}

func (rs *refShop) randRequest(r *rand.Rand) shop.Request {
	var req shop.Request
	if r.IntN(3) != 0 {
		req.Customer = fmt.Sprintf("u%02d", r.IntN(26)) // two unknown
	}
	key := func() string {
		switch r.IntN(12) {
		case 0:
			return "post"
		case 1:
			return "nosuch"
		case 2:
			return "fee"
		}
		return refShopKey(r.IntN(rs.np))
	}
	for range r.IntN(3) {
		k := key()
		req.Cart = append(req.Cart, k, k)
	}
	for range r.IntN(3) {
		k := key()
		req.Exclude = append(req.Exclude, k, k)
	}
	if r.IntN(5) == 0 {
		for range 1 + r.IntN(6) {
			req.Only = append(req.Only, key())
		}
	}
	if r.IntN(3) == 0 {
		req.Category = []string{"A", "A/x", "A/x/1"}[r.IntN(3)]
	}
	req.K = r.IntN(rs.np + 3)
	if r.IntN(8) == 0 {
		req.K = shop.MaxK
	}
	req.IncludeOutOfStock = r.IntN(4) == 0
	req.AllowRepeats = r.IntN(4) == 0
	req.AllowSubstitutes = r.IntN(3) == 0
	if r.IntN(3) == 0 {
		req.MinPrice = affinity.Money(r.IntN(4)) * 12500
		if r.IntN(3) != 0 {
			req.MaxPrice = req.MinPrice + affinity.Money(r.IntN(3))*12500
		}
	}
	if r.IntN(3) == 0 {
		req.MaxPerCategory, req.CategoryDepth = 1+r.IntN(2), r.IntN(3)
	}
	if r.IntN(3) == 0 {
		req.Diversity = []float64{0.5, 1}[r.IntN(2)]
	}
	return req
}

func (rs *refShop) check(t *testing.T, snap *shop.Snapshot, req shop.Request, res shop.Result) {
	t.Helper()
	el := rs.eligible(snap, req, res.Known)
	k := req.K
	if k == 0 {
		k = shop.DefaultK
	}
	require.LessOrEqual(t, len(res.Recs), k)
	if req.MaxPerCategory == 0 {
		assert.Equal(t, min(k, len(el)), len(res.Recs), "K results whenever K are eligible")
	}
	var ignored []string
	for _, list := range [][]string{req.Cart, req.Exclude, req.Only} {
		for _, key := range list {
			if key == "nosuch" && len(ignored) == 0 { // listed once
				ignored = append(ignored, key)
			}
		}
	}
	assert.Equal(t, ignored, res.Ignored)
	seen := map[string]bool{}
	cold := true
	for _, x := range res.Recs {
		assert.False(t, seen[x.Product], "%s twice", x.Product)
		seen[x.Product] = true
		assert.True(t, el[x.Product], "%s (%v) is not eligible", x.Product, x.Source)
		cold = cold && x.Source.Fallback()
		for _, why := range x.Reasons() {
			assert.False(t, snap.IsNonMerchandise(why.Product), "%s has the reason %s", x.Product, why.Product)
			if why.Kind.Pair() {
				assert.GreaterOrEqual(t, why.Lift, 1.0)
			}
		}
	}
	assert.Equal(t, cold, res.ColdStart)
}

// TestShopRequestReference checks random shop requests against the
// reference, with live stock changes between them.
func TestShopRequestReference(t *testing.T) {
	for seed := range uint64(testdata.Scale(8, 2)) {
		var asOf time.Time
		if seed%2 == 1 {
			asOf = refShopT0.Add(30 * 24 * time.Hour) // half the orders after it
		}
		rs := newRefShopWith(t, seed, shop.Options{AsOf: asOf})
		r := rand.New(rand.NewPCG(seed, 5))
		for i := range testdata.Scale(120, 40) {
			if i%10 == 9 {
				// live stock: one key at a time, or many with one in both lists
				var in, out []string
				for range 3 {
					k := rs.keys[r.IntN(rs.np)]
					if r.IntN(2) == 0 {
						in = append(in, k)
					} else {
						out = append(out, k)
					}
				}
				in = append(in, "post", "nosuch")
				if len(out) > 0 {
					in = append(in, out[0])
				}
				rs.s.UpdateStock(in, out)
				for _, k := range in {
					rs.stock[k] = true
				}
				for _, k := range out {
					rs.stock[k] = false
				}
				k := rs.keys[r.IntN(rs.np)]
				v := r.IntN(2) == 0
				rs.s.SetInStock(k, v)
				rs.stock[k] = v
			}
			req := rs.randRequest(r)
			snap := rs.s.Snapshot()
			res, err := snap.Recommend(context.Background(), req)
			require.NoError(t, err, "%+v", req)
			t.Run(fmt.Sprintf("seed%d/%d", seed, i), func(t *testing.T) {
				rs.check(t, snap, req, res)
				again, err := snap.Recommend(context.Background(), req)
				require.NoError(t, err)
				assert.Equal(t, res, again, "same request, same answer")
			})
		}
	}
}

// TestShopTogetherReference: Together is a cart of one product, and
// never returns the product, its substitutes, non-merchandise or what is
// out of stock; an unknown product is an error.
func TestShopTogetherReference(t *testing.T) {
	rs := newRefShop(t, 3)
	snap := rs.s.Snapshot()
	for _, k := range append(slices.Clone(rs.keys), "post", "fee") {
		for _, n := range []int{0, 1, 5, shop.MaxK} {
			res, err := snap.Together(context.Background(), k, n)
			require.NoError(t, err)
			rs.check(t, snap, shop.Request{Cart: []string{k}, K: n}, res)
		}
	}
	_, err := snap.Together(context.Background(), "nosuch", 3)
	require.ErrorIs(t, err, recommend.ErrUnknownProduct)
}

// TestShopStockSurvivesRefresh: a stock setting SetStock made before its
// product exists applies once a refresh brings it, survives later
// refreshes, and the next SetStock forgets it; non-merchandise stays out
// whatever the setting.
func TestShopStockSurvivesRefresh(t *testing.T) {
	rs := newRefShop(t, 4)
	ctx := context.Background()
	rs.s.SetStock(nil, []string{"new"}) // remembered although unknown yet
	rs.s.SetInStock("post", true)
	// the new product bought with everything, so that it is a
	// complement and popular
	var lines []affinity.Purchase
	for i, k := range rs.keys {
		o := fmt.Sprintf("n%d", i)
		at := refShopT0.Add(70 * 24 * time.Hour)
		for range 3 {
			lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("v%d", i), Product: "new", Order: o, Time: at, Quantity: 1, Price: 10000},
				affinity.Purchase{Customer: fmt.Sprintf("v%d", i), Product: k, Order: o, Time: at, Quantity: 1, Price: 10000})
			o += "x"
		}
	}
	src := shop.Sources(shop.Catalog([]affinity.Product{{Key: "new", Name: "New thing", Categories: []string{"D"}, Price: 12500, InStock: true}}),
		shop.Purchases(slices.Values(lines)))
	require.NoError(t, rs.s.Refresh(ctx, src))
	has := func(req shop.Request) bool {
		res, err := rs.s.Snapshot().Recommend(ctx, req)
		require.NoError(t, err)
		return slices.ContainsFunc(res.Recs, func(r shop.Rec) bool { return r.Product == "new" || r.Product == "post" })
	}
	req := shop.Request{Cart: []string{rs.keys[0]}, K: shop.MaxK}
	assert.False(t, has(req), "out of stock by the setting made before it existed")
	req.IncludeOutOfStock = true
	assert.True(t, has(req), "IncludeOutOfStock brings it back")
	req.IncludeOutOfStock = false
	rs.s.SetInStock("new", true)
	assert.True(t, has(req))
	rs.s.UpdateStock([]string{"new"}, []string{"new"}) // in both: out
	assert.False(t, has(req))
	require.NoError(t, rs.s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "v0", Product: "new", Order: "late", Time: refShopT0.Add(71 * 24 * time.Hour), Quantity: 1, Price: 10000}}))))
	assert.False(t, has(req), "the setting survives a refresh")
	rs.s.SetStock(nil, nil)
	assert.True(t, has(req), "SetStock forgets the settings: the catalog's flag again")
	rs.s.SetStock([]string{"post", "new"}, nil)
	req.IncludeOutOfStock = true
	res, err := rs.s.Snapshot().Recommend(ctx, req)
	require.NoError(t, err)
	for _, r := range res.Recs {
		assert.NotEqual(t, "post", r.Product, "non-merchandise is never recommended")
	}
}

// TestShopRequestWorkers: the answers do not depend on the goroutines
// that built the snapshot.
func TestShopRequestWorkers(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(4, 1)) {
		one := newRefShopWith(t, seed, shop.Options{Workers: 1})
		three := newRefShopWith(t, seed, shop.Options{Workers: 3})
		r := rand.New(rand.NewPCG(seed, 9))
		for range 30 {
			req := one.randRequest(r)
			a, err := one.s.Snapshot().Recommend(ctx, req)
			require.NoError(t, err)
			b, err := three.s.Snapshot().Recommend(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, a, b, "%+v", req)
		}
	}
}
