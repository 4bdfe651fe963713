package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const jsonType = "application/json; charset=utf-8"

// advHandler is the service over the shared demo shop, called in process.
func advHandler(t *testing.T) http.Handler {
	t.Helper()
	testServer(t) // opens the demo shop once
	return newServer(demoShop, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// smallStorefront is a generated storefront of 1,000 customers and the
// demo's 1,000 products, a fifth of the demo's orders: read-only, shared.
var smallStorefront = sync.OnceValue(func() *dataset.Storefront {
	return dataset.Generate(dataset.SyntheticOptions{Customers: 1000})
})

// freshSource is the source of the shops the tests open for themselves
// (to change them): the demo in the long suite; in the quick suite a
// generated shop a fifth of its size whose keys (c000740, p00746, p00966)
// name customers and products as the demo's do. What these tests check of
// a change does not depend on the size; the shared shop is the demo.
func freshSource() shop.Source {
	if testdata.Long() {
		return shop.Demo()
	}
	return shop.Storefront(smallStorefront())
}

// freshHandler is the service over a shop of its own from [freshSource]
// (for tests that change the shop). The quick suite opens it on the
// neighbours, the model the demo chooses by default (shop.TestAutoModel),
// without paying for the choice: the shared shop goes through it.
func freshHandler(t *testing.T) (*shop.Shop, http.Handler) {
	t.Helper()
	opts := shop.Options{}
	if !testdata.Long() {
		opts.Model = "neighbours"
	}
	s, err := shop.Open(context.Background(), freshSource(), opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s, newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// serve runs one request through h.
func serve(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkJSON checks that a response is a complete JSON document of the
// documented content type, and decodes it into v when v is not nil.
func checkJSON(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	assert.Equal(t, jsonType, rec.Header().Get("Content-Type"))
	body := rec.Body.Bytes()
	require.NotEmpty(t, body, "status %d with an empty body", rec.Code)
	require.True(t, json.Valid(body), "status %d, not JSON: %.300q", rec.Code, body)
	if v != nil {
		require.NoError(t, json.Unmarshal(body, v))
	}
}

// checkError checks a JSON error of the given status and returns it.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int) shop.Problem {
	t.Helper()
	var e shop.Problem
	assert.Equal(t, status, rec.Code, "body %.300q", rec.Body.Bytes())
	checkJSON(t, rec, &e)
	assert.NotEmpty(t, e.Message)
	return e
}

func TestAdversarialCustomerAndProductKeys(t *testing.T) {
	h := advHandler(t)
	long := strings.Repeat("x", 64<<10)
	cases := []struct {
		name, escaped, key string
	}{
		{"unknown", "nobody", "nobody"},
		{"unicode", url.PathEscape("ünïcødé-客户-🛒"), "ünïcødé-客户-🛒"},
		{"encoded slash", "a%2Fb", "a/b"},
		{"encoded dot dot slash", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"},
		{"NUL", "%00", "\x00"},
		{"invalid UTF-8", "%FF%FE", "\xff\xfe"},
		{"quote and angle", url.PathEscape(`"><script>`), `"><script>`},
		{"space", "c000740%20", "c000740 "},
		{"very long", long, long},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := checkError(t, serve(h, "GET", "/api/customers/"+tc.escaped, ""), 404)
			assert.Contains(t, e.Message, "unknown customer")

			var res shop.Result
			rec := serve(h, "GET", "/api/customers/"+tc.escaped+"/recommendations?k=3", "")
			require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
			checkJSON(t, rec, &res)
			assert.False(t, res.Known)
			assert.True(t, res.ColdStart)
			assert.Len(t, res.Recs, 3, "an unknown customer gets the popular products")
			if utf8Valid(tc.key) {
				assert.Equal(t, tc.key, res.Customer)
			}

			e = checkError(t, serve(h, "GET", "/api/products/"+tc.escaped+"/together", ""), 404)
			assert.Contains(t, e.Message, "unknown product")

			if len(tc.key) > maxBody/4 {
				return // the body would be over the limit
			}
			rec = serve(h, "POST", "/api/cart/recommendations", mustJSON(t, cartRequest{Customer: tc.key, Cart: []string{tc.key}, K: 2}))
			require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
			checkJSON(t, rec, &res)
			assert.Len(t, res.Recs, 2)
			assert.Len(t, res.Ignored, 1, "the unknown cart key is listed as ignored")
		})
	}
	t.Run("percent-encoded known key", func(t *testing.T) {
		var p map[string]any
		rec := serve(h, "GET", "/api/customers/c%30%30%30740", "")
		require.Equal(t, 200, rec.Code)
		checkJSON(t, rec, &p)
		assert.Equal(t, "c000740", p["customer"])
	})
	t.Run("empty id", func(t *testing.T) {
		for _, path := range []string{"/api/customers/", "/api/customers//recommendations", "/api/products//together"} {
			rec := serve(h, "GET", path, "")
			assert.GreaterOrEqual(t, rec.Code, 300, path)
			assert.Less(t, rec.Code, 500, path)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestAdversarialQueryParameters(t *testing.T) {
	h := advHandler(t)
	bad := []string{"0", "-1", "1001", "99999999999999999999", "abc", "1e3", "3.0", "0x10", " 3", "３"}
	for _, route := range []string{"/api/customers/c000740/recommendations", "/api/products/p00746/together"} {
		for _, k := range bad {
			t.Run(route+" k="+k, func(t *testing.T) {
				e := checkError(t, serve(h, "GET", route+"?k="+url.QueryEscape(k), ""), 400)
				assert.Contains(t, e.Message, "k=")
			})
		}
		t.Run(route+" k=1000", func(t *testing.T) {
			rec := serve(h, "GET", route+"?k=1000", "")
			require.Equal(t, 200, rec.Code)
			var res shop.Result
			checkJSON(t, rec, &res)
			assert.NotEmpty(t, res.Recs)
			assert.LessOrEqual(t, len(res.Recs), 1000)
		})
		t.Run(route+" repeated k", func(t *testing.T) {
			rec := serve(h, "GET", route+"?k=2&k=abc&k=7", "")
			require.Equal(t, 200, rec.Code, "the first value counts")
			var res shop.Result
			checkJSON(t, rec, &res)
			assert.Len(t, res.Recs, 2)
		})
	}
	t.Run("category", func(t *testing.T) {
		for _, c := range []string{"Nope", "%2F", "Nope%2FApparel", "%00", "%FF"} {
			e := checkError(t, serve(h, "GET", "/api/customers/c000740/recommendations?category="+c, ""), 400)
			assert.Contains(t, e.Message, "unknown category", c)
		}
	})

	const q = "/api/segments/query?q=frequency%20%3E%3D%205"
	pages := []struct {
		name, params string
		status       int
	}{
		{"offset -1", "&offset=-1", 400},
		{"offset huge", "&offset=2147483647", 200},
		{"offset over int32", "&offset=2147483648", 400},
		{"offset text", "&offset=ten", 400},
		{"limit 0", "&limit=0", 400},
		{"limit max", "&limit=10000", 200},
		{"limit over max", "&limit=10001", 400},
		{"limit negative", "&limit=-5", 400},
		{"order unknown", "&order=SPEND", 400},
		{"order repeated", "&order=key&order=nope", 200},
		{"order empty", "&order=", 200},
		{"q repeated", "&q=nonsense(", 200},
	}
	for _, tc := range pages {
		t.Run("query "+tc.name, func(t *testing.T) {
			rec := serve(h, "GET", q+tc.params, "")
			if tc.status != 200 {
				checkError(t, rec, tc.status)
				return
			}
			require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
			var res struct {
				Count     *int              `json:"count"`
				Customers *[]map[string]any `json:"customers"`
			}
			checkJSON(t, rec, &res)
			require.NotNil(t, res.Count)
			require.NotNil(t, res.Customers, "customers is a list, never null")
			assert.LessOrEqual(t, len(*res.Customers), *res.Count)
		})
	}
}

func TestAdversarialSegmentQueries(t *testing.T) {
	h := advHandler(t)
	queries := []struct{ name, q string }{
		{"incomplete", "frequency >="},
		{"blank", "   "},
		{"comment only", "# nothing"},
		{"unknown attribute", "height >= 3"},
		{"unterminated string", `affinity("Apparel >= 0.3`},
		{"unbalanced", "(frequency >= 1"},
		{"extra close", "frequency >= 1)"},
		{"bad unit", "recency > 5x"},
		{"exponent", "frequency >= 1e400"},
		{"empty range", "recency between 28d and 14d"},
		{"window beyond look-back", `bought("Apparel" within 99999d)`},
		{"bad date", `active between "2024-13-45" and "2024-12-02"`},
		{"unknown category", `affinity("Nope") >= 0.1`},
		{"unknown product", `bought(product("nope"))`},
		{"unknown bare target", `bought("nope")`},
		{"unknown rfm segment", `rfm("Nope")`},
		{"unknown lifecycle stage", `lifecycle("nope")`},
		{"unknown named segment", `segment("nope")`},
		{"unknown customer attribute", `flag("optin") = 1`},
		{"top beyond TopN", `top("Apparel", 999)`},
		{"NUL", "frequency >= \x00"},
		{"invalid UTF-8", "frequency >= \xff"},
		{"second line", "frequency >= 1 and\nrecency >"},
		{"deep nesting", strings.Repeat("(", 100_000) + "all" + strings.Repeat(")", 100_000)},
		{"deep not", strings.Repeat("not ", 100_000) + "all"},
		{"very long", strings.Repeat("all and ", 40_000) + "all"},
	}
	t.Run("position", func(t *testing.T) {
		e := checkError(t, serve(h, "GET", "/api/segments/query?q="+url.QueryEscape("frequency >= 1 and\n  recency >"), ""), 400)
		assert.Equal(t, 2, e.Line)
		assert.Positive(t, e.Column)
		require.NotNil(t, e.Offset)
		assert.Positive(t, *e.Offset)
		// an unknown name in a query that parsed: where the name is
		q := "frequency >= 1 and\n  affinity(\"Nope\") >= 0.1"
		e = checkError(t, serve(h, "GET", "/api/segments/query?q="+url.QueryEscape(q), ""), 400)
		assert.Contains(t, e.Message, "unknown")
		assert.Equal(t, 2, e.Line)
		require.NotNil(t, e.Offset)
		assert.Equal(t, strings.Index(q, `"Nope"`), *e.Offset)
		assert.Equal(t, *e.Offset-strings.Index(q, "\n"), e.Column)
		// a problem at the first byte: offset 0 is given, not left out
		rec := serve(h, "GET", "/api/segments/query?q="+url.QueryEscape(") and all"), "")
		e = checkError(t, rec, 400)
		assert.Equal(t, 1, e.Column)
		require.NotNil(t, e.Offset, "offset 0 left out: %s", rec.Body.String())
		assert.Zero(t, *e.Offset)
		// an error of no position has none
		e = checkError(t, serve(h, "GET", "/api/segments/query", ""), 400)
		assert.Nil(t, e.Offset)
	})
	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			for _, route := range []string{"/api/segments/query", "/api/segments/query.csv"} {
				rec := serve(h, "GET", route+"?q="+url.QueryEscape(tc.q), "")
				e := checkError(t, rec, 400)
				assert.True(t, e.Line > 0 && e.Column > 0 && e.Offset != nil && *e.Offset >= 0 || strings.Contains(e.Message, "longer than"),
					"%s: the position of the problem: %+v", route, e)
				assert.Empty(t, rec.Header().Get("Content-Disposition"), "%s: a JSON error is not a CSV attachment", route)
			}
		})
	}
}

func TestAdversarialCartBodies(t *testing.T) {
	h := advHandler(t)
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	cases := []struct {
		name, body string
		status     int
	}{
		{"empty", "", 400},
		{"not JSON", "cart=p00746", 400},
		{"truncated", `{"cart":["p00746"`, 400},
		{"array", `["p00746"]`, 400},
		{"string", `"p00746"`, 400},
		{"cart of numbers", `{"cart":[1,2]}`, 400},
		{"cart a string", `{"cart":"p00746"}`, 400},
		{"k a string", `{"k":"3"}`, 400},
		{"k fractional", `{"k":3.5}`, 400},
		{"k NaN", `{"k":NaN}`, 400},
		{"k huge", `{"k":1e400}`, 400},
		{"k overflows int", `{"k":99999999999999999999}`, 400},
		{"k negative", `{"k":-1}`, 400},
		{"k over max", `{"k":1001}`, 400},
		{"unknown category", `{"category":"Nope"}`, 400},
		{"unknown field", `{"basket":[]}`, 400},
		{"deeply nested", `{"cart":` + strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000) + `}`, 400},
		{"trailing garbage", `{"cart":["p00746"],"k":2} trailing`, 400},
		{"two documents", `{"cart":["p00746"],"k":2}{"k":3}`, 400},
		{"oversized", `{"cart":["` + strings.Repeat("é", maxBody) + `"]}`, 413},
		{"null", `null`, 200},
		{"empty object", `{}`, 200},
		{"duplicate cart keys", `{"cart":["p00746","p00746","p00746"],"k":3}`, 200},
		{"thousands of unknown keys", mustJSON(t, cartRequest{Cart: many, K: 3}), 200},
		{"unicode escapes", `{"cart":["\u0070\u0030\u0030\u0037\u0034\u0036"],"k":3}`, 200},
		{"every product", mustJSON(t, cartRequest{Cart: everyProduct(), K: 1000}), 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, "POST", "/api/cart/recommendations", tc.body)
			if tc.status != 200 {
				checkError(t, rec, tc.status)
				return
			}
			require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
			var res shop.Result
			checkJSON(t, rec, &res)
			if tc.name != "every product" { // nothing is left to recommend
				assert.NotEmpty(t, res.Recs)
			}
			for _, r := range res.Recs {
				assert.NotEqual(t, "p00746", r.Product, "a cart product is not recommended")
			}
		})
	}
}

// everyProduct returns the key of every product of the demo shop but
// p00746 (which the cart tests put in their carts).
func everyProduct() []string {
	cat := demoShop.Snapshot().History().Catalog()
	var keys []string
	for p := range cat.NumProducts() {
		if k := cat.ProductKey(affinity.ProductID(p)); k != "p00746" {
			keys = append(keys, k)
		}
	}
	return keys
}

// recommended reports whether product is recommendable: among the top 1000
// recommendations of customer.
func recommended(t *testing.T, h http.Handler, customer, product string) bool {
	t.Helper()
	rec := serve(h, "GET", "/api/customers/"+customer+"/recommendations?k=1000", "")
	require.Equal(t, 200, rec.Code)
	var res shop.Result
	checkJSON(t, rec, &res)
	for _, r := range res.Recs {
		if r.Product == product {
			return true
		}
	}
	return false
}

func TestAdversarialStock(t *testing.T) {
	_, h := freshHandler(t)
	var top shop.Result
	rec := serve(h, "GET", "/api/customers/c000740/recommendations?k=2", "")
	require.Equal(t, 200, rec.Code)
	checkJSON(t, rec, &top)
	require.Len(t, top.Recs, 2)
	p1, p2 := top.Recs[0].Product, top.Recs[1].Product

	refused := []struct{ name, body string }{
		{"wrong type", `{"out_of_stock":"` + p1 + `"}`},
		{"wrong type after a good field", `{"out_of_stock":["` + p1 + `"],"in_stock":7}`},
		{"unknown field", `{"out_of_stock":["` + p1 + `"],"oos":[]}`},
		{"two documents", `{"out_of_stock":["` + p1 + `"]}{"out_of_stock":["` + p2 + `"]}`},
		{"trailing garbage", `{"out_of_stock":["` + p1 + `"]} and more`},
		{"oversized", `{"out_of_stock":["` + p1 + `"],"in_stock":["` + strings.Repeat("x", maxBody) + `"]}`},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, "PUT", "/api/stock", tc.body)
			assert.GreaterOrEqual(t, rec.Code, 400, "a malformed body is refused: %d %s", rec.Code, rec.Body.Bytes())
			assert.Less(t, rec.Code, 500)
			assert.True(t, recommended(t, h, "c000740", p1), "a refused update changes no stock")
			serve(h, "PUT", "/api/stock", `{"in_stock":["`+p1+`","`+p2+`"]}`) // undo whatever was taken
		})
	}

	t.Run("unknown keys", func(t *testing.T) {
		// Half the body limit of distinct unknown keys (about 4,000): one
		// update, and the stock of known products still applies. (Each key
		// cost a pass over the catalog and over every key remembered so
		// far: the full 64 KiB took 2 s; Shop.UpdateStock takes one pass.
		// The time is logged, not asserted: BenchmarkUpdateStock in
		// package shop measures it.)
		var b strings.Builder
		b.WriteString(`{"out_of_stock":[`)
		n := 0
		for b.Len() < maxBody/2 {
			if n > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"z%d"`, n)
			n++
		}
		b.WriteString(`]}`)
		t0 := time.Now()
		rec := serve(h, "PUT", "/api/stock", b.String())
		took := time.Since(t0)
		require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
		checkJSON(t, rec, nil)
		t.Logf("one PUT /api/stock of %d keys took %v", n, took)
		// The next one-key update pays nothing for them (none is kept).
		t0 = time.Now()
		for range 20 {
			require.Equal(t, 200, serve(h, "PUT", "/api/stock", `{"out_of_stock":["`+p2+`"]}`).Code)
		}
		t.Logf("a one-key update after %d unknown keys: %v", n, time.Since(t0)/20)
		var reply stockReply
		checkJSON(t, rec, &reply)
		assert.Len(t, reply.Unknown, n, "each unknown key is reported")
		assert.False(t, recommended(t, h, "c000740", p2))
	})
}

func TestAdversarialMethods(t *testing.T) {
	h := advHandler(t)
	cases := []struct{ method, path, allow string }{
		{"POST", "/api/customers/c000740", "GET, HEAD"},
		{"DELETE", "/api/customers/c000740/recommendations", "GET, HEAD"},
		{"GET", "/api/cart/recommendations", "POST"},
		{"PUT", "/api/products/p00746/together", "GET, HEAD"},
		{"POST", "/api/segments", "GET, HEAD"},
		{"PATCH", "/api/segments/query?q=all", "GET, HEAD"},
		{"POST", "/api/segments/query.csv?q=all", "GET, HEAD"},
		{"GET", "/api/stock", "PUT"},
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/metrics", "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := serve(h, tc.method, tc.path, "")
			e := checkError(t, rec, http.StatusMethodNotAllowed) // JSON, as every API error
			assert.Equal(t, "method not allowed", e.Message)
			assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
		})
	}

	t.Run("HEAD", func(t *testing.T) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		for _, path := range []string{"/api/customers/c000740", "/api/customers/c000740/recommendations",
			"/api/products/p00746/together", "/api/segments", "/api/segments/query?q=all", "/healthz", "/"} {
			resp, err := http.Head(srv.URL + path)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode, path)
			assert.Empty(t, body, path)
			assert.NotEmpty(t, resp.Header.Get("Content-Type"), path)
		}
	})
}

// TestAdversarialRefreshes refreshes a shop of its own with unusual new
// orders while clients ask every endpoint: no request fails or gets a
// truncated answer, and what the refresh took in is served.
func TestAdversarialRefreshes(t *testing.T) {
	s, h := freshHandler(t)
	at := s.Snapshot().History().Latest()
	line := func(customer, product string, q int32, price affinity.Money) []affinity.Purchase {
		return []affinity.Purchase{{Customer: customer, Product: product, Time: at, Quantity: q, Price: price}}
	}
	batches := [][]affinity.OrderChange{
		{
			{Key: "adv-return", Lines: line("adv-return-only", "p00746", -3, 129000)},
			{Key: "adv-free", Lines: line("adv-free", "p00746", 1, 0)},
			{Key: "adv-big", Lines: line("adv-big", "p00746", 1, affinity.MaxMoney/10)}, // a tenth of the range: the gross must fit
			{Key: "adv-anon", Lines: line("", "p00746", 2, 99000)},
			{Key: "adv-new-product", Lines: line("adv-new", "adv-p-ünï/cødé", 1, 10000)},
		},
		{{Key: "adv-free", Delete: true}},
		{{Key: "adv-return", Version: 1, Lines: line("adv-return-only", "p00966", -1, 5000)}},
	}
	paths := []string{
		"/api/customers/c000740", "/api/customers/c000740/recommendations?k=5", "/api/products/p00746/together",
		"/api/segments", "/api/segments/query?q=frequency%20%3E%3D%201&limit=50", "/healthz", "/metrics",
		"/api/customers/adv-return-only", "/api/customers/adv-big", "/api/customers/adv-new",
		"/api/customers/adv-new/recommendations", "/api/segments/query?q=monetary%20%3C%200",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	// Three readers in the long suite, two in the quick one: still
	// requests concurrent with each other and with every refresh, with
	// less CPU burnt by the busy loops while the refreshes run.
	for w := range testdata.Scale(3, 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				p := paths[i%len(paths)]
				rec := serve(h, "GET", p, "")
				body := rec.Body.Bytes()
				ok := (rec.Code == 200 || rec.Code == 404 && strings.HasPrefix(p, "/api/customers/adv")) &&
					len(body) > 0 && json.Valid(body) && rec.Header().Get("Content-Type") == jsonType
				if !ok {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d %.200q", p, rec.Code, body))
					mu.Unlock()
				}
			}
		}()
	}
	for _, b := range batches {
		require.NoError(t, s.Refresh(context.Background(), shop.Changes(func(yield func(affinity.OrderChange) bool) {
			for _, c := range b {
				if !yield(c) {
					return
				}
			}
		})))
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	wg.Wait()
	assert.Empty(t, failures)

	for _, c := range []string{"adv-return-only", "adv-big", "adv-new"} {
		t.Run(c, func(t *testing.T) {
			rec := serve(h, "GET", "/api/customers/"+c, "")
			require.Equal(t, 200, rec.Code, "body %.300q", rec.Body.Bytes())
			var p map[string]any
			checkJSON(t, rec, &p)
			assert.Equal(t, c, p["customer"])
			rec = serve(h, "GET", "/api/customers/"+c+"/recommendations", "")
			require.Equal(t, 200, rec.Code)
			var res shop.Result
			checkJSON(t, rec, &res)
			assert.True(t, res.Known)
		})
	}
	rec := serve(h, "GET", "/api/customers/adv-free", "")
	assert.Contains(t, []int{200, 404}, rec.Code, "a customer whose only order was deleted")
	checkJSON(t, rec, nil)

	rec = serve(h, "GET", "/api/products/"+url.PathEscape("adv-p-ünï/cødé")+"/together", "")
	assert.Contains(t, []int{200, 404}, rec.Code)
	checkJSON(t, rec, nil)

	var seg struct {
		Count     int              `json:"count"`
		Customers []map[string]any `json:"customers"`
	}
	rec = serve(h, "GET", "/api/segments/query?q="+url.QueryEscape("monetary < 0")+"&order=key&limit=10000", "")
	require.Equal(t, 200, rec.Code)
	checkJSON(t, rec, &seg)
	var keys []string
	for _, c := range seg.Customers {
		keys = append(keys, fmt.Sprint(c["customer"]))
	}
	assert.Contains(t, keys, "adv-return-only", "the return-only customer has a negative spend")

	t.Run("far future", func(t *testing.T) { farFuture(t, s, h) })
}

// TestAdversarialExtremeQueries asks well-formed queries with extreme
// values: each is answered (200) or refused (400), never a 500.
func TestAdversarialExtremeQueries(t *testing.T) {
	h := advHandler(t)
	queries := []string{
		"recency > 9223372036854775807d",
		"recency > 99999999999999999999y",
		"tenure <= 0",
		"frequency >= -1",
		"monetary >= $99999999999999999999",
		"monetary >= -$922337203685477.5808",
		"monetary between -$999999999999999 and $999999999999999",
		"aov > 0.00001",
		`affinity("Apparel") >= 1000%`,
		`affinity("Apparel") >= -5%`,
		`lift("Apparel") >= 99999999999999999999`,
		`top("Apparel", 0)`,
		`top("Apparel", 99999999999999999999)`,
		`rank("Apparel") <= -1`,
		`bought("Apparel" within 0d)`,
		`bought("Apparel", 99999999999y)`,
		`abandoned(0d)`,
		`abandoned(within 99999999999999999999d)`,
		`active between "0001-01-01" and "9999-12-31"`,
		`active between "1969-12-31" and "1970-01-01"`,
		`active between "2106-02-07" and "2106-02-08"`,
		"rscore between 0 and 6",
		"rscore = 2.5",
		"all and not all",
		"none or none",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			for _, route := range []string{"/api/segments/query?limit=3&q=", "/api/segments/query.csv?q="} {
				rec := serve(h, "GET", route+url.QueryEscape(q), "")
				assert.Contains(t, []int{200, 400}, rec.Code, "%s: %.300q", route, rec.Body.Bytes())
				if rec.Code != 200 || strings.Contains(route, "csv") {
					continue
				}
				var res struct {
					Count     int              `json:"count"`
					Share     float64          `json:"share"`
					Customers []map[string]any `json:"customers"`
				}
				checkJSON(t, rec, &res)
				assert.GreaterOrEqual(t, res.Count, len(res.Customers))
				assert.True(t, res.Share >= 0 && res.Share <= 1, "share %v", res.Share)
			}
		})
	}
}

// farFuture takes in an order at the last valid second: the shop's as-of
// time moves there, and every endpoint still answers.
func farFuture(t *testing.T, s *shop.Shop, h http.Handler) {
	last := time.Unix(affinity.MaxUnix, 0).UTC()
	require.NoError(t, s.Refresh(context.Background(), shop.Changes(func(yield func(affinity.OrderChange) bool) {
		yield(affinity.OrderChange{Key: "adv-future", Lines: []affinity.Purchase{{Customer: "adv-future", Product: "p00746", Time: last, Quantity: 1, Price: 10000}}})
	})))
	require.Equal(t, last, s.Snapshot().AsOf())
	for _, path := range []string{"/api/customers/adv-future", "/api/customers/c000740", "/api/customers/adv-future/recommendations",
		"/api/products/p00746/together", "/api/segments", "/api/segments/query?q=recency%20%3C%3D%2030d", "/healthz", "/metrics"} {
		rec := serve(h, "GET", path, "")
		assert.Equal(t, 200, rec.Code, "%s: %.300q", path, rec.Body.Bytes())
		checkJSON(t, rec, nil)
	}
}
