package shop_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	demoOnce sync.Once
	demoShop *shop.Shop
	demoErr  error
)

// demo opens the demo storefront once for the tests that only read it.
func demo(t *testing.T) *shop.Shop {
	t.Helper()
	demoOnce.Do(func() { demoShop, demoErr = shop.Open(context.Background(), shop.Demo(), shop.Options{}) })
	require.NoError(t, demoErr)
	return demoShop
}

// demoSized is the demo storefront in the long suite and, in the quick
// suite, a generated one of the same shape (two years, default options
// otherwise) with fewer customers and products, for tests whose point
// does not depend on the demo's size. It is generated once and shared:
// treat it as read-only, as shop.Demo.
var demoSized = sync.OnceValue(func() *dataset.Storefront {
	if testdata.Long() {
		return dataset.Demo()
	}
	return dataset.Generate(dataset.SyntheticOptions{Customers: 1500, Products: 300, Categories: 20})
})

// small is a small generated storefront.
func small(seed uint64) *dataset.Storefront {
	return dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 120, Categories: 12, Seed: seed, Days: 365})
}

// buyer returns a customer with at least two orders, the smallest id.
func buyer(t *testing.T, h *affinity.History) string {
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if lo, hi := h.CustomerOrders(c); hi-lo >= 2 {
			return h.CustomerKey(c)
		}
	}
	t.Fatal("no repeat buyer")
	return ""
}

func TestOpenDemo(t *testing.T) {
	s := demo(t)
	snap := s.Snapshot()
	h := snap.History()
	assert.Equal(t, h.Latest(), snap.AsOf(), "a snapshot is as of its own data")
	assert.Equal(t, 5000, h.NumCustomers())
	assert.Equal(t, time.Date(2025, 12, 30, 23, 59, 59, 0, time.UTC), snap.Segments().AsOf(), "the segment index is as of the end of the day")
	assert.Equal(t, "synthetic", snap.Report().Format)

	key := buyer(t, h)
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: key, K: 5})
	require.NoError(t, err)
	assert.True(t, res.Known)
	assert.False(t, res.ColdStart)
	assert.Equal(t, key, res.Customer)
	require.Len(t, res.Recs, 5)
	withReasons, stated := 0, 0
	for _, r := range res.Recs {
		assert.NotEmpty(t, r.Product)
		assert.NotEmpty(t, r.Name)
		assert.NotEmpty(t, r.Category)
		assert.Positive(t, r.Price)
		for _, x := range r.Reasons() {
			withReasons++
			if x.Kind == recommend.Taste {
				assert.NotEmpty(t, x.Category, "a taste names its category")
				assert.True(t, x.Share > 0 && x.Share <= 1, "share %v", x.Share)
				assert.Equal(t, x.Product, r.Product, "a taste's product is the result")
				assert.True(t, strings.HasSuffix(x.Category, x.Name), "%q names %q", x.Name, x.Category)
				continue
			}
			if x.Kind != recommend.Again {
				assert.GreaterOrEqual(t, x.Lift, 1.0, "a pair bought together less than chance is no reason")
				// the factor is stated only where the count makes it credible
				credible := x.Lift >= 1.05 && recommend.CredibleLift(x.Count, x.Lift) >= 1
				assert.Equal(t, credible, strings.Contains(x.String(), "more often than chance"), "%s: count %d, lift %.2f", x, x.Count, x.Lift)
				if credible {
					stated++
				}
			}
		}
		assert.NotEmpty(t, r.Explanation())
	}
	assert.Positive(t, withReasons)
	assert.Positive(t, stated, "some reason states its factor")

	// The same customer by dense id.
	id, _ := h.LookupCustomer(key)
	res2, err := snap.Recommend(context.Background(), shop.Request{CustomerID: id, ByID: true, K: 5})
	require.NoError(t, err)
	assert.Equal(t, res.Recs, res2.Recs)
	_, err = snap.Recommend(context.Background(), shop.Request{CustomerID: affinity.CustomerID(h.NumCustomers()), ByID: true})
	assert.ErrorIs(t, err, shop.ErrUnknownCustomer)
}

