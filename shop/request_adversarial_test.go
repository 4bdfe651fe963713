package shop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file check what a storefront gets back from
// Snapshot.Recommend against a naive model of the shop kept beside it:
// every product, line, non-merchandise flag and stock setting, with the
// co-purchase counts recounted from the lines.

// advWorld is the naive model of a random small shop.
type advWorld struct {
	r        *rand.Rand
	products []affinity.Product // every product ever added, in order
	byKey    map[string]affinity.Product
	lines    []affinity.Purchase
	cats     []string
	custs    []string // known customer keys
	live     map[string]bool
	nonKeys  []string                    // Options.NonMerchandise
	isNon    func(affinity.Product) bool // the predicate the shop uses
	at       time.Time                   // the time of the next order
	nOrders  int
	nProds   int
	ordered  map[string]bool // customers who ever ordered: a History keeps a customer whose orders were all deleted
	non      map[string]bool // nonMerch's answers, by key; addProducts clears it
}

var advCats = []string{"Home", "Home/Kitchen", "Home/Bath", "Garden", "Garden/Tools", "Tech ☕", "Tech ☕/Phones", "Tech ☕/Phones/Cases"}

// advKey returns the key of the i-th product: plain, unicode, with spaces.
func advKey(i int) string {
	switch i % 5 {
	case 1:
		return fmt.Sprintf("café ☕ %d", i)
	case 3:
		return fmt.Sprintf(" sku %d ", i)
	}
	return fmt.Sprintf("p%03d", i)
}

func (w *advWorld) newProduct(stocked bool) affinity.Product {
	i := w.nProds
	w.nProds++
	p := affinity.Product{Key: advKey(i), Name: fmt.Sprintf("Item %d", i), Price: affinity.Money(100 + 37*i), InStock: stocked}
	switch n := w.r.IntN(6); {
	case n == 0: // no category
	case n == 1:
		p.Categories = []string{w.cats[w.r.IntN(len(w.cats))], w.cats[w.r.IntN(len(w.cats))]}
	default:
		p.Categories = []string{w.cats[w.r.IntN(len(w.cats))]}
	}
	return p
}

func (w *advWorld) addProducts(ps ...affinity.Product) {
	clear(w.non) // a product added again may be renamed
	for _, p := range ps {
		w.products = append(w.products, p)
		w.byKey[p.Key] = p
	}
}

// nonMerch reports whether the shop should treat key as non-merchandise.
func (w *advWorld) nonMerch(key string) bool {
	p, ok := w.byKey[key]
	if !ok {
		return false
	}
	// remembered: merch and pick ask for every product at each request,
	// and the predicate may be a regular expression
	non, ok := w.non[key]
	if !ok {
		non = slices.Contains(w.nonKeys, key) || w.isNon(p)
		if w.non == nil {
			w.non = map[string]bool{}
		}
		w.non[key] = non
	}
	return non
}

// inStock reports the effective stock of key: the live setting, else the
// catalog's flag; non-merchandise never.
func (w *advWorld) inStock(key string) bool {
	if w.nonMerch(key) {
		return false
	}
	if v, ok := w.live[key]; ok {
		return v
	}
	return w.byKey[key].InStock
}

// merch returns the keys of the merchandise products.
func (w *advWorld) merch() []string {
	var ks []string
	for _, p := range w.products {
		if !w.nonMerch(p.Key) {
			ks = append(ks, p.Key)
		}
	}
	return ks
}

// pick returns a merchandise product, skewed towards the first ones.
func (w *advWorld) pick() string {
	ks := w.merch()
	f := w.r.Float64()
	return ks[int(f*f*float64(len(ks)))]
}

// orders appends n random orders, some of them planted pairs, most with
// postage, some with a voucher or a handling fee, some with a return
// line; back > 0 places some of them before the latest order.
func (w *advWorld) orders(n int, newCusts int, back time.Duration) []affinity.Purchase {
	for range newCusts {
		w.custs = append(w.custs, []string{"c%d", "kunde ü %d", " spaced %d "}[len(w.custs)%3])
		w.custs[len(w.custs)-1] = fmt.Sprintf(w.custs[len(w.custs)-1], len(w.custs))
	}
	var out []affinity.Purchase
	ks := w.merch()
	for range n {
		w.nOrders++
		w.at = w.at.Add(time.Duration(1+w.r.IntN(40)) * time.Hour)
		t := w.at
		if back > 0 && w.r.IntN(4) == 0 {
			t = t.Add(-time.Duration(w.r.Int64N(int64(back)))).Truncate(time.Second) // a History keeps seconds
		}
		cust := ""
		if w.r.IntN(8) != 0 {
			cust = w.custs[w.r.IntN(len(w.custs))]
		}
		order := fmt.Sprintf("o-%d", w.nOrders)
		set := map[string]bool{}
		if w.r.IntN(2) == 0 { // a planted pair
			i := 2 * w.r.IntN(min(4, len(ks)/2))
			set[ks[i]], set[ks[i+1]] = true, true
		}
		for range 1 + w.r.IntN(4) {
			set[w.pick()] = true
		}
		extra := []string{}
		if w.r.IntN(5) < 3 {
			extra = append(extra, "POST")
		}
		if w.r.IntN(10) == 0 {
			extra = append(extra, "gv10")
		}
		if w.r.IntN(10) == 0 {
			extra = append(extra, "HANDLING")
		}
		for _, k := range extra {
			if _, ok := w.byKey[k]; ok {
				set[k] = true
			}
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range set {
				if !yield(k) {
					return
				}
			}
		})
		if cust != "" {
			w.ordered[cust] = true
		}
		for _, k := range keys {
			out = append(out, affinity.Purchase{Customer: cust, Product: k, Order: order, Time: t, Quantity: int32(1 + w.r.IntN(3)), Price: w.byKey[k].Price})
		}
		if w.r.IntN(10) == 0 { // a return of another product in the same order
			k := w.pick()
			if !set[k] {
				out = append(out, affinity.Purchase{Customer: cust, Product: k, Order: order, Time: t, Quantity: -1, Price: w.byKey[k].Price})
			}
		}
	}
	w.lines = append(w.lines, out...)
	return out
}

