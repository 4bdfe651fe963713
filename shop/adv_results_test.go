package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var resT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// resOrder is one order of a tiny shop: customer and product keys.
type resOrder struct {
	cust  string
	items []string
}

// resRep repeats an order n times, each for a customer of its own
// (prefix + index).
func resRep(n int, prefix string, items ...string) []resOrder {
	out := make([]resOrder, n)
	for i := range out {
		out[i] = resOrder{fmt.Sprintf("%s%d", prefix, i), items}
	}
	return out
}

func resOpen(t *testing.T, cat []affinity.Product, orders []resOrder) *shop.Snapshot {
	t.Helper()
	var lines []affinity.Purchase
	for i, o := range orders {
		for _, p := range o.items {
			lines = append(lines, affinity.Purchase{Customer: o.cust, Product: p, Order: fmt.Sprintf("o%d", i),
				Time: resT0.Add(time.Duration(i) * time.Minute), Quantity: 1, Price: 10000})
		}
	}
	s, err := shop.Open(context.Background(), shop.Sources(shop.Catalog(cat), shop.Purchases(slices.Values(lines))),
		shop.Options{Model: "neighbours", NextBasket: shop.Off, Workers: 1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s.Snapshot()
}

const resLongName = "Extremely Long Product Name "

var resNames = map[string]string{
	"A": "Running Shoes",
	"B": "",                              // no name: the key stands in
	"C": `Say "hi" \ <b>&</b> 😀`,         // quotes, backslash, HTML, emoji
	"D": "שלום עולם",                     // RTL text
	"E": strings.Repeat(resLongName, 40), // very long
	"F": "Filler",
	"G": "Gadget",
}

func resCatalog() []affinity.Product {
	cats := map[string]string{"A": "Apparel/Sportswear", "B": "Apparel/Socks", "C": "Home/Kitchen", "D": "Home/Garden",
		"E": "Toys", "F": "Apparel", "G": "Apparel/Sportswear/Running"}
	prices := map[string]affinity.Money{"A": 125000, "B": 10, "C": 19990, "D": 5000, "E": 1, "F": 999999, "G": 0}
	var out []affinity.Product
	for _, k := range []string{"A", "B", "C", "D", "E", "F", "G"} {
		out = append(out, affinity.Product{Key: k, Name: resNames[k], Categories: []string{cats[k]}, Price: prices[k], InStock: true})
	}
	return out
}

// resWorld: A is bought with each of B, C, D, E in a known number of
// orders, and F and G alone; the counts give a naive lift per pair.
func resWorld() (orders []resOrder, nOrders int, count map[string]int, with map[[2]string]int) {
	add := func(n int, prefix string, items ...string) { orders = append(orders, resRep(n, prefix, items...)...) }
	add(12, "ab", "A", "B")
	add(5, "ac", "A", "C")
	add(3, "ad", "A", "D")
	add(2, "ae", "A", "E")
	add(4, "a", "A")
	add(6, "b", "B")
	add(4, "c", "C")
	add(9, "f", "F")
	add(3, "g", "G")
	add(2, "cd", "C", "D")
	count = map[string]int{}
	with = map[[2]string]int{}
	for _, o := range orders {
		for _, p := range o.items {
			count[p]++
			for _, q := range o.items {
				if p != q {
					with[[2]string{p, q}]++
				}
			}
		}
	}
	return orders, len(orders), count, with
}

func resReasonsOf(t *testing.T, r *shop.Rec) []shop.Reason {
	t.Helper()
	return r.Reasons()
}

// TestResTogetherReasons checks a cart request's reasons against the
// naive counts: Count is the number of orders with both, Unit "orders",
// Lift the orders' observed over expected co-count, the explanation names
// the product (or its key) and states the lift as documented.
func TestResTogetherReasons(t *testing.T) {
	orders, n, count, with := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	res, err := snap.Recommend(context.Background(), shop.Request{Cart: []string{"A"}, K: 10})
	require.NoError(t, err)
	assert.False(t, res.ColdStart, "a cart with co-purchases is no cold start")
	assert.False(t, res.Known)
	assert.Nil(t, res.Ignored)
	seen := map[string]bool{}
	for i := range res.Recs {
		r := &res.Recs[i]
		assert.NotEqual(t, "A", r.Product, "the cart's own product")
		assert.False(t, seen[r.Product], "duplicate %s", r.Product)
		seen[r.Product] = true
		assert.Equal(t, resNames[r.Product], r.Name)
		if r.Source.Fallback() {
			assert.Empty(t, r.Reasons(), "a fallback has no reasons")
			continue
		}
		rs := resReasonsOf(t, r)
		require.NotEmpty(t, rs, "%s from %v without a reason", r.Product, r.Source)
		x := rs[0]
		require.Equal(t, recommend.Together, x.Kind)
		assert.Equal(t, "A", x.Product)
		assert.Equal(t, "Running Shoes", x.Name)
		assert.Equal(t, "orders", x.Unit)
		assert.Equal(t, with[[2]string{"A", r.Product}], x.Count, "co-count of A and %s", r.Product)
		naive := float64(x.Count) * float64(n) / float64(count["A"]*count[r.Product])
		assert.InDelta(t, naive, x.Lift, 1e-6*naive, "lift of A and %s", r.Product)
		assert.GreaterOrEqual(t, x.Lift, 1.0)
		want := fmt.Sprintf("bought together with Running Shoes in %d orders", x.Count)
		if recommend.StatesLift(x.Count, x.Lift) {
			want += fmt.Sprintf(" — %.1f× more often than chance", x.Lift)
		}
		assert.Equal(t, want, x.String())
		assert.True(t, strings.HasPrefix(r.Explanation(), want), "%q", r.Explanation())
	}
	assert.True(t, seen["B"] && seen["C"] && seen["D"] && seen["E"], "every co-purchase of A: %v", seen)
}

// TestResNamesInExplanations: the product that led to a result is named
// verbatim — quotes, emoji, RTL, very long — or by its key without a
// name; the JSON carries the names and decodes back to the same Rec.
func TestResNamesInExplanations(t *testing.T) {
	orders, _, _, _ := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	for _, key := range []string{"B", "C", "D", "E"} {
		res, err := snap.Together(context.Background(), key, 5)
		require.NoError(t, err, key)
		require.NotEmpty(t, res.Recs, key)
		var found bool
		for i := range res.Recs {
			r := &res.Recs[i]
			for _, x := range r.Reasons() {
				if !x.Kind.Pair() {
					continue
				}
				found = true
				assert.Equal(t, key, x.Product)
				assert.Equal(t, resNames[key], x.Name)
				shown := resNames[key]
				if shown == "" {
					shown = key
				}
				assert.Contains(t, x.String(), "with "+shown+" in ", "reason for %s", key)
				assert.Contains(t, r.Explanation(), shown)
			}
		}
		assert.True(t, found, "a reason naming %s", key)
		b, err := json.Marshal(res)
		require.NoError(t, err)
		require.True(t, json.Valid(b))
		var back shop.Result
		require.NoError(t, json.Unmarshal(b, &back))
		require.Len(t, back.Recs, len(res.Recs))
		for i := range res.Recs {
			assert.Equal(t, res.Recs[i], back.Recs[i])
			assert.Equal(t, res.Recs[i].Explanation(), back.Recs[i].Explanation())
		}
		assert.True(t, res.AsOf.Equal(back.AsOf))
		assert.Equal(t, res.ColdStart, back.ColdStart)
		// AppendJSON is MarshalJSON.
		b2, err := res.AppendJSON([]byte("x"))
		require.NoError(t, err)
		assert.Equal(t, "x"+string(b), string(b2))
	}
}

// TestResPrices: Rec.Price is the catalog's list price, its JSON the
// exact decimal text as Money marshals it (two decimals at least).
func TestResPrices(t *testing.T) {
	orders, _, _, _ := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	res, err := snap.Recommend(context.Background(), shop.Request{K: 10})
	require.NoError(t, err)
	want := map[string]string{"A": "12.50", "B": "0.001", "C": "1.999", "D": "0.50", "E": "0.0001", "F": "99.9999", "G": "0.00"}
	cat := resCatalog()
	require.Len(t, res.Recs, len(cat), "every product is popular with K above the catalogue")
	for i := range res.Recs {
		r := res.Recs[i]
		idx := slices.IndexFunc(cat, func(p affinity.Product) bool { return p.Key == r.Product })
		require.GreaterOrEqual(t, idx, 0)
		assert.Equal(t, cat[idx].Price, r.Price)
		assert.Equal(t, cat[idx].Categories[0], r.Category)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(b, &raw))
		assert.Equal(t, want[r.Product], raw["price"], "price of %s", r.Product)
		assert.Equal(t, r.Source.String(), raw["source"])
	}
}

// TestResColdStart: the Result flags of the documented cases.
func TestResColdStart(t *testing.T) {
	orders, _, _, _ := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		req         shop.Request
		known, cold bool
		ignored     []string
	}{
		{"nobody", shop.Request{}, false, true, nil},
		{"unknown customer", shop.Request{Customer: "new-visitor"}, false, true, nil},
		{"unknown customer, unknown cart", shop.Request{Customer: "new-visitor", Cart: []string{"zz"}}, false, true, []string{"zz"}},
		{"unknown customer, known cart", shop.Request{Customer: "new-visitor", Cart: []string{"A"}}, false, false, nil},
		{"known customer", shop.Request{Customer: "ab0"}, true, false, nil},
		{"cart of a lone product", shop.Request{Cart: []string{"F"}}, false, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := snap.Recommend(ctx, tc.req)
			require.NoError(t, err)
			assert.Equal(t, tc.req.Customer, res.Customer)
			assert.Equal(t, tc.known, res.Known)
			assert.Equal(t, tc.cold, res.ColdStart)
			assert.Equal(t, tc.ignored, res.Ignored)
			assert.True(t, res.AsOf.Equal(snap.AsOf()))
			require.NotEmpty(t, res.Recs)
			allFallback := true
			for i := range res.Recs {
				if !res.Recs[i].Source.Fallback() {
					allFallback = false
				}
			}
			assert.Equal(t, res.ColdStart, allFallback, "ColdStart iff all are popularity fallbacks")
			// The flags survive JSON.
			b, err := json.Marshal(res)
			require.NoError(t, err)
			var back shop.Result
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, res.Known, back.Known)
			assert.Equal(t, res.ColdStart, back.ColdStart)
			assert.Equal(t, res.Customer, back.Customer)
			assert.Equal(t, res.Ignored, back.Ignored)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(b, &raw))
			assert.Equal(t, tc.cold, raw["cold_start"])
			assert.Equal(t, tc.known, raw["known"])
			_, hasIgnored := raw["ignored"]
			assert.Equal(t, tc.ignored != nil, hasIgnored)
		})
	}
}