func TestUnknownCustomerIsColdStart(t *testing.T) {
	snap := demo(t).Snapshot()
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: "someone-new", K: 4})
	require.NoError(t, err)
	assert.False(t, res.Known)
	assert.True(t, res.ColdStart, "served from the fallbacks, and the result says so")
	require.Len(t, res.Recs, 4)
	for _, r := range res.Recs {
		assert.Contains(t, []recommend.Source{recommend.Popular, recommend.SegmentPopular}, r.Source)
		assert.Empty(t, r.Reasons())
		assert.Contains(t, r.Explanation(), "popular")
	}
}

func TestRequestErrorsAndIgnoredKeys(t *testing.T) {
	snap := demo(t).Snapshot()
	ctx := context.Background()
	for _, k := range []int{-1, shop.MaxK + 1} {
		_, err := snap.Recommend(ctx, shop.Request{K: k})
		assert.ErrorIs(t, err, shop.ErrInvalidRequest, "K=%d", k)
	}
	_, err := snap.Recommend(ctx, shop.Request{Category: "No/Such/Category"})
	assert.ErrorIs(t, err, shop.ErrUnknownCategory)
	//lint:ignore SA1012 a nil context is what is tested
	_, err = snap.Recommend(nil, shop.Request{}) //nolint:staticcheck
	assert.ErrorIs(t, err, shop.ErrNilContext)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = snap.Recommend(cctx, shop.Request{})
	assert.ErrorIs(t, err, context.Canceled)

	h := snap.History()
	p := h.Catalog().ProductKey(0)
	res, err := snap.Recommend(ctx, shop.Request{Cart: []string{p, "new-sku"}, Exclude: []string{"gone-sku"}, K: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{"new-sku", "gone-sku"}, res.Ignored)
	assert.Len(t, res.Recs, 3)

	res, err = snap.Recommend(ctx, shop.Request{K: 0})
	require.NoError(t, err)
	assert.Len(t, res.Recs, shop.DefaultK)
}

func TestCategoryFilter(t *testing.T) {
	snap := demo(t).Snapshot()
	h := snap.History()
	cat := h.Catalog()
	dept := cat.CategoryPath(cat.Roots()[1])
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: buyer(t, h), Category: dept, K: 8})
	require.NoError(t, err)
	require.Len(t, res.Recs, 8)
	for _, r := range res.Recs {
		assert.Truef(t, r.Category == dept || len(r.Category) > len(dept) && r.Category[:len(dept)+1] == dept+"/", "%s in %s", r.Category, dept)
	}
}

func TestTogether(t *testing.T) {
	snap := demo(t).Snapshot()
	p := snap.History().Catalog().ProductKey(0)
	res, err := snap.Together(context.Background(), p, 5)
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	for _, r := range res.Recs {
		assert.NotEqual(t, p, r.Product)
	}
	_, err = snap.Together(context.Background(), "no-such-product", 5)
	assert.ErrorIs(t, err, recommend.ErrUnknownProduct)
}

func TestJSONRoundTrip(t *testing.T) {
	snap := demo(t).Snapshot()
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: buyer(t, snap.History()), K: 6})
	require.NoError(t, err)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var back shop.Result
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, res.Customer, back.Customer)
	assert.Equal(t, res.Known, back.Known)
	assert.True(t, res.AsOf.Equal(back.AsOf))
	require.Len(t, back.Recs, len(res.Recs))
	for i := range res.Recs {
		assert.Equal(t, res.Recs[i], back.Recs[i])
	}
	// Names, not numbers, in the JSON.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	first := raw["recommendations"].([]any)[0].(map[string]any)
	assert.Contains(t, []any{"neighbors", "rebuy", "segment-popular", "popular", "repeat"}, first["source"])
	assert.IsType(t, "", first["price"], "money as an exact decimal string")
	assert.NotEmpty(t, first["explanation"])

	var bad shop.Rec
	assert.Error(t, json.Unmarshal([]byte(`{"product":"x","price":"1.00","source":"gossip"}`), &bad))
	assert.Error(t, json.Unmarshal([]byte(`{"product":"x","price":"abc","source":"popular"}`), &bad))
}

