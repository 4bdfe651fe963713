package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	demoOnce sync.Once
	demoShop *shop.Shop
	demoErr  error
)

// testServer serves the demo shop (opened once for the package's tests,
// with the program's options, so that the browser test's screenshot shows
// what the program serves).
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	demoOnce.Do(func() {
		opts := shopOptions(slog.New(slog.NewTextHandler(io.Discard, nil)))
		opts.Progress = nil // no progress line in the tests' output
		demoShop, demoErr = shop.Open(context.Background(), shop.Demo(), opts)
	})
	require.NoError(t, demoErr)
	srv := httptest.NewServer(newServer(demoShop, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// call makes a request and decodes the JSON answer into v (when not nil),
// returning the status.
func call(t *testing.T, method, url, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v), "%s %s", method, url)
	}
	return resp.StatusCode
}

func TestAPI(t *testing.T) {
	srv := testServer(t)
	u := srv.URL

	var recs shop.Result
	require.Equal(t, 200, call(t, "GET", u+"/api/customers/c000740/recommendations?k=4", "", &recs))
	assert.True(t, recs.Known)
	assert.Len(t, recs.Recs, 4)
	assert.NotEmpty(t, recs.Recs[0].Explanation())

	dept := demoShop.Snapshot().History().Catalog().CategoryPath(demoShop.Snapshot().History().Catalog().Roots()[0])
	require.Equal(t, 200, call(t, "GET", u+"/api/customers/c000740/recommendations?k=3&category="+dept, "", &recs))
	for _, r := range recs.Recs {
		assert.True(t, strings.HasPrefix(r.Category, dept), r.Category)
	}

	var prof map[string]any
	require.Equal(t, 200, call(t, "GET", u+"/api/customers/c000740", "", &prof))
	assert.Equal(t, "c000740", prof["customer"])
	assert.Contains(t, prof, "rfm")
	assert.Contains(t, prof, "value")
	assert.NotEmpty(t, prof["top_categories"])

	require.Equal(t, 200, call(t, "POST", u+"/api/cart/recommendations", `{"cart":["p00746","p00966"],"k":3}`, &recs))
	assert.Len(t, recs.Recs, 3)
	for _, r := range recs.Recs {
		assert.NotContains(t, []string{"p00746", "p00966"}, r.Product)
	}

	require.Equal(t, 200, call(t, "GET", u+"/api/products/p00746/together?k=3", "", &recs))
	assert.Len(t, recs.Recs, 3)

	var segs struct {
		Segments []segmentRow `json:"segments"`
		Grid     []gridCell   `json:"grid"`
	}
	require.Equal(t, 200, call(t, "GET", u+"/api/segments", "", &segs))
	var champions bool
	for _, s := range segs.Segments {
		champions = champions || s.Kind == "rfm" && s.Name == "Champions" && s.Customers > 0
	}
	assert.True(t, champions)
	// the R×F grid: every cell is the query of its two scores
	require.Len(t, segs.Grid, 25)
	for i, c := range segs.Grid {
		require.Equal(t, [2]int{i/5 + 1, i%5 + 1}, [2]int{c.R, c.F})
		aud, err := demoShop.Snapshot().Segment(fmt.Sprintf("rscore = %d and fscore = %d", c.R, c.F))
		require.NoError(t, err)
		assert.Equal(t, aud.Len(), c.Customers, "R%d F%d", c.R, c.F)
		assert.Equal(t, aud.Revenue().Format(2), c.Revenue, "R%d F%d", c.R, c.F)
	}

	var q struct {
		Count     int              `json:"count"`
		Revenue   string           `json:"revenue"`
		Customers []map[string]any `json:"customers"`
	}
	require.Equal(t, 200, call(t, "GET", u+"/api/segments/query?q=frequency%20%3E%3D%205&limit=7&order=spend", "", &q))
	assert.Positive(t, q.Count)
	assert.Len(t, q.Customers, 7)

	resp, err := http.Get(u + "/api/segments/query.csv?q=frequency%20%3E%3D%205&order=key")
	require.NoError(t, err)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Len(t, rows, q.Count+1)

	var health map[string]any
	require.Equal(t, 200, call(t, "GET", u+"/healthz", "", &health))
	assert.Equal(t, "ok", health["status"])

	var m struct {
		Routes []routeReport `json:"routes"`
	}
	require.Equal(t, 200, call(t, "GET", u+"/metrics", "", &m))
	assert.NotEmpty(t, m.Routes)

	resp, err = http.Get(u + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(page), "5000 customers")
}