// TestResKBounds: K outside [0, MaxK] is ErrInvalidRequest; 0 is
// DefaultK; a smaller K is a prefix of a larger one's answer.
func TestResKBounds(t *testing.T) {
	orders, _, _, _ := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	ctx := context.Background()
	for _, k := range []int{-1, shop.MaxK + 1, -1 << 62} {
		_, err := snap.Recommend(ctx, shop.Request{K: k})
		assert.ErrorIs(t, err, shop.ErrInvalidRequest, "K %d", k)
		_, err = snap.Together(ctx, "A", k)
		assert.ErrorIs(t, err, shop.ErrInvalidRequest, "Together K %d", k)
	}
	for _, req := range []shop.Request{{}, {Cart: []string{"A"}}, {Customer: "ab3"}, {Customer: "c1", Cart: []string{"C"}}} {
		full, err := snap.Recommend(ctx, shop.Request{Customer: req.Customer, Cart: req.Cart, K: shop.MaxK})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(full.Recs), 7)
		for k := 0; k <= 8; k++ {
			req.K = k
			res, err := snap.Recommend(ctx, req)
			require.NoError(t, err)
			want := k
			if k == 0 {
				want = shop.DefaultK
			}
			want = min(want, len(full.Recs))
			require.Len(t, res.Recs, want, "%+v", req)
			assert.Equal(t, full.Recs[:want], res.Recs, "K %d is a prefix of K MaxK (%+v)", k, req)
		}
	}
}