func TestSegmentAudience(t *testing.T) {
	snap := demo(t).Snapshot()
	aud, err := snap.Segment(`frequency >= 3`)
	require.NoError(t, err)
	n := aud.Len()
	require.Positive(t, n)
	st := aud.Stats()
	assert.Equal(t, n, st.Customers)
	assert.Positive(t, aud.Revenue())
	assert.Equal(t, st.AOV, aud.AOV())

	for _, order := range []shop.Order{shop.ByKey, shop.BySpend, shop.ByRecency} {
		t.Run(order.String(), func(t *testing.T) {
			all, err := aud.All(order)
			require.NoError(t, err)
			require.Len(t, all, n)
			// Pages of 7 put together are All.
			var paged []shop.Member
			for off := 0; ; off += 7 {
				page, err := aud.Page(order, off, 7)
				require.NoError(t, err)
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
			}
			assert.Equal(t, all, paged)
			// The order is the documented one, checked pairwise.
			for i := 1; i < len(all); i++ {
				a, b := all[i-1], all[i]
				switch order {
				case shop.ByKey:
					assert.Less(t, a.Customer, b.Customer)
				case shop.BySpend:
					assert.True(t, a.Spend > b.Spend || a.Spend == b.Spend && a.Customer < b.Customer)
				case shop.ByRecency:
					assert.True(t, a.LastPurchase.After(b.LastPurchase) || a.LastPurchase.Equal(b.LastPurchase) && a.Customer < b.Customer)
				}
			}
			var total affinity.Money
			for _, m := range all {
				total += m.Spend
			}
			assert.Equal(t, st.Revenue, total, "members' spend adds up to the audience revenue")
			parsed, err := shop.ParseOrder(order.String())
			require.NoError(t, err)
			assert.Equal(t, order, parsed)
		})
	}
	_, err = aud.Page(shop.ByKey, 0, 0)
	assert.Error(t, err)
	_, err = aud.Page(shop.ByKey, -1, 5)
	assert.Error(t, err)
	page, err := aud.Page(shop.ByKey, n+10, 5)
	require.NoError(t, err)
	assert.Empty(t, page)

	var buf bytes.Buffer
	require.NoError(t, aud.WriteCSV(&buf, shop.BySpend))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1)
	assert.Equal(t, []string{"customer", "spend", "orders", "last_purchase", "rfm_segment", "lifecycle"}, rows[0])
	all, _ := aud.All(shop.BySpend)
	assert.Equal(t, all[0].Customer, rows[1][0])
	assert.Equal(t, all[0].Spend.String(), rows[1][1])

	// The JSON form is the statistics, money exact.
	b, err := json.Marshal(aud)
	require.NoError(t, err)
	var js map[string]any
	require.NoError(t, json.Unmarshal(b, &js))
	assert.Equal(t, map[string]any{"query": "frequency >= 3", "customers": float64(n), "share": st.Share,
		"orders": float64(st.Orders), "revenue": st.Revenue.String(), "revenue_share": st.RevenueShare, "aov": st.AOV.String()}, js)
	top, err := aud.Page(shop.BySpend, 0, 1)
	require.NoError(t, err)
	b, err = json.Marshal(top[0])
	require.NoError(t, err)
	var mj map[string]any
	require.NoError(t, json.Unmarshal(b, &mj))
	assert.Equal(t, top[0].Spend.String(), mj["spend"], "a member's spend as exact decimal text")
	assert.Equal(t, top[0].Customer, mj["customer"])
	for _, k := range []string{"revenue", "aov"} {
		m, err := affinity.ParseMoney(js[k].(string), '.')
		require.NoError(t, err)
		assert.Equal(t, map[string]affinity.Money{"revenue": st.Revenue, "aov": st.AOV}[k], m, k)
	}

	_, err = snap.Segment(`frequency >= `)
	var se *segment.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Positive(t, se.Column)
}