// changes deletes one existing order and replaces another with other
// lines (same customer and time), as an order feed would, and returns the
// feed.
func (w *advWorld) changes(version int64) []affinity.OrderChange {
	keys := map[string]affinity.Purchase{}
	for _, l := range w.lines {
		keys[l.Order] = l
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	del, put := sorted[w.r.IntN(len(sorted))], sorted[w.r.IntN(len(sorted))]
	feed := []affinity.OrderChange{{Key: del, Version: version, Delete: true}}
	w.lines = slices.DeleteFunc(w.lines, func(l affinity.Purchase) bool { return l.Order == del })
	if put != del {
		old := keys[put]
		w.lines = slices.DeleteFunc(w.lines, func(l affinity.Purchase) bool { return l.Order == put })
		ch := affinity.OrderChange{Key: put, Version: version}
		set := map[string]bool{}
		for range 1 + w.r.IntN(4) {
			if k := w.pick(); !set[k] {
				set[k] = true
				ch.Lines = append(ch.Lines, affinity.Purchase{Customer: old.Customer, Product: k, Order: put, Time: old.Time, Quantity: 1, Price: w.byKey[k].Price})
			}
		}
		w.lines = append(w.lines, ch.Lines...)
		feed = append(feed, ch)
	}
	return feed
}

// newAdvWorld returns a random shop of a few dozen products and customers.
func newAdvWorld(seed uint64, isNon func(affinity.Product) bool) (*advWorld, shop.Source) {
	w := &advWorld{r: rand.New(rand.NewPCG(seed, 0x5eed)), byKey: map[string]affinity.Product{}, live: map[string]bool{}, ordered: map[string]bool{},
		cats: advCats, nonKeys: []string{"HANDLING"}, isNon: isNon,
		at: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	np := 12 + w.r.IntN(30)
	for range np {
		w.addProducts(w.newProduct(w.r.IntN(8) != 0))
	}
	w.addProducts(
		affinity.Product{Key: "POST", Name: "POSTAGE", Price: 500, InStock: true},
		affinity.Product{Key: "gv10", Name: "Dotcomgiftshop Gift Voucher £10.00", Price: 1000, InStock: true},
		affinity.Product{Key: "HANDLING", Name: "Handling service", Price: 100, InStock: true, Categories: []string{"Home"}},
		affinity.Product{Key: "ZZ-wrap", Name: "ZZ gift wrap", Price: 200, InStock: true, Categories: []string{"Home/Kitchen"}},
	)
	// a few products no one ever bought
	for range 2 {
		w.addProducts(w.newProduct(true))
	}
	ps := slices.Clone(w.products)
	lines := w.orders(30+w.r.IntN(80), 8+w.r.IntN(30), 0)
	return w, shop.Sources(shop.Catalog(ps), shop.Purchases(slices.Values(lines)))
}

// advZZ is a custom non-merchandise predicate: names starting with "ZZ".
func advZZ(p affinity.Product) bool { return strings.HasPrefix(p.Name, "ZZ") }

// advNaive holds the co-purchase counts of the world at one time.
type advNaive struct {
	unit    string
	n       int
	support map[string]int
	pair    map[[2]string]int
	bought  map[string]map[string]int       // customer → product → purchases (lines with quantity > 0)
	last    map[string]map[string]time.Time // customer → product → last purchase
}

func (w *advWorld) naive(scope string, asOf time.Time) *advNaive {
	nv := &advNaive{unit: "orders", support: map[string]int{}, pair: map[[2]string]int{}, bought: map[string]map[string]int{}, last: map[string]map[string]time.Time{}}
	if scope == "customer" {
		nv.unit = "customers"
	}
	tx := map[string]map[string]bool{}
	for _, l := range w.lines {
		if l.Time.After(asOf) || l.Quantity <= 0 {
			continue
		}
		if l.Customer != "" {
			if nv.bought[l.Customer] == nil {
				nv.bought[l.Customer], nv.last[l.Customer] = map[string]int{}, map[string]time.Time{}
			}
			nv.bought[l.Customer][l.Product]++
			if l.Time.After(nv.last[l.Customer][l.Product]) {
				nv.last[l.Customer][l.Product] = l.Time
			}
		}
		if w.nonMerch(l.Product) {
			continue
		}
		id := "o:" + l.Order
		if scope == "customer" {
			if l.Customer == "" {
				continue
			}
			id = "c:" + l.Customer
		}
		if tx[id] == nil {
			tx[id] = map[string]bool{}
		}
		tx[id][l.Product] = true
	}
	nv.n = len(tx)
	for _, set := range tx {
		for a := range set {
			nv.support[a]++
			for b := range set {
				if a != b {
					nv.pair[[2]string{a, b}]++
				}
			}
		}
	}
	return nv
}

var advSmallTimes = regexp.MustCompile(`(^|[^0-9.])0\.\d×`)

// advCheck checks one answer against the world and the naive counts.
func advCheck(t *testing.T, w *advWorld, nv *advNaive, snap *shop.Snapshot, req shop.Request, res shop.Result, err error) {
	t.Helper()
	h := snap.History()
	cat := h.Catalog()
	msg := fmt.Sprintf("request %+v", req)

	// documented errors
	_, catOK := cat.LookupCategory(req.Category)
	var wantErrs []error
	if req.K < 0 || req.K > shop.MaxK || !advRulesValid(req) {
		wantErrs = append(wantErrs, shop.ErrInvalidRequest)
	}
	if req.ByID && int(req.CustomerID) >= h.NumCustomers() {
		wantErrs = append(wantErrs, shop.ErrUnknownCustomer)
	}
	if req.Category != "" && !catOK {
		wantErrs = append(wantErrs, shop.ErrUnknownCategory)
	}
	if len(wantErrs) > 0 {
		require.Error(t, err, msg)
		assert.True(t, slices.ContainsFunc(wantErrs, func(e error) bool { return errors.Is(err, e) }), "%s: %v, want one of %v", msg, err, wantErrs)
		return
	}
	require.NoError(t, err, msg)

	k := req.K
	if k == 0 {
		k = shop.DefaultK
	}
	cust := req.Customer
	if req.ByID {
		cust = h.CustomerKey(req.CustomerID)
	}
	assert.Equal(t, cust, res.Customer, msg)
	known := cust != "" && w.ordered[cust]
	assert.Equal(t, known, res.Known, msg)
	assert.True(t, snap.AsOf().Equal(res.AsOf), msg)

	// ignored: the unknown cart keys, then the unknown exclude keys, each
	// once where it first occurs
	var ignored []string
	cart := map[string]bool{}
	for _, key := range req.Cart {
		if _, ok := w.byKey[key]; !ok {
			if !slices.Contains(ignored, key) {
				ignored = append(ignored, key)
			}
		} else {
			cart[key] = true
		}
	}
	excl := map[string]bool{}
	for _, key := range req.Exclude {
		if _, ok := w.byKey[key]; !ok {
			if !slices.Contains(ignored, key) {
				ignored = append(ignored, key)
			}
		} else {
			excl[key] = true
		}
	}
	assert.Equal(t, ignored, res.Ignored, msg)

	inFilter := func(key string) bool {
		if req.Category == "" {
			return true
		}
		f := affinity.CleanCategoryPath(req.Category) // as the catalog looks paths up
		for _, c := range w.byKey[key].Categories {
			if c == f || strings.HasPrefix(c, f+"/") {
				return true
			}
		}
		return false
	}
	var bought map[string]int
	if res.Known {
		bought = nv.bought[cust]
	}
	anchors := map[string]bool{}
	for key := range cart {
		if !w.nonMerch(key) {
			anchors[key] = true
		}
	}
	for key := range bought {
		if !w.nonMerch(key) {
			anchors[key] = true
		}
	}

	assert.LessOrEqual(t, len(res.Recs), k, msg)
	capped := map[string]int{} // results per category, under req.MaxPerCategory
	seen := map[string]bool{}
	fallbackOnly := true
	for i := range res.Recs {
		r := &res.Recs[i]
		rm := fmt.Sprintf("%s: rec %d %q (%v)", msg, i, r.Product, r.Source)
		p, ok := w.byKey[r.Product]
		if !assert.True(t, ok, "%s: unknown product", rm) {
			continue
		}
		_, inCat := cat.LookupProduct(r.Product)
		assert.True(t, inCat, rm)
		assert.False(t, seen[r.Product], "%s: duplicate", rm)
		seen[r.Product] = true
		assert.False(t, w.nonMerch(r.Product), "%s: non-merchandise recommended", rm)
		if !req.IncludeOutOfStock {
			assert.True(t, w.inStock(r.Product), "%s: out of stock recommended", rm)
		}
		if pp, ok := cat.LookupProduct(r.Product); ok {
			price := cat.ProductPrice(pp)
			assert.Equal(t, price, r.Price, rm)
			assert.True(t, price >= req.MinPrice && (req.MaxPrice == 0 || price <= req.MaxPrice),
				"%s: price %v outside [%v, %v]", rm, price, req.MinPrice, req.MaxPrice)
		}
		if req.MaxPerCategory > 0 {
			for _, c := range advCapped(p, req.CategoryDepth) {
				capped[c]++
				assert.LessOrEqual(t, capped[c], req.MaxPerCategory, "%s: category %q over its cap", rm, c)
			}
		}
		assert.False(t, excl[r.Product], "%s: excluded product recommended", rm)
		assert.False(t, cart[r.Product], "%s: cart product recommended", rm)
		assert.True(t, inFilter(r.Product), "%s: outside category %q (%v)", rm, req.Category, p.Categories)
		assert.Equal(t, p.Name, r.Name, rm)
		assert.Equal(t, p.Price, r.Price, rm)
		if !r.Source.Fallback() {
			fallbackOnly = false
		}
		if bought[r.Product] > 0 && !req.AllowRepeats {
			assert.Contains(t, []recommend.Source{recommend.Repeat, recommend.Rebuy}, r.Source, "%s: a product the customer bought, served as new", rm)
		}
		switch r.Source {
		case recommend.Neighbors:
			assert.NotEmpty(t, r.Reasons(), "%s: a co-purchase result has a reason", rm)
		case recommend.Popular, recommend.SegmentPopular:
			assert.Empty(t, r.Reasons(), "%s: a fallback has no reason", rm)
		}
		for _, x := range r.Reasons() {
			xm := fmt.Sprintf("%s: reason %+v", rm, x)
			assert.False(t, w.nonMerch(x.Product), "%s: non-merchandise reason", xm)
			switch x.Kind {
			case recommend.Together, recommend.After:
				assert.GreaterOrEqual(t, x.Lift, 1.0, "%s: lift below 1", xm)
				assert.NotEqual(t, r.Product, x.Product, xm)
				assert.True(t, anchors[x.Product], "%s: the reason is neither in the cart nor bought by the customer", xm)
				assert.Equal(t, recommend.Together, x.Kind, "%s: no sequential index, no after reason", xm)
				assert.Equal(t, nv.unit, x.Unit, xm)
				c := nv.pair[[2]string{x.Product, r.Product}]
				assert.Equal(t, c, x.Count, "%s: naive co-count %d", xm, c)
				sa, sb := nv.support[x.Product], nv.support[r.Product]
				if sa > 0 && sb > 0 {
					lift := float64(c) * float64(nv.n) / (float64(sa) * float64(sb))
					assert.InEpsilon(t, lift, x.Lift, 1e-4, "%s: naive lift %d·%d/(%d·%d)", xm, c, nv.n, sa, sb)
				}
			case recommend.Again:
				assert.Equal(t, r.Product, x.Product, xm)
				assert.Equal(t, bought[r.Product], x.Count, "%s: purchases", xm)
				if last, ok := nv.last[cust][r.Product]; ok {
					assert.InDelta(t, snap.AsOf().Sub(last).Hours()/24, x.Days, 1e-2, xm)
				}
			case recommend.Taste:
				assert.Equal(t, r.Product, x.Product, xm)
				assert.True(t, x.Share > 0 && x.Share <= 1, xm)
				_, ok := cat.LookupCategory(x.Category)
				assert.True(t, ok, xm)
			default:
				t.Errorf("%s: unknown kind", xm)
			}
		}
		ex := r.Explanation()
		assert.NotContains(t, ex, "lift 0.", rm)
		assert.False(t, advSmallTimes.MatchString(ex), "%s: %q", rm, ex)
	}
	assert.Equal(t, fallbackOnly, res.ColdStart, "%s: cold start iff all results are fallbacks", msg)
	if len(anchors) == 0 {
		assert.True(t, res.ColdStart, "%s: no evidence of the customer or the cart", msg)
	}

	// order: the co-purchase part first, by score, ties by product id;
	// then the fallbacks, segment favourites before shop favourites
	lastMain := -1
	for i := range res.Recs {
		if !res.Recs[i].Source.Fallback() {
			lastMain = i
		}
	}
	// (a popular result the popularity blend placed among them has the
	// fallback's score: TestAdversarialPopularScoreOrder)
	pid := func(key string) affinity.ProductID { p, _ := cat.LookupProduct(key); return p }
	prev := -1
	for i := 0; i <= lastMain; i++ {
		b := res.Recs[i]
		assert.NotEqual(t, recommend.SegmentPopular, b.Source, "%s: a fallback before a co-purchase result", msg)
		if b.Source.Fallback() || req.Diversity > 0 { // diversity re-ranks
			continue
		}
		if prev >= 0 {
			a := res.Recs[prev]
			assert.True(t, a.Score > b.Score || a.Score == b.Score && pid(a.Product) < pid(b.Product),
				"%s: %d %q %v before %q %v", msg, prev, a.Product, a.Score, b.Product, b.Score)
		}
		prev = i
	}
	if lastMain < 0 && len(anchors) == 0 {
		// (with anchors, a result the popularity blend placed is labelled
		// popular too: TestAdversarialPopularScoreOrder)
		for i := 1; i < len(res.Recs); i++ {
			a, b := res.Recs[i-1], res.Recs[i]
			if a.Source != b.Source {
				assert.Equal(t, recommend.SegmentPopular, a.Source, "%s: segment favourites first", msg)
				assert.Equal(t, recommend.Popular, b.Source, msg)
				continue
			}
			assert.True(t, a.Score > b.Score || a.Score == b.Score && pid(a.Product) < pid(b.Product),
				"%s: fallback %d %q %v before %q %v", msg, i-1, a.Product, a.Score, b.Product, b.Score)
		}
	}

	// count: without a cart and without next-basket repeats every eligible
	// product is reachable through the fallbacks (a category cap makes
	// how many depend on the order)
	if len(cart) == 0 && req.MaxPerCategory == 0 {
		if _, nb := snap.RepeatShare(); !nb || !res.Known {
			eligible := 0
			for _, p := range w.products {
				stocked := w.inStock(p.Key) || req.IncludeOutOfStock && !w.nonMerch(p.Key)
				inBand := p.Price >= req.MinPrice && (req.MaxPrice == 0 || p.Price <= req.MaxPrice)
				if stocked && inBand && !excl[p.Key] && inFilter(p.Key) && (bought[p.Key] == 0 || req.AllowRepeats) {
					eligible++
				}
			}
			assert.Equal(t, min(k, eligible), len(res.Recs), "%s: K results whenever the catalog has K eligible products (%d eligible)", msg, eligible)
		}
	}

	// JSON round trip, enums as names
	b, jerr := json.Marshal(res)
	require.NoError(t, jerr, msg)
	var back shop.Result
	require.NoError(t, json.Unmarshal(b, &back), msg)
	assert.Equal(t, res.Customer, back.Customer, msg)
	assert.Equal(t, res.Known, back.Known, msg)
	assert.Equal(t, res.ColdStart, back.ColdStart, msg)
	assert.True(t, res.AsOf.Equal(back.AsOf), msg)
	assert.Equal(t, len(res.Ignored), len(back.Ignored), msg)
	if len(res.Ignored) > 0 {
		assert.Equal(t, res.Ignored, back.Ignored, msg)
	}
	if assert.Len(t, back.Recs, len(res.Recs), msg) {
		for i := range res.Recs {
			assert.Equal(t, res.Recs[i], back.Recs[i], "%s: rec %d after a JSON round trip", msg, i)
		}
	}
	var raw struct {
		Recs []struct {
			Source  any `json:"source"`
			Reasons []struct {
				Kind any    `json:"kind"`
				Text string `json:"text"`
			} `json:"reasons"`
			Explanation string `json:"explanation"`
		} `json:"recommendations"`
	}
	require.NoError(t, json.Unmarshal(b, &raw), msg)
	for _, r := range raw.Recs {
		assert.IsType(t, "", r.Source, msg)
		for _, x := range r.Reasons {
			assert.IsType(t, "", x.Kind, msg)
			assert.NotContains(t, x.Text, "lift 0.", msg)
			assert.False(t, advSmallTimes.MatchString(x.Text), "%s: %q", msg, x.Text)
		}
	}
}

// advRequest returns a random request against w.
func advRequest(r *rand.Rand, w *advWorld, h *affinity.History) shop.Request {
	var req shop.Request
	anyKey := func() string {
		switch n := r.IntN(20); {
		case n == 0:
			return ""
		case n == 1:
			return "no-such ☕"
		case n == 2:
			return []string{"POST", "gv10", "HANDLING", "ZZ-wrap"}[r.IntN(4)]
		case n == 3:
			return strings.TrimSpace(advKey(3)) // a key without its spaces
		}
		return w.products[r.IntN(len(w.products))].Key
	}
	switch n := r.IntN(10); {
	case n < 4:
		req.Customer = w.custs[r.IntN(len(w.custs))]
	case n == 4:
		req.Customer = []string{"new ☕ visitor", " ", "c1 "}[r.IntN(3)]
	case n == 5 && h.NumCustomers() > 0:
		req.ByID, req.CustomerID = true, affinity.CustomerID(r.IntN(h.NumCustomers()))
		if r.IntN(2) == 0 {
			req.Customer = w.custs[r.IntN(len(w.custs))] // ignored: ByID wins
		}
	case n == 6:
		req.ByID, req.CustomerID = true, affinity.CustomerID(h.NumCustomers()+r.IntN(3))
	}
	switch n := r.IntN(6); {
	case n < 2:
	case n == 2:
		req.Cart = []string{"POST", "gv10"}[:1+r.IntN(2)]
	default:
		for range 1 + r.IntN(3) {
			req.Cart = append(req.Cart, anyKey())
		}
		if r.IntN(4) == 0 {
			req.Cart = append(req.Cart, req.Cart[0])
		}
	}
	if r.IntN(3) == 0 {
		for range 1 + r.IntN(3) {
			req.Exclude = append(req.Exclude, anyKey())
		}
	}
	switch n := r.IntN(12); {
	case n == 0:
		req.K = -1 - r.IntN(3)
	case n == 1:
		req.K = shop.MaxK + 1 + r.IntN(3)
	case n == 2:
		req.K = shop.MaxK
	case n == 3:
		req.K = 0
	case n == 4:
		req.K = 1
	default:
		req.K = 1 + r.IntN(12)
	}
	switch n := r.IntN(8); {
	case n < 2:
		req.Category = w.cats[r.IntN(len(w.cats))]
	case n == 2:
		req.Category = []string{"Nope", "Home/", " Home", "Tech ☕/Phones/Cases/X"}[r.IntN(4)]
	}
	if r.IntN(2) == 0 {
		advRules(r, w, &req)
	}
	return req
}

// advRules sets random rules on req, a few of them out of range.
func advRules(r *rand.Rand, w *advWorld, req *shop.Request) {
	price := func() affinity.Money { return w.products[r.IntN(len(w.products))].Price }
	switch n := r.IntN(8); {
	case n == 0:
		req.MinPrice = price()
	case n == 1:
		req.MaxPrice = price()
	case n == 2:
		req.MinPrice, req.MaxPrice = price(), price()
		if req.MinPrice > req.MaxPrice {
			req.MinPrice, req.MaxPrice = req.MaxPrice, req.MinPrice
		}
	case n == 3:
		req.MinPrice = price() // a band of one price
		req.MaxPrice = req.MinPrice
	case n == 4 && r.IntN(4) == 0:
		req.MinPrice, req.MaxPrice = []affinity.Money{-1, 500, 0}[r.IntN(3)], []affinity.Money{0, 499, -5}[r.IntN(3)]
	}
	switch n := r.IntN(6); {
	case n < 2:
		req.MaxPerCategory, req.CategoryDepth = 1+r.IntN(2), r.IntN(4)
	case n == 2 && r.IntN(4) == 0:
		req.MaxPerCategory, req.CategoryDepth = -1+r.IntN(2), -r.IntN(2)
	}
	switch n := r.IntN(8); {
	case n < 2:
		req.Diversity = []float64{0.3, 1, 0.7}[r.IntN(3)]
	case n == 2 && r.IntN(4) == 0:
		req.Diversity = []float64{math.NaN(), -0.1, 1.5, math.Inf(1)}[r.IntN(4)]
	}
	req.AllowRepeats = r.IntN(3) == 0
	req.AllowSubstitutes = r.IntN(3) == 0
	req.IncludeOutOfStock = r.IntN(3) == 0
}

// advRulesValid reports whether req's rules are in range.
func advRulesValid(req shop.Request) bool {
	return req.MinPrice >= 0 && req.MaxPrice >= 0 && (req.MaxPrice == 0 || req.MinPrice <= req.MaxPrice) &&
		req.MaxPerCategory >= 0 && req.CategoryDepth >= 0 && req.Diversity >= 0 && req.Diversity <= 1
}

// advCapped returns the categories key counts toward under a cap at
// depth (0: its own categories), each once.
func advCapped(p affinity.Product, depth int) []string {
	var out []string
	for _, c := range p.Categories {
		c = affinity.CleanCategoryPath(c)
		if parts := strings.Split(c, "/"); depth > 0 && depth < len(parts) {
			c = strings.Join(parts[:depth], "/")
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// advOptions are the shop settings the random tests try.
var advOptions = []struct {
	name  string
	scope string
	isNon func(affinity.Product) bool
	opts  shop.Options
}{
	{"neighbours-basket", "basket", shop.DefaultNonMerchandise, shop.Options{Model: "neighbours", Workers: 1}},
	{"neighbours-customer-zz", "customer", advZZ, shop.Options{Model: "neighbours", Scope: "customer", IsNonMerchandise: advZZ, Workers: 1}},
	{"neighbours-nextbasket", "basket", shop.DefaultNonMerchandise, shop.Options{Model: "neighbours", NextBasket: shop.On, Workers: 1}},
	{"ease-inline", "basket", shop.DefaultNonMerchandise, shop.Options{Model: "ease", ModelRefit: shop.RefitInline, Workers: 1}},
}

// TestAdversarialRequests checks random requests on random small shops,
// opened and refreshed with new orders, new products and stock changes.
func TestAdversarialRequests(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(40, 3)
	for _, oc := range advOptions {
		t.Run(oc.name, func(t *testing.T) {
			for seed := range uint64(seeds) {
				w, src := newAdvWorld(seed+1, oc.isNon)
				opts := oc.opts
				opts.NonMerchandise = w.nonKeys
				s, err := shop.Open(ctx, src, opts)
				require.NoError(t, err, "seed %d", seed)
				for round := range 4 {
					if round > 0 {
						// stock changes, some for products not listed yet:
						// those are not kept
						for range 3 {
							key := w.products[w.r.IntN(len(w.products))].Key
							if w.r.IntN(4) == 0 {
								key = advKey(w.nProds + w.r.IntN(2))
							}
							in := w.r.IntN(3) == 0
							if _, known := s.Snapshot().History().Catalog().LookupProduct(key); known {
								w.live[key] = in
							}
							s.SetInStock(key, in)
						}
						w.live["POST"] = true
						s.SetInStock("POST", true) // never brings non-merchandise back
						var news []affinity.Product
						for range w.r.IntN(3) {
							news = append(news, w.newProduct(true))
						}
						if round == 2 {
							news = append(news, affinity.Product{Key: "DOTCOM-POST", Name: "DOTCOM POSTAGE", Price: 300, InStock: true},
								affinity.Product{Key: "ZZ-box", Name: "ZZ box", Price: 300, InStock: true})
						}
						w.addProducts(news...)
						lines := w.orders(5+w.r.IntN(20), w.r.IntN(4), 10*24*time.Hour)
						feed := w.changes(int64(round))
						require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog(news), shop.Purchases(slices.Values(lines)), shop.Changes(slices.Values(feed)))),
							"seed %d round %d", seed, round)
					}
					snap := s.Snapshot()
					nv := w.naive(oc.scope, snap.AsOf())
					for range 25 {
						req := advRequest(w.r, w, snap.History())
						res, err := snap.Recommend(ctx, req)
						advCheck(t, w, nv, snap, req, res, err)
						if err != nil {
							continue
						}
						again, err := snap.Recommend(ctx, req)
						require.NoError(t, err)
						assert.Equal(t, res, again, "deterministic: %+v", req)
					}
					if t.Failed() {
						t.Logf("seed %d round %d failed", seed, round)
						return
					}
				}
			}
		})
	}
}

// advReasonsTrue checks that every pair reason of the answers to a few
// customer and cart requests states a true count: "in N orders" N orders
// with both products, "by N customers" N customers who bought both, a
// lift of that scope, and the unit wantUnit. It reports the first few
// reasons that do not and how many there were, and returns the number
// of reasons checked.
func advReasonsTrue(t *testing.T, w *advWorld, snap *shop.Snapshot, wantUnit string) (checked int) {
	t.Helper()
	ctx := context.Background()
	byUnit := map[string]*advNaive{"orders": w.naive("basket", snap.AsOf()), "customers": w.naive("customer", snap.AsOf())}
	h := snap.History()
	bad := 0
	for c := range min(h.NumCustomers(), 40) {
		if h.CustomerKey(affinity.CustomerID(c)) == "" {
			continue // erased: ErrUnknownCustomer
		}
		req := shop.Request{ByID: true, CustomerID: affinity.CustomerID(c), K: 10}
		if c%3 == 0 {
			req.Cart = []string{w.merch()[c%len(w.merch())]}
		}
		res, err := snap.Recommend(ctx, req)
		require.NoError(t, err)
		for _, r := range res.Recs {
			for _, x := range r.Reasons() {
				if !x.Kind.Pair() {
					continue
				}
				checked++
				pair := [2]string{x.Product, r.Product}
				var why []string
				nv := byUnit[x.Unit]
				if x.Unit != wantUnit || nv == nil {
					why = append(why, "unit "+x.Unit+", want "+wantUnit)
				}
				if nv != nil {
					c := nv.pair[pair]
					if c != x.Count {
						why = append(why, fmt.Sprintf("%d %s have both", c, x.Unit))
					}
					if sa, sb := nv.support[x.Product], nv.support[r.Product]; sa > 0 && sb > 0 {
						lift := float64(c) * float64(nv.n) / (float64(sa) * float64(sb))
						if math.Abs(lift-x.Lift) > 1e-4*lift {
							why = append(why, fmt.Sprintf("lift %d·%d/(%d·%d) = %.4f in %s", c, nv.n, sa, sb, lift, x.Unit))
						}
					}
				}
				if len(why) == 0 {
					continue
				}
				if bad++; bad <= 3 {
					t.Errorf("customer %q, result %q: %q (count %d, lift %.4f, unit %s; naive: %d orders, %d customers have both); model %v: %s",
						res.Customer, r.Product, x.String(), x.Count, x.Lift, x.Unit, byUnit["orders"].pair[pair], byUnit["customers"].pair[pair], snap.Model(), strings.Join(why, "; "))
				}
			}
		}
	}
	if bad > 3 {
		t.Errorf("%d of %d reasons in all disagree with a count of the history", bad, checked)
	}
	return checked
}

// TestAdversarialLearnedModelReasons: with a learned model the reasons'
// counts still come from the co-purchase neighbours (Options.Model: "the
// neighbours still give the reasons' counts"), in the unit of
// Options.Scope: a model chosen within customers for a shop counted by
// orders must not state customer counts as orders.
func TestAdversarialLearnedModelReasons(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts shop.Options
	}{
		{"ease-basket", shop.Options{Model: "ease", ModelRefit: shop.RefitInline, Workers: 1}},
		{"tuned-ease-customer", shop.Options{Tune: &recommend.Grid{
			Models:       []recommend.Model{{Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: recommend.DefaultEASEMaxDense}},
			MinCustomers: 1,
		}, Workers: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checked := 0
			for seed := range uint64(testdata.Scale(20, 3)) {
				w, src := newAdvWorld(seed+100, shop.DefaultNonMerchandise)
				opts := tc.opts
				opts.NonMerchandise = w.nonKeys
				s, err := shop.Open(ctx, src, opts)
				require.NoError(t, err)
				snap := s.Snapshot()
				if opts.Tune != nil && snap.Tuning() == nil {
					continue // nothing to validate on: the defaults stand
				}
				checked += advReasonsTrue(t, w, snap, "orders")
				if t.Failed() {
					t.Logf("seed %d, model %v", seed, snap.Model())
					return
				}
			}
			t.Logf("%d reasons checked", checked)
		})
	}
}

// TestAdversarialBackgroundRefitReasons: with RefitBackground a refreshed
// snapshot serves the last fit's item-item weights until the new fit is
// done, and "only the learned item-item weights lag" (Options.ModelRefit):
// the reasons' counts (from the neighbours, recounted at every refresh)
// must already be those of the new history. The background fit is held
// at its start (its "model" progress report) while the stale snapshot is
// checked.
func TestAdversarialBackgroundRefitReasons(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(10, 2)) {
		w, src := newAdvWorld(seed+200, shop.DefaultNonMerchandise)
		var hold atomic.Bool
		gate := make(chan struct{})
		progress := func(p affinity.Progress) {
			if p.Step == "model" && hold.Load() {
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
				}
			}
		}
		s, err := shop.Open(ctx, src, shop.Options{Model: "ease", NonMerchandise: w.nonKeys, Workers: 1, Progress: progress})
		require.NoError(t, err)
		release := sync.OnceFunc(func() { close(gate) })
		t.Cleanup(func() { release(); s.Close() })
		hold.Store(true)
		// many more orders of the same products: the counts move a lot
		lines := w.orders(120, 5, 0)
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(lines))))
		snap := s.Snapshot()
		require.False(t, snap.ModelCurrent(), "the fit waits at its start")
		advReasonsTrue(t, w, snap, "orders")
		release()
		require.NoError(t, s.WaitModel(ctx))
		require.True(t, s.Snapshot().ModelCurrent())
		advReasonsTrue(t, w, s.Snapshot(), "orders")
		if t.Failed() {
			t.Logf("seed %d", seed)
			return
		}
	}
}