// TestAPIRules checks that a page's rules reach the shop: the answers of
// the API with a price band, a category cap, diversity and repeats are
// the shop's own for the same request, and keep to the rules.
func TestAPIRules(t *testing.T) {
	srv := testServer(t)
	snap := demoShop.Snapshot()
	cat := snap.History().Catalog()
	lo, hi := affinity.MoneyFromFloat(5), affinity.MoneyFromFloat(25)
	for _, c := range []struct {
		path, body string
		req        shop.Request
	}{
		{path: "/api/customers/c000740/recommendations?k=8&min_price=5&max_price=25.00&per_category=1&category_depth=2",
			req: shop.Request{Customer: "c000740", K: 8, Rules: shop.Rules{MinPrice: lo, MaxPrice: hi, MaxPerCategory: 1, CategoryDepth: 2}}},
		{path: "/api/customers/c000740/recommendations?k=8&diversity=0.5&repeats=true",
			req: shop.Request{Customer: "c000740", K: 8, Rules: shop.Rules{Diversity: 0.5, AllowRepeats: true}}},
		{path: "/api/cart/recommendations", body: `{"customer":"c000740","cart":["p00746"],"k":6,"min_price":"5","max_price":25,"per_category":1,"category_depth":2}`,
			req: shop.Request{Customer: "c000740", Cart: []string{"p00746"}, K: 6, Rules: shop.Rules{MinPrice: lo, MaxPrice: hi, MaxPerCategory: 1, CategoryDepth: 2}}},
		{path: "/api/cart/recommendations", body: `{"cart":["p00746"],"k":6,"diversity":1}`,
			req: shop.Request{Cart: []string{"p00746"}, K: 6, Rules: shop.Rules{Diversity: 1}}},
		// min_price 0 and a null max_price are no bounds
		{path: "/api/customers/c000740/recommendations?k=8&min_price=0",
			req: shop.Request{Customer: "c000740", K: 8}},
		{path: "/api/cart/recommendations", body: `{"cart":["p00746"],"k":6,"min_price":0,"max_price":null}`,
			req: shop.Request{Cart: []string{"p00746"}, K: 6}},
	} {
		method := "GET"
		if c.body != "" {
			method = "POST"
		}
		var got shop.Result
		require.Equal(t, 200, call(t, method, srv.URL+c.path, c.body, &got), c.path)
		want, err := snap.Recommend(context.Background(), c.req)
		require.NoError(t, err)
		require.Len(t, got.Recs, len(want.Recs), c.path)
		perCat := map[affinity.CategoryID]int{}
		for i, r := range got.Recs {
			assert.Equal(t, want.Recs[i].Product, r.Product, "%s %s: rec %d", c.path, c.body, i)
			if c.req.MaxPrice > 0 {
				assert.True(t, r.Price >= lo && r.Price <= hi, "%s: %s at %v", c.path, r.Product, r.Price)
			}
			if c.req.MaxPerCategory > 0 {
				p, _ := cat.LookupProduct(r.Product)
				for _, pc := range cat.Categories(p) {
					a := cat.Ancestor(pc, c.req.CategoryDepth)
					perCat[a]++
					assert.LessOrEqual(t, perCat[a], 1, "%s: two in %s", c.path, cat.CategoryPath(a))
				}
			}
		}
	}
}