// nonMerchShop is a small shop where postage is on most orders and a gift
// voucher on some: both would dominate co-purchase counts and popularity.
func nonMerchShop(t *testing.T) (shop.Source, *dataset.Storefront) {
	sf := small(3)
	sf.Products = append(sf.Products,
		affinity.Product{Key: "POST", Name: "POSTAGE", Price: affinity.MoneyFromFloat(18), InStock: true},
		affinity.Product{Key: "gift_0001_10", Name: "Dotcomgiftshop Gift Voucher £10.00", Price: affinity.MoneyFromFloat(10), InStock: true},
		affinity.Product{Key: "FEE-X", Name: "Handling", InStock: true})
	var extra []affinity.Purchase
	seen := map[string]bool{}
	for i, p := range sf.Purchases {
		if seen[p.Order] {
			continue
		}
		seen[p.Order] = true
		if i%4 != 3 {
			extra = append(extra, affinity.Purchase{Customer: p.Customer, Product: "POST", Order: p.Order, Time: p.Time, Quantity: 1, Price: affinity.MoneyFromFloat(18)})
		}
		if i%9 == 0 {
			extra = append(extra, affinity.Purchase{Customer: p.Customer, Product: "gift_0001_10", Order: p.Order, Time: p.Time, Quantity: 1, Price: affinity.MoneyFromFloat(10)})
			extra = append(extra, affinity.Purchase{Customer: p.Customer, Product: "FEE-X", Order: p.Order, Time: p.Time, Quantity: 1, Price: affinity.MoneyFromFloat(1)})
		}
	}
	sf.Purchases = append(sf.Purchases, extra...)
	return shop.Storefront(sf), sf
}

func TestNonMerchandiseNeverAppears(t *testing.T) {
	ctx := context.Background()
	src, _ := nonMerchShop(t)
	s, err := shop.Open(ctx, src, shop.Options{NonMerchandise: []string{"FEE-X"}})
	require.NoError(t, err)
	snap := s.Snapshot()
	for _, k := range []string{"POST", "gift_0001_10", "FEE-X"} {
		assert.True(t, snap.IsNonMerchandise(k), k)
	}
	h := snap.History()
	non := snap.NonMerchandise()
	// Not counted: no neighbour list holds them, and theirs are empty.
	for p := range h.Catalog().NumProducts() {
		for _, nb := range snap.Neighbors().Neighbors(affinity.ProductID(p)) {
			assert.False(t, non.Contains(uint32(nb.Product)), "neighbour %d of %d", nb.Product, p)
		}
	}
	check := func(res shop.Result) {
		for _, r := range res.Recs {
			assert.False(t, snap.IsNonMerchandise(r.Product), "recommended %s", r.Product)
			for _, x := range r.Reasons() {
				assert.False(t, snap.IsNonMerchandise(x.Product), "reason %s", x.Product)
			}
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		res, err := snap.Recommend(ctx, shop.Request{CustomerID: c, ByID: true, K: 10})
		require.NoError(t, err)
		check(res)
	}
	res, err := snap.Recommend(ctx, shop.Request{K: 20})
	require.NoError(t, err)
	check(res)
	res, err = snap.Recommend(ctx, shop.Request{Cart: []string{"POST"}, K: 10})
	require.NoError(t, err)
	check(res)

	// Marking them in stock does not bring them back.
	s.SetInStock("POST", true)
	res, err = s.Snapshot().Recommend(ctx, shop.Request{K: 20})
	require.NoError(t, err)
	check(res)
}

func TestDefaultNonMerchandise(t *testing.T) {
	for name, want := range map[string]bool{
		"POSTAGE": true, "DOTCOM POSTAGE": true, "CARRIAGE": true, "Next Day Carriage": true, "Manual": true,
		"Bank Charges": true, "AMAZON FEE": true, "SAMPLES": true, "Discount": true, "CRUK Commission": true,
		"Adjust bad debt": true, "Dotcomgiftshop Gift Voucher £100.00": true, "express delivery fee": true,
		"FRENCH CARRIAGE LANTERN": false, "BLACK BAROQUE CARRIAGE CLOCK": false, "PIGGY BANK RETROSPOT": false,
		"ZINC HEART LATTICE CHARGER LARGE": false, "": false, "Running Shoe": false,
		"Fee": true, " fees ": true, "SURCHARGE": true, "Coffee": false, "Toffee": false, "Feed": false,
		// words, not parts of words; a gift card followed by amounts only
		"AMAZON ADJUSTMENT": true, "taig adjust": true, "Adjustments.": true, "Gift card": true, "GIFT CARD 25 EUR": true,
		"e-giftcard $50": true, "Gift Certificate £20": true, "postage & packing": true, "(postage)": true,
		"Adjustable Dumbbell Set": false, "ADJUSTABLE WRENCH": false, "Commissioner Gordon Figure": false,
		"Gift Card Holder": false, "Vintage Postage Stamp Album": false, "POSTAGE STAMPS TIN": false,
		"Gift Voucher Envelope": false, "VOUCHER": false,
		// punctuation in the exact phrases and the endings
		"Bank Charges.": true, "SAMPLES.": true, "Discount!": true, "Next-Day Carriage": true, "Card-fee": true,
		"Fee.": true, "Service charge:": true, "Manual *": true, "POSTAGE.": true, "delivery - charge": true,
		"Amazon_Fee": true, "***": false, "Coffee.": false, "Manual-Grinder": false, "Discount Card Wallet": false,
	} {
		assert.Equal(t, want, shop.DefaultNonMerchandise(affinity.Product{Name: name}), name)
	}
}

func TestStockSurvivesRefresh(t *testing.T) {
	ctx := context.Background()
	sf := small(5)
	half := len(sf.Purchases) / 2
	first := *sf
	first.Purchases = sf.Purchases[:half]
	first.Events = nil
	s, err := shop.Open(ctx, shop.Storefront(&first), shop.Options{})
	require.NoError(t, err)

	popular := func() []string {
		res, err := s.Snapshot().Recommend(ctx, shop.Request{K: 5})
		require.NoError(t, err)
		var keys []string
		for _, r := range res.Recs {
			keys = append(keys, r.Product)
		}
		return keys
	}
	top := popular()[0]
	s.SetInStock(top, false)
	assert.NotContains(t, popular(), top, "out of stock at once")
	s.SetInStock("not-yet-listed", false) // not known: not kept

	before := s.Snapshot()
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(sf.Purchases[half:]))))
	after := s.Snapshot()
	assert.NotSame(t, before, after)
	assert.Equal(t, len(sf.Purchases), after.History().NumLines(), "the refresh added the second half")
	assert.True(t, after.AsOf().After(before.AsOf()) || after.AsOf().Equal(before.AsOf()))
	assert.NotContains(t, popular(), top, "the stock setting survives the refresh")

	s.SetInStock(top, true)
	assert.Contains(t, popular(), top, "back in stock")

	// The old snapshot still answers (requests in flight are unaffected).
	_, err = before.Recommend(ctx, shop.Request{K: 3})
	require.NoError(t, err)
}