// TestAdversarialPopularScoreOrder: "Score ranks results of the same
// Source" (recommend.Rec.Score). A cart whose products have little
// evidence above chance gets results the popularity blend placed among
// the neighbours, labelled popular, and then the popularity fallbacks,
// labelled popular too: every popular result is scored on the fallback's
// scale (its popularity relative to the most popular product, as an empty
// request scores it), and the neighbours and the segment fallbacks come
// best first.
func TestAdversarialPopularScoreOrder(t *testing.T) {
	ctx := context.Background()
	bad, popular := 0, 0
	for seed := range uint64(testdata.Scale(20, 3)) {
		w, src := newAdvWorld(seed+1, shop.DefaultNonMerchandise)
		s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours", NonMerchandise: w.nonKeys, Workers: 1})
		require.NoError(t, err)
		snap := s.Snapshot()
		cold, err := snap.Recommend(ctx, shop.Request{K: shop.MaxK})
		require.NoError(t, err)
		fallback := map[string]float64{}
		for _, r := range cold.Recs {
			fallback[r.Product] = r.Score
		}
		for _, key := range w.merch() {
			for _, cust := range []string{"", w.custs[0]} {
				req := shop.Request{Customer: cust, Cart: []string{key}, K: 10}
				res, err := snap.Recommend(ctx, req)
				require.NoError(t, err)
				last := map[recommend.Source]shop.Rec{}
				for i, r := range res.Recs {
					wrong := ""
					switch prev, ok := last[r.Source]; {
					case r.Source == recommend.Popular:
						popular++
						if want, ok := fallback[r.Product]; !ok || want != r.Score {
							wrong = fmt.Sprintf("scores %v, the fallback's %v", r.Score, want)
						}
					case ok && prev.Score < r.Score:
						wrong = fmt.Sprintf("scores %v after %q's %v", r.Score, prev.Product, prev.Score)
					}
					if wrong != "" {
						bad++
						if bad <= 3 {
							var list []string
							for _, r := range res.Recs {
								list = append(list, fmt.Sprintf("%q %v %.4f", r.Product, r.Source, r.Score))
							}
							t.Errorf("seed %d, cart %q, customer %q: result %d %q (%v) %s: %s",
								seed, req.Cart, req.Customer, i, r.Product, r.Source, wrong, strings.Join(list, ", "))
						}
					}
					last[r.Source] = r
				}
			}
		}
	}
	assert.Positive(t, popular, "popular results were checked")
	if bad > 3 {
		t.Errorf("%d results in all broke the score's order or scale", bad)
	}
}