// TestResCategoryAndExclude: the category filter keeps products at or
// below the path, by whole levels; an unknown category is an error;
// excluded keys never come back, unknown ones are Ignored.
func TestResCategoryAndExclude(t *testing.T) {
	orders, _, _, _ := resWorld()
	snap := resOpen(t, resCatalog(), orders)
	ctx := context.Background()
	under := map[string][]string{
		"Apparel":                    {"A", "B", "F", "G"},
		"Apparel/Sportswear":         {"A", "G"},
		"Apparel/Sportswear/Running": {"G"},
		"Home":                       {"C", "D"},
		"Toys":                       {"E"},
	}
	for cat, keys := range under {
		for _, cart := range [][]string{nil, {"A"}, {"C"}} {
			res, err := snap.Recommend(ctx, shop.Request{Category: cat, Cart: cart, K: 10})
			require.NoError(t, err, cat)
			var got []string
			for _, r := range res.Recs {
				got = append(got, r.Product)
			}
			want := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return slices.Contains(cart, k) })
			slices.Sort(got)
			assert.Equal(t, want, got, "category %q cart %v", cat, cart)
		}
	}
	for _, cat := range []string{"Appar", "Sportswear/Running", "apparel", "Nope", "Apparel/Nope"} {
		_, err := snap.Recommend(ctx, shop.Request{Category: cat})
		assert.ErrorIs(t, err, shop.ErrUnknownCategory, "category %q", cat)
	}

	res, err := snap.Recommend(ctx, shop.Request{Cart: []string{"A"}, Exclude: []string{"B", "nope", "C", "nope2"}, K: 10})
	require.NoError(t, err)
	for _, r := range res.Recs {
		assert.NotContains(t, []string{"A", "B", "C"}, r.Product)
	}
	assert.ElementsMatch(t, []string{"nope", "nope2"}, res.Ignored)
	assert.Len(t, res.Recs, 4, "D, E, F, G remain")
	// Excluding everything leaves nothing, and is no error.
	res, err = snap.Recommend(ctx, shop.Request{Exclude: []string{"A", "B", "C", "D", "E", "F", "G"}})
	require.NoError(t, err)
	assert.Empty(t, res.Recs)
}