// TestUpdateStock checks that UpdateStock is SetInStock for many keys at
// once: earlier settings of other keys stay, a key in both lists ends out
// of stock, and unknown keys change nothing.
func TestUpdateStock(t *testing.T) {
	ctx := context.Background()
	sf := small(5)
	served := func(s *shop.Shop) []string {
		res, err := s.Snapshot().Recommend(ctx, shop.Request{K: shop.MaxK})
		require.NoError(t, err)
		var keys []string
		for _, r := range res.Recs {
			keys = append(keys, r.Product)
		}
		return keys
	}
	batch, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	one, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	all := served(batch)
	require.Greater(t, len(all), 6)
	batch.SetInStock(all[0], false)
	one.SetInStock(all[0], false)

	in, out := []string{all[1], all[3]}, []string{all[2], all[3], "not-yet-listed"}
	batch.UpdateStock(in, out)
	for _, k := range in {
		one.SetInStock(k, true)
	}
	for _, k := range out {
		one.SetInStock(k, false)
	}
	got := served(batch)
	assert.Equal(t, served(one), got)
	for _, k := range []string{all[0], all[2], all[3]} {
		assert.NotContains(t, got, k)
	}
	assert.Contains(t, got, all[1])
}

func TestRefreshFailureKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(6)), shop.Options{})
	require.NoError(t, err)
	before := s.Snapshot()
	bad := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		return dataset.Report{}, errors.New("feed down")
	})
	require.ErrorContains(t, s.Refresh(ctx, bad), "feed down")
	assert.Same(t, before, s.Snapshot())
	bad2 := shop.Purchases(slices.Values([]affinity.Purchase{{Customer: "x", Product: "", Time: before.AsOf(), Quantity: 1}}))
	require.Error(t, s.Refresh(ctx, bad2))
	assert.Same(t, before, s.Snapshot())
}