// TestAdversarialRequestsDuringRefresh serves requests while the shop
// refreshes (new orders, new products) and stock changes: every answer
// keeps the promises whatever snapshot it read. Products set out of stock
// before the start (by SetStock), some of them listed only by a later
// refresh, and the non-merchandise never appear.
func TestAdversarialRequestsDuringRefresh(t *testing.T) {
	ctx := context.Background()
	w, src := newAdvWorld(77, shop.DefaultNonMerchandise)
	s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours", NonMerchandise: w.nonKeys, Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	defer s.Close()

	out := map[string]bool{}
	for i, p := range w.merch() {
		if i%5 == 2 {
			out[p] = true
		}
	}
	// products the refreshes will add, the first of each batch set out of
	// stock before it exists
	type batch struct {
		news  []affinity.Product
		lines []affinity.Purchase
	}
	var batches []batch
	for round := range testdata.Scale(12, 4) {
		var b batch
		for range 2 {
			b.news = append(b.news, w.newProduct(true))
		}
		out[b.news[0].Key] = true
		if round == 1 {
			b.news = append(b.news, affinity.Product{Key: "DOTCOM-POST", Name: "DOTCOM POSTAGE", Price: 300, InStock: true})
		}
		w.addProducts(b.news...)
		b.lines = w.orders(15, 2, 5*24*time.Hour)
		batches = append(batches, b)
	}
	non := map[string]bool{}
	for _, p := range w.products {
		if w.nonMerch(p.Key) {
			non[p.Key] = true
		}
	}
	require.True(t, non["DOTCOM-POST"] && non["POST"] && non["HANDLING"])
	s.SetStock(nil, slices.Sorted(maps.Keys(out))) // a whole feed: remembered for the products to come
	toggle := slices.DeleteFunc(w.merch(), func(k string) bool { return out[k] })
	custs := slices.Clone(w.custs)

	stop := make(chan struct{})
	errs := make(chan string, 64)
	report := func(format string, args ...any) {
		select {
		case errs <- fmt.Sprintf(format, args...):
		default:
		}
	}
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				snap := s.Snapshot()
				cat := snap.History().Catalog()
				req := shop.Request{K: 1 + r.IntN(15)}
				if r.IntN(3) > 0 {
					req.Customer = custs[r.IntN(len(custs))]
				}
				if r.IntN(2) == 0 {
					req.Cart = []string{cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts())))}
				}
				res, err := snap.Recommend(ctx, req)
				if err != nil {
					report("%+v: %v", req, err)
					return
				}
				if len(res.Recs) > req.K {
					report("%+v: %d results", req, len(res.Recs))
				}
				seen := map[string]bool{}
				for _, rec := range res.Recs {
					if _, ok := cat.LookupProduct(rec.Product); !ok || seen[rec.Product] {
						report("%+v: unknown or repeated %q", req, rec.Product)
					}
					seen[rec.Product] = true
					if non[rec.Product] || out[rec.Product] || slices.Contains(req.Cart, rec.Product) {
						report("%+v: recommended %q (non-merchandise %v, out of stock %v)", req, rec.Product, non[rec.Product], out[rec.Product])
					}
					for _, x := range rec.Reasons() {
						if non[x.Product] || x.Kind.Pair() && !(x.Lift >= 1) {
							report("%+v: %q reason %+v", req, rec.Product, x)
						}
					}
				}
			}
		})
	}
	wg.Go(func() {
		r := rand.New(rand.NewPCG(5, 5))
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.SetInStock(toggle[r.IntN(len(toggle))], r.IntN(2) == 0)
			s.SetInStock("POST", true)
			time.Sleep(50 * time.Microsecond)
		}
	})
	for _, b := range batches {
		require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog(b.news), shop.Purchases(slices.Values(b.lines)))))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// and at rest, on the last snapshot
	snap := s.Snapshot()
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range out {
			if !yield(k) {
				return
			}
		}
	}) {
		p, ok := snap.History().Catalog().LookupProduct(key)
		require.True(t, ok, key)
		assert.False(t, snap.Engine().InStock(p), "%q set out of stock", key)
	}
}