// TestResEnumsText: Source and ReasonKind text forms round-trip, and an
// unknown value is an error both ways.
func TestResEnumsText(t *testing.T) {
	for _, s := range []recommend.Source{recommend.Neighbors, recommend.Rebuy, recommend.SegmentPopular, recommend.Popular, recommend.Repeat} {
		b, err := s.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, s.String(), string(b))
		assert.Equal(t, strings.ToLower(string(b)), string(b))
		var back recommend.Source
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, s, back)
		j, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, `"`+s.String()+`"`, string(j))
		assert.Equal(t, s == recommend.SegmentPopular || s == recommend.Popular, s.Fallback())
	}
	for _, k := range []recommend.ReasonKind{recommend.Together, recommend.After, recommend.Again, recommend.Taste} {
		b, err := k.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, k.String(), string(b))
		var back recommend.ReasonKind
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, k, back)
		assert.Equal(t, k == recommend.Together || k == recommend.After, k.Pair())
	}
	for _, bad := range []recommend.Source{0, 6, 255} {
		_, err := bad.MarshalText()
		assert.Error(t, err, "source %d", bad)
		assert.NotPanics(t, func() { _ = bad.String() })
	}
	for _, bad := range []recommend.ReasonKind{0, 5, 255} {
		_, err := bad.MarshalText()
		assert.Error(t, err, "kind %d", bad)
		assert.NotPanics(t, func() { _ = bad.String() })
	}
	var s recommend.Source
	assert.Error(t, s.UnmarshalText([]byte("")))
	assert.Error(t, s.UnmarshalText([]byte("Popular")))
	var k recommend.ReasonKind
	assert.Error(t, k.UnmarshalText([]byte("")))
	assert.Error(t, k.UnmarshalText([]byte("together ")))
	// A Rec with an invalid source or kind does not marshal.
	_, err := json.Marshal(shop.Rec{Product: "x"})
	assert.Error(t, err, "source 0 has no name")
}

// resRecJSON is a Rec's JSON with the given reasons.
func resRecJSON(reasons string) string {
	return `{"product":"p","name":"P","category":"Home","price":"1.00","score":0.5,"source":"neighbors","reasons":[` + reasons + `]}`
}