func TestProgressAndCancel(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var steps []string
	ends := map[string]bool{}
	opts := shop.Options{Progress: func(p affinity.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(steps) == 0 || steps[len(steps)-1] != p.Step {
			steps = append(steps, p.Step)
		}
		if p.Total > 0 && p.Done == p.Total {
			ends[p.Step] = true
		}
	}}
	_, err := shop.Open(ctx, shop.Storefront(small(7)), opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"load", "history", "segment", "count", "neighbours", "engine"}, steps)
	for _, s := range steps {
		assert.True(t, ends[s], "step %s reported its end", s)
	}

	for _, stop := range []string{"load", "segment", "count", "engine"} {
		t.Run("cancel at "+stop, func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			o := shop.Options{Progress: func(p affinity.Progress) {
				if p.Step == stop {
					cancel()
				}
			}}
			_, err := shop.Open(cctx, shop.Storefront(small(7)), o)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]shop.Options{
		"scope":     {Scope: "weekly"},
		"measure":   {Measure: "vibes"},
		"learned":   {Measure: "ease"},
		"neighbors": {Neighbors: -1},
		"halflife":  {HalfLife: -time.Hour},
		"lookback":  {Lookback: affinity.Lookback{Months: -1}},
	} {
		_, err := shop.Open(ctx, shop.Storefront(small(1)), o)
		assert.Error(t, err, name)
	}
	//lint:ignore SA1012 a nil context is what is tested
	_, err := shop.Open(nil, shop.Demo(), shop.Options{}) //nolint:staticcheck
	assert.ErrorIs(t, err, shop.ErrNilContext)
	_, err = shop.Open(ctx, nil, shop.Options{})
	assert.Error(t, err)
	_, err = shop.Open(ctx, shop.File("no/such/file.csv", "csv"), shop.Options{})
	assert.Error(t, err)
	_, err = shop.Open(ctx, shop.File("x.csv", "parquet"), shop.Options{})
	assert.ErrorContains(t, err, "unknown format")
}

func TestEmptyShop(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil))), shop.Options{})
	require.NoError(t, err)
	res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: "c1", K: 3})
	require.NoError(t, err)
	assert.Empty(t, res.Recs)
	assert.True(t, res.ColdStart)
	// A first order arrives.
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "c1", Product: "a", Order: "o1", Time: t0, Quantity: 1, Price: 10_000},
		{Customer: "c1", Product: "b", Order: "o1", Time: t0, Quantity: 1, Price: 20_000},
	}))))
	assert.Equal(t, t0, s.Snapshot().AsOf())
	aud, err := s.Snapshot().Segment("frequency >= 1")
	require.NoError(t, err)
	assert.Equal(t, 1, aud.Len())
}

// TestGuestCheckoutShop checks a shop whose orders are all anonymous
// (the baskets format, a shop of guest checkouts): it opens, its carts get
// co-purchase recommendations, its audiences are empty, and its first
// customers join the segments at the next refresh as a new shop would
// see them.
func TestGuestCheckoutShop(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.File(filepath.Join("..", "dataset", "testdata", "baskets.csv"), "baskets"), shop.Options{})
	require.NoError(t, err)
	snap := s.Snapshot()
	require.Zero(t, snap.History().Summary().Buyers)
	require.Positive(t, snap.History().Summary().AnonymousOrders)
	res, err := snap.Recommend(ctx, shop.Request{Cart: []string{"whole milk"}, K: 3})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Recs)
	for _, q := range []string{"frequency >= 1", "not rfm(\"Champions\")", "recency <= 30d"} {
		aud, err := snap.Segment(q)
		require.NoError(t, err, q)
		assert.Zero(t, aud.Len(), q)
	}

	at := snap.History().Latest().Add(time.Hour)
	first := []affinity.Purchase{
		{Customer: "c1", Product: "whole milk", Order: "o1", Time: at, Quantity: 1, Price: 99},
		{Customer: "c1", Product: "yogurt", Order: "o1", Time: at, Quantity: 2, Price: 129},
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(first))))
	fresh, err := shop.Open(ctx, shop.Sources(shop.File(filepath.Join("..", "dataset", "testdata", "baskets.csv"), "baskets"), shop.Purchases(slices.Values(first))), shop.Options{})
	require.NoError(t, err)
	for _, q := range []string{"frequency >= 1", "monetary > 0", "bought(\"Milk\")", "not rfm(\"Champions\")"} {
		got, err := s.Snapshot().Segment(q)
		require.NoError(t, err, q)
		want, err := fresh.Snapshot().Segment(q)
		require.NoError(t, err, q)
		gotAll, err := got.All(shop.ByKey)
		require.NoError(t, err, q)
		wantAll, err := want.All(shop.ByKey)
		require.NoError(t, err, q)
		assert.Equal(t, wantAll, gotAll, q)
		assert.Equal(t, 1, got.Len(), q)
	}
}