// TestAdversarialRequestEquivalences checks requests that must get the
// same answer: a cart with duplicates and without, a customer by dense id
// with and without a (different) key beside it, Together and the cart of
// its one product, K = 0 and K = DefaultK; and the edges of K, a cart of
// non-merchandise only, keys with spaces.
func TestAdversarialRequestEquivalences(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(20, 3)) {
		w, src := newAdvWorld(seed+300, shop.DefaultNonMerchandise)
		s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours", NonMerchandise: w.nonKeys, Workers: 1})
		require.NoError(t, err)
		snap := s.Snapshot()
		h := snap.History()
		recs := func(req shop.Request) shop.Result {
			t.Helper()
			res, err := snap.Recommend(ctx, req)
			require.NoError(t, err, "%+v", req)
			return res
		}
		merch := w.merch()
		for i, key := range merch {
			other := merch[(i+1)%len(merch)]
			cust := w.custs[i%len(w.custs)]
			dedup := recs(shop.Request{Customer: cust, Cart: []string{key, other}, K: 7})
			dup := recs(shop.Request{Customer: cust, Cart: []string{key, other, key, other, key}, K: 7})
			assert.Equal(t, dedup.Recs, dup.Recs, "seed %d: duplicates in the cart count once (%q, %q)", seed, key, other)

			tog, err := snap.Together(ctx, key, 6)
			require.NoError(t, err)
			assert.Equal(t, recs(shop.Request{Cart: []string{key}, K: 6}), tog, "seed %d: Together(%q)", seed, key)
		}
		for c := range affinity.CustomerID(h.NumCustomers()) {
			byID := recs(shop.Request{ByID: true, CustomerID: c, K: 5})
			both := recs(shop.Request{ByID: true, CustomerID: c, Customer: w.custs[(int(c)+1)%len(w.custs)], K: 5})
			assert.Equal(t, byID, both, "seed %d: ByID selects CustomerID instead of Customer", seed)
			byKey := recs(shop.Request{Customer: h.CustomerKey(c), K: 5})
			assert.Equal(t, byID, byKey, "seed %d: customer %d by id and by key %q", seed, c, h.CustomerKey(c))
			assert.True(t, byKey.Known, "seed %d: %q", seed, h.CustomerKey(c))
		}

		// K at its edges
		assert.Equal(t, recs(shop.Request{K: shop.DefaultK}), recs(shop.Request{}), "seed %d: K = 0 is DefaultK", seed)
		for _, k := range []int{-1, math.MinInt, shop.MaxK + 1, math.MaxInt} {
			_, err := snap.Recommend(ctx, shop.Request{K: k})
			assert.ErrorIs(t, err, shop.ErrInvalidRequest, "K = %d", k)
			_, err = snap.Together(ctx, merch[0], k)
			assert.ErrorIs(t, err, shop.ErrInvalidRequest, "Together K = %d", k)
		}
		all := recs(shop.Request{K: shop.MaxK})
		stocked := 0
		for _, key := range merch {
			if w.inStock(key) {
				stocked++
			}
		}
		assert.Len(t, all.Recs, stocked, "seed %d: K = MaxK returns every eligible product", seed)
		one := recs(shop.Request{K: 1})
		require.Len(t, one.Recs, 1)
		assert.Equal(t, all.Recs[0], one.Recs[0], "seed %d: K = 1 is the first of the longer list", seed)

		// a cart of non-merchandise only is no evidence
		for _, cart := range [][]string{{"POST"}, {"POST", "gv10", "HANDLING"}} {
			res := recs(shop.Request{Cart: cart, K: 5})
			assert.True(t, res.ColdStart, "seed %d: cart %v", seed, cart)
			assert.Empty(t, res.Ignored)
			assert.Equal(t, recs(shop.Request{K: 5}).Recs, res.Recs, "seed %d: cart %v is like no cart", seed, cart)
			tog, err := snap.Together(ctx, cart[0], 5)
			require.NoError(t, err)
			assert.True(t, tog.ColdStart, "seed %d: Together(%q)", seed, cart[0])
		}

		// a customer who bought only non-merchandise, one who only returned
		at := snap.AsOf().Add(time.Hour)
		extra := []affinity.Purchase{
			{Customer: "only-post ☕", Product: "POST", Order: "x-1", Time: at, Quantity: 1, Price: 500},
			{Customer: "only-post ☕", Product: "gv10", Order: "x-2", Time: at, Quantity: 1, Price: 1000},
			{Customer: "returns-only", Product: merch[0], Order: "x-3", Time: at, Quantity: -1, Price: 100},
		}
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(extra))))
		for _, cust := range []string{"only-post ☕", "returns-only"} {
			res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: cust, K: 5})
			require.NoError(t, err)
			assert.True(t, res.Known, "seed %d: %q", seed, cust)
			assert.True(t, res.ColdStart, "seed %d: %q has no evidence", seed, cust)
			for _, r := range res.Recs {
				assert.True(t, r.Source.Fallback(), "seed %d: %q: %q %v", seed, cust, r.Product, r.Source)
				assert.False(t, w.nonMerch(r.Product))
			}
		}

		// keys are exact: spaces kept, unicode kept, "" unknown
		spaced := advKey(3)
		require.Contains(t, merch, spaced)
		res := recs(shop.Request{Cart: []string{spaced, strings.TrimSpace(spaced), "", "café ☕ 1"}, K: 5})
		assert.Equal(t, []string{strings.TrimSpace(spaced), ""}, res.Ignored, "seed %d", seed)
		for _, r := range res.Recs {
			assert.NotEqual(t, spaced, r.Product)
			assert.NotEqual(t, "café ☕ 1", r.Product)
		}
		_, err = snap.Together(ctx, strings.TrimSpace(spaced), 5)
		assert.ErrorIs(t, err, recommend.ErrUnknownProduct)
		_, err = snap.Together(ctx, "", 5)
		assert.ErrorIs(t, err, recommend.ErrUnknownProduct)
		for _, key := range []string{"", " ", "new ☕ visitor", strings.TrimSpace(w.custs[2])} {
			res := recs(shop.Request{Customer: key, K: 4})
			assert.False(t, res.Known, "seed %d: customer %q", seed, key)
			assert.True(t, res.ColdStart, "seed %d: customer %q", seed, key)
			assert.Equal(t, key, res.Customer)
		}
		if t.Failed() {
			t.Logf("seed %d", seed)
			return
		}
	}
}