// TestResDecodedExplanations: a Rec decoded from JSON explains its
// reasons as documented: a count of one is singular, shortened reasons
// after the first of a kind, a taste reason's category name, a nameless
// product's key.
func TestResDecodedExplanations(t *testing.T) {
	for _, tc := range []struct {
		name, reasons, want string
	}{
		{"one order", `{"kind":"together","product":"a","name":"Running Shoes","count":1,"unit":"orders","lift":1}`,
			"bought together with Running Shoes in 1 order"},
		{"one customer", `{"kind":"together","product":"a","name":"Running Shoes","count":1,"unit":"customers","lift":1}`,
			"bought together with Running Shoes by 1 customer"},
		{"124 customers", `{"kind":"together","product":"a","name":"Running Shoes","count":124,"unit":"customers","lift":3.2}`,
			"bought together with Running Shoes by 124 customers — 3.2× more often than chance"},
		{"rounding", `{"kind":"together","product":"a","name":"Running Shoes","count":500,"unit":"orders","lift":3.26}`,
			"bought together with Running Shoes in 500 orders — 3.3× more often than chance"},
		{"no name", `{"kind":"together","product":"sku-9","count":124,"unit":"orders","lift":1}`,
			"bought together with sku-9 in 124 orders"},
		{"shortened", `{"kind":"together","product":"a","name":"Running Shoes","count":124,"unit":"orders","lift":3.2},` +
			`{"kind":"together","product":"b","name":"Socks","count":510,"unit":"orders","lift":1.8}`,
			"bought together with Running Shoes in 124 orders — 3.2× more often than chance; with Socks in 510 orders (1.8×)"},
		{"rebuy once", `{"kind":"again","product":"p","name":"P","count":1,"unit":"purchases","days":12}`,
			"bought 1 time before, last 12 days ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r shop.Rec
			require.NoError(t, json.Unmarshal([]byte(resRecJSON(tc.reasons)), &r))
			assert.Equal(t, tc.want, r.Explanation())
			b, err := json.Marshal(r)
			require.NoError(t, err)
			var back shop.Rec
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, r, back)
		})
	}
}

// TestResDecodeHostile: decoding never panics and never keeps more than
// MaxReasons reasons; bad shapes are errors.
func TestResDecodeHostile(t *testing.T) {
	var many []string
	for i := range 5 {
		many = append(many, fmt.Sprintf(`{"kind":"together","product":"a%d","count":%d,"unit":"orders","lift":2}`, i, 100+i))
	}
	var r shop.Rec
	err := json.Unmarshal([]byte(resRecJSON(strings.Join(many, ","))), &r)
	if err == nil {
		assert.LessOrEqual(t, len(r.Reasons()), recommend.MaxReasons)
	}
	for _, bad := range []string{
		resRecJSON(`{"kind":"nope","product":"a","count":1,"unit":"orders"}`),
		`{"product":"p","price":"1.00","source":"popular","reasons":{}}`,
		`{"product":"p","price":12345678901234567890,"source":"popular"}`,
		`[]`, `"x"`,
	} {
		var r shop.Rec
		assert.NotPanics(t, func() { assert.Error(t, json.Unmarshal([]byte(bad), &r), bad) })
	}
	var res shop.Result
	assert.Error(t, json.Unmarshal([]byte(`{"as_of":"yesterday","recommendations":[]}`), &res))
	assert.NoError(t, json.Unmarshal([]byte(`{"known":true,"cold_start":false,"as_of":"2026-03-01T00:00:00Z","recommendations":null}`), &res))
	assert.Empty(t, res.Recs)
}