func TestFixedAsOf(t *testing.T) {
	ctx := context.Background()
	sf := small(8)
	asOf := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{AsOf: asOf})
	require.NoError(t, err)
	assert.Equal(t, asOf, s.Snapshot().AsOf())
	assert.Equal(t, asOf, s.Snapshot().Segments().AsOf())
	assert.Equal(t, asOf, s.Snapshot().Engine().AsOf())
}

func TestConcurrentRequestsDuringRefresh(t *testing.T) {
	ctx := context.Background()
	sf := small(9)
	n := len(sf.Purchases)
	first := *sf
	first.Purchases = sf.Purchases[:n/2]
	s, err := shop.Open(ctx, shop.Storefront(&first), shop.Options{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				snap := s.Snapshot()
				key := snap.History().CustomerKey(affinity.CustomerID((g*31 + i) % snap.History().NumCustomers()))
				if _, err := snap.Recommend(ctx, shop.Request{Customer: key, K: 5}); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					s.SetInStock(snap.History().Catalog().ProductKey(affinity.ProductID(i%50)), i%20 == 0)
				}
			}
		})
	}
	for i := 1; i <= 4; i++ {
		lo, hi := n/2+(i-1)*n/8, n/2+i*n/8
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(sf.Purchases[lo:hi]))))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, n/2+4*n/8, s.Snapshot().History().NumLines())
}

func ExampleOpen() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	snap := s.Snapshot()
	fmt.Println("as of", snap.AsOf().Format(time.DateOnly))

	res, err := snap.Recommend(ctx, shop.Request{Customer: "a-new-visitor", K: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("known:", res.Known, "cold start:", res.ColdStart, "results:", len(res.Recs))

	aud, err := snap.Segment(`frequency >= 5`)
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := json.NewEncoder(os.Stdout) // the audience's statistics, ready to serve
	enc.SetEscapeHTML(false)
	if err := enc.Encode(aud); err != nil {
		fmt.Println(err)
	}
	// Output:
	// as of 2025-12-30
	// known: false cold start: true results: 3
	// {"query":"frequency >= 5","customers":1476,"share":0.2952,"orders":11937,"revenue":"537476.72","revenue_share":0.6065772000088795,"aov":"45.0261"}
}

func TestNextBasketMode(t *testing.T) {
	ctx := context.Background()
	sf := small(12)
	for _, tc := range []struct {
		mode shop.Mode
		on   bool
	}{{shop.Off, false}, {shop.On, true}} {
		s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{NextBasket: tc.mode})
		require.NoError(t, err)
		_, on := s.Snapshot().RepeatShare()
		assert.Equal(t, tc.on, on)
		if tc.on {
			res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: buyer(t, s.Snapshot().History()), K: 10})
			require.NoError(t, err)
			repeats := 0
			for _, r := range res.Recs {
				if r.Source == recommend.Repeat {
					repeats++
					assert.NotEmpty(t, r.Explanation())
				}
			}
			assert.Positive(t, repeats, "next-basket mode serves the customer's own items")
		}
	}
	share, on := demo(t).Snapshot().RepeatShare()
	assert.InDelta(t, 0.36, share, 0.01, "the demo's repeat share")
	assert.False(t, on, "Auto: a gift shop is served explore items")
	_, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{NextBasket: 7})
	assert.Error(t, err)
}