// TestAdversarialErasedCustomer: after a customer is erased their key is
// unknown (a cold start), a request by their former dense id names no
// customer of the snapshot (ErrUnknownCustomer), and their orders are no
// evidence in any reason.
func TestAdversarialErasedCustomer(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(10, 2)) {
		w, src := newAdvWorld(seed+400, shop.DefaultNonMerchandise)
		s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours", NonMerchandise: w.nonKeys, Workers: 1})
		require.NoError(t, err)
		h := s.Snapshot().History()
		gone := h.CustomerKey(0)
		require.NoError(t, s.Refresh(ctx, shop.Erase(gone)))
		w.lines = slices.DeleteFunc(w.lines, func(l affinity.Purchase) bool { return l.Customer == gone })
		snap := s.Snapshot()
		res, err := snap.Recommend(ctx, shop.Request{Customer: gone, K: 3})
		require.NoError(t, err)
		assert.False(t, res.Known)
		assert.True(t, res.ColdStart)
		for c := range affinity.CustomerID(snap.History().NumCustomers()) {
			if snap.History().CustomerKey(c) != "" {
				continue
			}
			res, err := snap.Recommend(ctx, shop.Request{ByID: true, CustomerID: c, K: 3})
			assert.ErrorIs(t, err, shop.ErrUnknownCustomer, "seed %d: erased customer's id %d (was %q) answered customer %q, known %v, cold start %v, %d results",
				seed, c, gone, res.Customer, res.Known, res.ColdStart, len(res.Recs))
		}
		advReasonsTrue(t, w, snap, "orders")
		if t.Failed() {
			t.Logf("seed %d", seed)
			return
		}
	}
}