// resOpenWith opens lines with options (Workers 1, next-basket off
// unless set).
func resOpenWith(t *testing.T, cat []affinity.Product, lines []affinity.Purchase, opts shop.Options) *shop.Snapshot {
	t.Helper()
	opts.Workers = 1
	if opts.NextBasket == shop.Auto {
		opts.NextBasket = shop.Off
	}
	s, err := shop.Open(context.Background(), shop.Sources(shop.Catalog(cat), shop.Purchases(slices.Values(lines))), opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s.Snapshot()
}

func resLine(cust, order, product string, day int) affinity.Purchase {
	return affinity.Purchase{Customer: cust, Product: product, Order: order, Time: resT0.Add(time.Duration(day) * 24 * time.Hour),
		Quantity: 1, Price: 10000}
}

// TestResServedCountOne: with EASE in customer scope a reason can rest
// on one customer; its text must then be singular.
func TestResServedCountOne(t *testing.T) {
	var lines []affinity.Purchase
	lines = append(lines, resLine("u", "u1", "A", 0), resLine("u", "u2", "E", 1))
	for i := range 3 {
		c := fmt.Sprintf("x%d", i)
		lines = append(lines, resLine(c, c, "A", 2+i), resLine(c, c, "C", 2+i))
	}
	snap := resOpenWith(t, resCatalog(), lines, shop.Options{Model: "ease", Scope: "customer"})
	res, err := snap.Recommend(context.Background(), shop.Request{Cart: []string{"A"}})
	require.NoError(t, err)
	var checked int
	for i := range res.Recs {
		for _, x := range res.Recs[i].Reasons() {
			if x.Kind.Pair() && x.Count == 1 {
				checked++
				assert.Equal(t, "customers", x.Unit)
				assert.NotContains(t, x.String(), "1 customers", "singular for one customer")
				assert.NotContains(t, res.Recs[i].Explanation(), "1 customers")
			}
		}
	}
	require.Positive(t, checked, "the world has a reason of count 1")
}

// TestResSequentialReasons: in sequential scope a result is explained by
// what was bought before it, counted in customers who bought the result
// within 30 days after.
func TestResSequentialReasons(t *testing.T) {
	var lines []affinity.Purchase
	for i := range 6 { // A, then B 5 days later
		c := fmt.Sprintf("s%d", i)
		lines = append(lines, resLine(c, c+"a", "A", i), resLine(c, c+"b", "B", i+5))
	}
	for i := range 3 { // B, then A
		c := fmt.Sprintf("r%d", i)
		lines = append(lines, resLine(c, c+"b", "B", i), resLine(c, c+"a", "A", i+5))
	}
	for i := range 2 { // A, then B 40 days later
		c := fmt.Sprintf("l%d", i)
		lines = append(lines, resLine(c, c+"a", "A", i), resLine(c, c+"b", "B", i+40))
	}
	for i := range 40 { // customers of neither, so that A→B is above chance
		c := fmt.Sprintf("f%d", i)
		lines = append(lines, resLine(c, c, "F", i))
	}
	snap := resOpenWith(t, resCatalog(), lines, shop.Options{Model: "neighbours", Scope: "sequential"})
	res, err := snap.Recommend(context.Background(), shop.Request{Cart: []string{"A"}, K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs, "%+v", res)
	r := &res.Recs[0]
	require.Equal(t, "B", r.Product)
	rs := r.Reasons()
	require.NotEmpty(t, rs, "%v %s %+v", r.Source, r.Explanation(), res)
	// Scope "sequential" makes "bought together" mean "bought within 30
	// days after" (Options.Scope), so the main index's kind, Together,
	// carries it.
	assert.Equal(t, recommend.Together, rs[0].Kind)
	assert.Equal(t, "A", rs[0].Product)
	assert.Equal(t, "customers", rs[0].Unit)
	assert.Equal(t, 6, rs[0].Count, "customers who bought B within 30 days after A")
	assert.InDelta(t, 6.0*51/(11*11), rs[0].Lift, 1e-6, "customers with A then B over chance")
	assert.True(t, strings.HasPrefix(rs[0].String(), "bought together with Running Shoes by 6 customers"), rs[0].String())
}

// TestResCustomerScopeReasons: in customer scope Count is the customers
// who bought both (in any orders) and Lift is over customers.
func TestResCustomerScopeReasons(t *testing.T) {
	var lines []affinity.Purchase
	nA, nB, nAB, n := 0, 0, 0, 0
	for i := range 20 {
		c := fmt.Sprintf("k%02d", i)
		n++
		switch {
		case i < 9: // A and B in separate orders, A twice
			lines = append(lines, resLine(c, c+"1", "A", i), resLine(c, c+"2", "B", i+1), resLine(c, c+"3", "A", i+2))
			nA++
			nB++
			nAB++
		case i < 13:
			lines = append(lines, resLine(c, c, "A", i))
			nA++
		case i < 16:
			lines = append(lines, resLine(c, c, "B", i))
			nB++
		default:
			lines = append(lines, resLine(c, c, "F", i), resLine(c, c, "C", i))
		}
	}
	snap := resOpenWith(t, resCatalog(), lines, shop.Options{Model: "neighbours", Scope: "customer"})
	res, err := snap.Together(context.Background(), "A", 5)
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	r := &res.Recs[0]
	require.Equal(t, "B", r.Product)
	require.NotEmpty(t, r.Reasons())
	x := r.Reasons()[0]
	assert.Equal(t, "customers", x.Unit)
	assert.Equal(t, nAB, x.Count)
	naive := float64(nAB*n) / float64(nA*nB)
	assert.InDelta(t, naive, x.Lift, 1e-6)
	want := fmt.Sprintf("bought together with Running Shoes by %d customers", nAB)
	if recommend.StatesLift(x.Count, x.Lift) {
		want += fmt.Sprintf(" — %.1f× more often than chance", x.Lift)
	}
	assert.Equal(t, want, r.Explanation())
}

// TestResDecodeReuse: decoding into a reused value gives what a fresh
// value gets — nothing of the earlier contents survives.
func TestResDecodeReuse(t *testing.T) {
	full := `{"customer":"c","known":true,"cold_start":false,"as_of":"2026-03-01T00:00:00Z","ignored":["zz"],"recommendations":[` +
		resRecJSON(`{"kind":"together","product":"a","name":"A","count":5,"unit":"orders","lift":2}`) + `]}`
	bare := `{"known":false,"cold_start":true,"as_of":"2026-03-02T00:00:00Z","recommendations":[` +
		`{"product":"q","price":"2.00","score":1,"source":"popular","reasons":[],"explanation":"popular in the shop"}]}`
	var fresh, reused shop.Result
	require.NoError(t, json.Unmarshal([]byte(bare), &fresh))
	require.NoError(t, json.Unmarshal([]byte(full), &reused))
	require.NoError(t, json.Unmarshal([]byte(bare), &reused))
	assert.Equal(t, fresh.Customer, reused.Customer)
	assert.Equal(t, fresh.Ignored, reused.Ignored)
	require.Len(t, reused.Recs, 1)
	assert.Equal(t, fresh.Recs[0], reused.Recs[0])
	assert.Empty(t, reused.Recs[0].Reasons())

	var rf, rr shop.Rec
	bareRec := `{"product":"q","price":"2.00","score":1,"source":"popular"}`
	require.NoError(t, json.Unmarshal([]byte(bareRec), &rf))
	require.NoError(t, json.Unmarshal([]byte(resRecJSON(`{"kind":"together","product":"a","name":"A","count":5,"unit":"orders","lift":2}`)), &rr))
	require.NoError(t, json.Unmarshal([]byte(bareRec), &rr))
	assert.Equal(t, rf, rr)
	assert.Equal(t, "popular in the shop", rr.Explanation())
}

// TestResDecodedTexts: more documented wordings on decoded Recs.
func TestResDecodedTexts(t *testing.T) {
	for _, tc := range []struct {
		name, reasons, want string
	}{
		{"taste first", `{"kind":"taste","product":"p","name":"Sportswear","category":"Apparel/Sportswear","share":0.5},` +
			`{"kind":"together","product":"a","name":"Running Shoes","count":124,"unit":"orders","lift":3.2}`,
			"bought by Sportswear shoppers like you; bought together with Running Shoes in 124 orders — 3.2× more often than chance"},
		{"trend", `{"kind":"again","product":"p","name":"P","count":3,"unit":"purchases","days":20,"trend":2.44,"trend_days":14}`,
			"bought 3 times before, last 20 days ago; 2.4× its usual buyers in the last 14 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r shop.Rec
			require.NoError(t, json.Unmarshal([]byte(resRecJSON(tc.reasons)), &r))
			assert.Equal(t, tc.want, r.Explanation())
		})
	}
}

// TestResDecodeInvariants: a decoded Rec keeps the documented invariants
// of Rec and Reason, or the decode fails.
func TestResDecodeInvariants(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"fallback with a reason", `{"product":"p","price":"1.00","score":1,"source":"popular","reasons":[` +
			`{"kind":"together","product":"a","count":5,"unit":"orders","lift":2}]}`},
		{"neighbors without a reason", `{"product":"p","price":"1.00","score":1,"source":"neighbors","reasons":[]}`},
		{"lift below 1", resRecJSON(`{"kind":"together","product":"a","count":5,"unit":"orders","lift":0.5}`)},
		{"negative count", resRecJSON(`{"kind":"together","product":"a","count":-3,"unit":"orders","lift":2}`)},
		{"taste without category", resRecJSON(`{"kind":"taste","product":"p"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r shop.Rec
			if err := json.Unmarshal([]byte(tc.in), &r); err != nil {
				return
			}
			rs := r.Reasons()
			assert.Equal(t, r.Source.Fallback(), len(rs) == 0, "a fallback has no reasons, neighbours at least one")
			for _, x := range rs {
				if x.Kind.Pair() {
					assert.GreaterOrEqual(t, x.Lift, 1.0)
					assert.Positive(t, x.Count)
				}
				if x.Kind == recommend.Taste {
					assert.NotEmpty(t, x.Category)
				}
			}
			assert.NotContains(t, r.Explanation(), "  ")
			assert.NotContains(t, r.Explanation(), "-")
		})
	}
}

// TestResLiftRounding: the factor is worded the same on either side of
// the switch to whole numbers.
func TestResLiftRounding(t *testing.T) {
	for _, tc := range []struct{ lift, want string }{
		{"3.26", "3.3×"}, {"3.24", "3.2×"}, {"9.94", "9.9×"}, {"9.96", "10×"}, {"10.4", "10×"}, {"12.6", "13×"},
	} {
		var r shop.Rec
		require.NoError(t, json.Unmarshal([]byte(resRecJSON(`{"kind":"together","product":"a","name":"A","count":100000,"unit":"orders","lift":`+tc.lift+`}`)), &r))
		assert.Equal(t, "bought together with A in 100000 orders — "+tc.want+" more often than chance", r.Explanation(), "lift %s", tc.lift)
	}
}

// TestResCategoryFields: Rec.Category is the product's first category
// path ("" without one), whichever the filter matched.
func TestResCategoryFields(t *testing.T) {
	cat := []affinity.Product{
		{Key: "m", Name: "Multi", Categories: []string{"Home/Kitchen", "Gifts/For Her"}, Price: 100, InStock: true},
		{Key: "n", Name: "None", Price: 100, InStock: true},
		{Key: "o", Name: "Other", Categories: []string{"Gifts"}, Price: 100, InStock: true},
	}
	var lines []affinity.Purchase
	for i := range 6 {
		c := fmt.Sprintf("z%d", i)
		lines = append(lines, resLine(c, c, "m", i), resLine(c, c, "n", i), resLine(c, c, "o", i))
	}
	snap := resOpenWith(t, cat, lines, shop.Options{Model: "neighbours"})
	ctx := context.Background()
	res, err := snap.Recommend(ctx, shop.Request{Category: "Gifts/For Her"})
	require.NoError(t, err)
	require.Len(t, res.Recs, 1)
	assert.Equal(t, "m", res.Recs[0].Product)
	assert.Equal(t, "Home/Kitchen", res.Recs[0].Category)
	res, err = snap.Recommend(ctx, shop.Request{Cart: []string{"m"}})
	require.NoError(t, err)
	for _, r := range res.Recs {
		switch r.Product {
		case "n":
			assert.Empty(t, r.Category)
		case "o":
			assert.Equal(t, "Gifts", r.Category)
		}
	}
	res, err = snap.Recommend(ctx, shop.Request{Category: "Gifts"})
	require.NoError(t, err)
	var keys []string
	for _, r := range res.Recs {
		keys = append(keys, r.Product)
	}
	assert.ElementsMatch(t, []string{"m", "o"}, keys)
}

// TestResServedOneDay: a repeat item last bought a day before the
// snapshot is explained in the singular.
func TestResServedOneDay(t *testing.T) {
	var lines []affinity.Purchase
	for _, d := range []int{0, 10, 20} {
		lines = append(lines, resLine("r", fmt.Sprintf("r%d", d), "G", d), resLine("r", fmt.Sprintf("r%d", d), "D", d))
	}
	for i := range 4 {
		c := fmt.Sprintf("w%d", i)
		lines = append(lines, resLine(c, c, "F", 21), resLine(c, c, "C", 21))
	}
	snap := resOpenWith(t, resCatalog(), lines, shop.Options{Model: "neighbours", NextBasket: shop.On})
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: "r"})
	require.NoError(t, err)
	assert.True(t, res.Known)
	assert.False(t, res.ColdStart)
	var checked int
	for i := range res.Recs {
		for _, x := range res.Recs[i].Reasons() {
			if x.Kind != recommend.Again {
				continue
			}
			checked++
			assert.Equal(t, res.Recs[i].Product, x.Product, "a re-buy's reason is the result itself")
			assert.Equal(t, 3, x.Count)
			assert.Equal(t, "purchases", x.Unit)
			assert.InDelta(t, 1, x.Days, 1e-9)
			assert.Contains(t, x.String(), "bought 3 times before")
			assert.NotContains(t, x.String(), "1 days", "singular for one day")
		}
	}
	require.Positive(t, checked, "a re-buy reason: %+v", res)
}