func TestAPIErrors(t *testing.T) {
	srv := testServer(t)
	u := srv.URL
	cases := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"bad query", "GET", "/api/segments/query?q=frequency%20%3E%3D", "", 400, "column"},
		{"missing query", "GET", "/api/segments/query", "", 400, "missing query"},
		{"bad order", "GET", "/api/segments/query?q=frequency%20%3E%3D%201&order=height", "", 400, "unknown order"},
		{"bad limit", "GET", "/api/segments/query?q=frequency%20%3E%3D%201&limit=0", "", 400, "limit"},
		{"bad k", "GET", "/api/customers/c000740/recommendations?k=abc", "", 400, "k="},
		{"huge k", "GET", "/api/customers/c000740/recommendations?k=100000", "", 400, "k="},
		{"unknown category", "GET", "/api/customers/c000740/recommendations?category=Nope", "", 400, "unknown category"},
		{"bad price", "GET", "/api/customers/c000740/recommendations?max_price=cheap", "", 400, "max_price="},
		{"negative price", "GET", "/api/customers/c000740/recommendations?min_price=-1", "", 400, "price band"},
		{"empty price band", "GET", "/api/customers/c000740/recommendations?min_price=20&max_price=10", "", 400, "price band"},
		{"negative cap", "GET", "/api/customers/c000740/recommendations?per_category=-1", "", 400, "per_category="},
		{"deep depth", "GET", "/api/customers/c000740/recommendations?per_category=1&category_depth=65", "", 400, "category_depth="},
		{"bad diversity", "GET", "/api/customers/c000740/recommendations?diversity=much", "", 400, "diversity="},
		{"diversity above one", "GET", "/api/customers/c000740/recommendations?diversity=1.5", "", 400, "diversity"},
		{"diversity NaN", "GET", "/api/customers/c000740/recommendations?diversity=NaN", "", 400, "diversity"},
		{"bad repeats", "GET", "/api/customers/c000740/recommendations?repeats=maybe", "", 400, "repeats="},
		{"cart diversity", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"diversity":-1}`, 400, "diversity"},
		{"cart price band", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"min_price":"20","max_price":"10"}`, 400, "price band"},
		{"cart bad price", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"max_price":"ten"}`, 400, "bad JSON"},
		// 0 is no bound to the shop: "at most 0" is refused, not ignored
		{"zero max price", "GET", "/api/customers/c000740/recommendations?max_price=0", "", 400, "max_price 0"},
		{"zero max price with cents", "GET", "/api/customers/c000740/recommendations?max_price=0.00", "", 400, "max_price 0"},
		{"cart zero max price", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"max_price":0}`, 400, "max_price 0"},
		{"unknown customer", "GET", "/api/customers/nobody", "", 404, "unknown customer"},
		{"unknown product", "GET", "/api/products/nope/together", "", 404, "unknown product"},
		{"bad JSON", "POST", "/api/cart/recommendations", `{"cart":`, 400, "bad JSON"},
		{"unknown field", "POST", "/api/cart/recommendations", `{"basket":["p1"]}`, 400, "unknown field"},
		{"oversized body", "POST", "/api/cart/recommendations", `{"cart":["` + strings.Repeat("x", maxBody) + `"]}`, 413, "request body over 64 KiB"},
		{"oversized stock", "PUT", "/api/stock", `{"in_stock":["` + strings.Repeat("x", maxBody) + `"]}`, 413, "request body over 64 KiB"},
		// a body over the limit is a 413 also when it is not JSON; the
		// body's rules have the query parameters' ranges
		{"oversized bad JSON", "POST", "/api/cart/recommendations", `{"cart": x` + strings.Repeat(" ", maxBody), 413, "request body over 64 KiB"},
		{"cart deep depth", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"per_category":1,"category_depth":65}`, 400, "category_depth"},
		{"cart huge cap", "POST", "/api/cart/recommendations", `{"cart":["p00746"],"per_category":1001}`, 400, "per_category"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e shop.Problem
			assert.Equal(t, tc.status, call(t, tc.method, u+tc.path, tc.body, &e))
			assert.Contains(t, e.Message, tc.contains)
		})
	}
	var e shop.Problem
	require.Equal(t, 400, call(t, "GET", u+"/api/segments/query?q=recency%20between%2014d%2028d", "", &e))
	assert.Positive(t, e.Column, "the position of a bad query")
	e = shop.Problem{}
	assert.Equal(t, http.StatusMethodNotAllowed, call(t, "DELETE", u+"/api/segments", "", &e))
	assert.Equal(t, "method not allowed", e.Message)
	for _, path := range []string{"/nowhere", "/api/nowhere", "/api/customers/c000740/nowhere"} {
		e = shop.Problem{}
		assert.Equal(t, http.StatusNotFound, call(t, "GET", u+path, "", &e), path)
		assert.Equal(t, "not found", e.Message, path)
	}
}

func TestStockUpdate(t *testing.T) {
	ctx := context.Background()
	opts := shop.Options{}
	if !testdata.Long() {
		opts.Model = "neighbours" // the demo's choice, without the choosing (see freshHandler)
	}
	s, err := shop.Open(ctx, freshSource(), opts)
	require.NoError(t, err)
	srv := httptest.NewServer(newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	var before shop.Result
	require.Equal(t, 200, call(t, "GET", srv.URL+"/api/customers/c000740/recommendations?k=3", "", &before))
	top := before.Recs[0].Product
	require.Equal(t, 200, call(t, "PUT", srv.URL+"/api/stock", `{"out_of_stock":["`+top+`"]}`, nil))
	var after shop.Result
	require.Equal(t, 200, call(t, "GET", srv.URL+"/api/customers/c000740/recommendations?k=3", "", &after))
	for _, r := range after.Recs {
		assert.NotEqual(t, top, r.Product)
	}
}

// TestMetricsFresh: before its first request a fresh service reported
// "routes": null, where a client expects a list.
func TestMetricsFresh(t *testing.T) {
	resp, err := http.Get(testServer(t).URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Regexp(t, `"routes":\s*\[\]`, string(body))
}

// TestSegmentWaitEndsWithRequest: right after a refresh the segment
// endpoints wait for the new snapshot's segment index. They waited
// without a bound (Snapshot.Segment and Snapshot.Segments), so a client
// that gave up left its handler waiting, counted as a waiter (a newer
// refresh then did not stop the stale build), and held up shutdown. The
// wait ends with the request's context, a 503, as a profile's does.
func TestSegmentWaitEndsWithRequest(t *testing.T) {
	gate := testdata.NewGate()
	opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
		if p.Step == "segment" && p.Done == 0 {
			gate.Wait() // the refresh's index build is slow
		}
	}}
	s, err := shop.Open(context.Background(), freshSource(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { gate.Open(); s.Close() })
	h := newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))

	gate.Hold()
	at := s.Snapshot().History().Latest()
	require.NoError(t, s.Refresh(context.Background(), shop.Changes(func(yield func(affinity.OrderChange) bool) {
		yield(affinity.OrderChange{Key: "sw-1", Lines: []affinity.Purchase{{Customer: "sw-c", Product: "p00746", Time: at, Quantity: 1, Price: 10000}}})
	})))

	for _, path := range []string{"/api/customers/c000740", "/api/segments/query?q=all", "/api/segments/query.csv?q=all", "/api/segments"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(ctx))
				done <- rec
			}()
			time.Sleep(50 * time.Millisecond)
			cancel() // the client goes away
			select {
			case rec := <-done:
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "%.200q", rec.Body.Bytes())
			case <-time.After(2 * time.Second):
				t.Errorf("%s: still waiting for the segment index 2 s after its request's context ended", path)
			}
		})
	}
}