// TestAdversarialAutoModelReasonUnits: with the default Options a
// generated storefront of 1,500 customers chooses EASE within customers
// (Options.Model "auto"), while its co-purchases are counted by orders
// (DefaultScope "basket"): the reasons must still state true order counts
// ("the neighbours still give the reasons' counts").
func TestAdversarialAutoModelReasonUnits(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 1500, Products: 150, Categories: 12, Seed: 1, Days: 365, MeanOrders: 6, Preference: 0.9})
	s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{})
	require.NoError(t, err)
	snap := s.Snapshot()
	t.Logf("model %v", snap.Model())
	w := &advWorld{byKey: map[string]affinity.Product{}, live: map[string]bool{}, isNon: shop.DefaultNonMerchandise, lines: sf.Purchases}
	w.addProducts(sf.Products...)
	assert.Positive(t, advReasonsTrue(t, w, snap, "orders"))
}

// TestAdversarialRenamedNonMerchandise: a refresh that renames a product
// so that it becomes non-merchandise ("Delivery Charge"), or stops being
// one (a voucher renamed to a vase), changes what counts as co-purchase
// evidence: the refreshed snapshot counts as one opened anew on the same
// data, and its reasons agree with a naive count.
func TestAdversarialRenamedNonMerchandise(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(10, 3)) {
		w, src := newAdvWorld(seed+600, shop.DefaultNonMerchandise)
		opts := shop.Options{Model: "neighbours", NonMerchandise: w.nonKeys, Workers: 1}
		s, err := shop.Open(ctx, src, opts)
		require.NoError(t, err)
		top := w.merch()[0]
		renamed := []affinity.Product{w.byKey[top], w.byKey["gv10"]}
		renamed[0].Name, renamed[1].Name = "Delivery Charge", "Gold Vase"
		w.addProducts(renamed...)
		for i, p := range w.products {
			w.products[i] = w.byKey[p.Key]
		}
		lines := w.orders(5, 0, 0)
		require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog(renamed), shop.Purchases(slices.Values(lines)))))
		snap := s.Snapshot()
		require.True(t, snap.IsNonMerchandise(top), "renamed to a charge")
		require.False(t, snap.IsNonMerchandise("gv10"), "renamed to a vase")

		fresh, err := shop.Open(ctx, shop.Sources(shop.Catalog(w.products), shop.Purchases(slices.Values(w.lines))), opts)
		require.NoError(t, err)
		fs := fresh.Snapshot()
		assert.Equal(t, fs.Neighbors().Total(), snap.Neighbors().Total(), "seed %d: transactions counted", seed)
		cat, fcat := snap.History().Catalog(), fs.History().Catalog()
		for p := range cat.NumProducts() {
			key := cat.ProductKey(affinity.ProductID(p))
			fp, ok := fcat.LookupProduct(key)
			require.True(t, ok)
			assert.Equal(t, fs.Neighbors().Support(fp), snap.Neighbors().Support(affinity.ProductID(p)), "seed %d: support of %q", seed, key)
			for _, nb := range snap.Neighbors().Neighbors(affinity.ProductID(p)) {
				assert.False(t, snap.NonMerchandise().Contains(uint32(nb.Product)), "seed %d: %q has non-merchandise neighbour %q", seed, key, cat.ProductKey(nb.Product))
			}
		}
		advReasonsTrue(t, w, snap, "orders")
		if t.Failed() {
			t.Logf("seed %d: renamed %q", seed, top)
			return
		}
	}
}
