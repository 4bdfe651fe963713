package main

import (
	"context"
	"encoding/json"
	"fmt"
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

var (
	sharedOnce sync.Once
	sharedShop *shop.Shop
	sharedErr  error
)

// sharedHandler serves a demo shop shared by the tests that do not change
// it.
func sharedHandler(t *testing.T) http.Handler {
	t.Helper()
	sharedOnce.Do(func() { sharedShop, sharedErr = shop.Open(context.Background(), shop.Demo(), shop.Options{}) })
	require.NoError(t, sharedErr)
	mux := http.NewServeMux()
	routes(mux, sharedShop)
	return mux
}

// smallStorefront is a generated storefront of 500 customers and 200
// products, a tenth of the demo's: read-only, shared.
var smallStorefront = sync.OnceValue(func() *dataset.Storefront {
	return dataset.Generate(dataset.SyntheticOptions{Customers: 500, Products: 200})
})

// advShop serves a shop of its own, called in process, for the tests
// that post orders to it: the demo shop in the long suite. The quick
// suite opens a generated shop a tenth of the demo's size (its
// customers c000000… and products p00000… named as the demo's; what
// these tests check of the posted orders does not depend on the size)
// on the neighbours, the model the demo chooses by default
// (shop.TestAutoModel), without paying for the choice: the shared shop
// goes through it.
func advShop(t *testing.T) (*shop.Shop, http.Handler) {
	t.Helper()
	opts, src := shop.Options{}, shop.Demo()
	if !testdata.Long() {
		opts.Model = "neighbours"
		src = shop.Storefront(smallStorefront())
	}
	s, err := shop.Open(context.Background(), src, opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	mux := http.NewServeMux()
	routes(mux, s)
	return s, mux
}

// do runs one request through h, its body declared JSON, and checks that
// the answer is a complete JSON document of the documented type; v (when
// not nil) receives it.
func do(t *testing.T, h http.Handler, method, target, body string, v any) int {
	t.Helper()
	return doAs(t, h, method, target, "application/json", body, v)
}

// doAs is do with the body's Content-Type (none when "").
func doAs(t *testing.T, h http.Handler, method, target, contentType, body string, v any) int {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b := rec.Body.Bytes()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%s %.100s", method, target)
	require.NotEmpty(t, b, "%s %.100s: status %d with an empty body", method, target, rec.Code)
	require.True(t, json.Valid(b), "%s %.100s: status %d, not JSON: %.300q", method, target, rec.Code, b)
	if v != nil {
		require.NoError(t, json.Unmarshal(b, v))
	}
	return rec.Code
}

func TestAdversarialTinyRecommendations(t *testing.T) {
	h := sharedHandler(t)
	long := strings.Repeat("é", 32<<10)
	ids := []struct{ name, escaped, key string }{
		{"unknown", "nobody", "nobody"},
		{"unicode", url.PathEscape("客户-🛒"), "客户-🛒"},
		{"encoded slash", "a%2Fb", "a/b"},
		{"NUL", "%00", "\x00"},
		{"very long", url.PathEscape(long), long},
	}
	for _, tc := range ids {
		t.Run(tc.name, func(t *testing.T) {
			var res shop.Result
			require.Equal(t, 200, do(t, h, "GET", "/customers/"+tc.escaped+"/recommendations?k=4", "", &res))
			assert.Equal(t, tc.key, res.Customer)
			assert.False(t, res.Known)
			assert.True(t, res.ColdStart)
			assert.Len(t, res.Recs, 4)
		})
	}
	ks := []struct {
		k      string
		status int
		n      int
	}{
		{"0", 200, shop.DefaultK},
		{"", 200, shop.DefaultK},
		{"-1", 400, 0},
		{"1001", 400, 0},
		{"99999999999999999999", 400, 0}, // Atoi gives its maximum with the error
		{"1000", 200, -1},
		{"2&k=7", 200, 2},
		{"abc", 400, 0},
		{"2.5", 400, 0},
	}
	for _, tc := range ks {
		t.Run("k="+tc.k, func(t *testing.T) {
			var res struct {
				Recs  []json.RawMessage `json:"recommendations"`
				Error string            `json:"error"`
			}
			assert.Equal(t, tc.status, do(t, h, "GET", "/customers/c000042/recommendations?k="+tc.k, "", &res))
			switch {
			case tc.status != 200:
				assert.Contains(t, res.Error, "invalid request")
			case tc.n >= 0:
				assert.Len(t, res.Recs, tc.n)
			default:
				assert.NotEmpty(t, res.Recs)
			}
		})
	}
}

func TestAdversarialTinySegments(t *testing.T) {
	h := sharedHandler(t)
	bad := []string{
		"", "   ", "frequency >=", "(frequency >= 1", "recency > 5x", `affinity("Nope") >= 0.1`,
		`rfm("Nope")`, `bought("nope")`, "recency between 28d and 14d", "frequency >= \xff",
		strings.Repeat("(", 50_000) + "all" + strings.Repeat(")", 50_000),
	}
	for _, q := range bad {
		t.Run(fmt.Sprintf("%.40q", q), func(t *testing.T) {
			var e shop.Problem
			assert.Equal(t, 400, do(t, h, "GET", "/segments?q="+url.QueryEscape(q), "", &e))
			assert.NotEmpty(t, e.Message)
			assert.True(t, strings.Contains(e.Message, "column") || strings.Contains(e.Message, "deeper") ||
				strings.Contains(e.Message, "longer"), "the position of the problem: %q", e.Message)
		})
	}
	t.Run("repeated q", func(t *testing.T) {
		var seg map[string]any
		require.Equal(t, 200, do(t, h, "GET", "/segments?q=all&q=frequency%20%3E%3D", "", &seg))
		assert.Equal(t, "all", seg["query"])
	})
}

func TestAdversarialTinyMethods(t *testing.T) {
	h := sharedHandler(t)
	cases := []struct{ method, path, allow string }{
		{"GET", "/orders", "POST"},
		{"PUT", "/orders", "POST"},
		{"POST", "/segments?q=all", "GET, HEAD"},
		{"DELETE", "/customers/c000042/recommendations", "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
			assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
		})
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/segments?q=all", "/customers/c000042/recommendations"} {
		resp, err := http.Head(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
	}
}

// overMiB returns a JSON array of pad items and then last that is just
// over 1 MiB.
func overMiB(pad, last string) string {
	var b strings.Builder
	b.WriteString("[")
	for b.Len() <= 1<<20 {
		b.WriteString(pad + ",")
	}
	b.WriteString(last + "]")
	return b.String()
}

// state is what a refused POST /orders must leave unchanged.
type state struct {
	asOf      time.Time
	lines     int
	customers int
	frequent  float64
	returners float64
	buyerRecs string
}

func stateOf(t *testing.T, s *shop.Shop, h http.Handler) state {
	t.Helper()
	snap := s.Snapshot()
	st := state{asOf: snap.AsOf(), lines: snap.History().NumLines(), customers: snap.History().NumCustomers()}
	var seg map[string]any
	require.Equal(t, 200, do(t, h, "GET", "/segments?q=frequency%20%3E%3D%201", "", &seg))
	st.frequent = seg["customers"].(float64)
	require.Equal(t, 200, do(t, h, "GET", "/segments?q=monetary%20%3C%200", "", &seg))
	st.returners = seg["customers"].(float64)
	var res shop.Result
	require.Equal(t, 200, do(t, h, "GET", "/customers/adv-buyer/recommendations?k=3", "", &res))
	st.buyerRecs = fmt.Sprint(res.Known, res.ColdStart)
	return st
}

func TestAdversarialTinyOrders(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339) // the as-of time stays
	order := func(key, customer, extra string) string {
		return `{"key":"` + key + `","lines":[{"customer":"` + customer + `","product":"p00007","time":"` + at + `","quantity":2,"price":12.90` + extra + `}]}`
	}
	good := order("adv-good", "adv-buyer", "")
	withLine := func(line string) string {
		return `[` + good + `,{"key":"adv-bad","lines":[` + line + `]}]`
	}
	line := func(fields string) string {
		return `{"customer":"adv-bad","product":"p00007","time":"` + at + `","quantity":1,"price":1` + fields + `}`
	}
	refused := []struct{ name, body string }{
		{"empty", ""},
		{"not JSON", "orders"},
		{"object", good},
		{"truncated", "[" + good},
		{"NaN price", withLine(strings.Replace(line(""), `"price":1`, `"price":NaN`, 1))},
		{"price with exponent", withLine(strings.Replace(line(""), `"price":1`, `"price":1e3`, 1))},
		{"price too precise", withLine(strings.Replace(line(""), `"price":1`, `"price":1.00001`, 1))},
		{"price beyond range", withLine(strings.Replace(line(""), `"price":1`, `"price":99999999999999999999`, 1))},
		{"negative price", withLine(strings.Replace(line(""), `"price":1`, `"price":-1`, 1))},
		{"price a bool", withLine(strings.Replace(line(""), `"price":1`, `"price":true`, 1))},
		{"quantity 0", withLine(strings.Replace(line(""), `"quantity":1`, `"quantity":0`, 1))},
		{"quantity beyond int32", withLine(strings.Replace(line(""), `"quantity":1`, `"quantity":2147483648`, 1))},
		{"quantity fractional", withLine(strings.Replace(line(""), `"quantity":1`, `"quantity":1.5`, 1))},
		{"quantity a string", withLine(strings.Replace(line(""), `"quantity":1`, `"quantity":"1"`, 1))},
		{"time before 1970", withLine(strings.Replace(line(""), at, "1969-12-31T23:59:59Z", 1))},
		{"time after 2106", withLine(strings.Replace(line(""), at, "2107-01-01T00:00:00Z", 1))},
		{"time missing", withLine(strings.Replace(line(""), `"time":"`+at+`",`, "", 1))},
		{"time not RFC 3339", withLine(strings.Replace(line(""), at, "05/01/2026", 1))},
		{"product missing", withLine(strings.Replace(line(""), `"product":"p00007",`, "", 1))},
		{"two customers", withLine(line("") + "," + strings.Replace(line(""), "adv-bad", "adv-other", 1))},
		{"line of another order", withLine(line(`,"order":"elsewhere"`))},
		{"no key", `[` + good + `,{"lines":[` + line("") + `]}]`},
		{"null order", `[` + good + `,null]`},
		{"deeply nested", strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)},
		{"version a string", `[` + good + `,{"key":"adv-bad","version":"1","lines":[` + line("") + `]}]`},
		// last, as what they take in stays (a customer is never forgotten)
		{"trailing garbage", `[` + good + `] and more`},
		// a body over 1 MiB, garbage past it or not, is a 413: TestOrdersOver1MiB
		{"two documents", `[` + good + `][` + order("adv-bad", "adv-bad", "") + `]`},
	}
	require.Equal(t, "false true", stateOf(t, s, h).buyerRecs)
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := stateOf(t, s, h)
			var e map[string]any
			assert.Equal(t, 400, do(t, h, "POST", "/orders", tc.body, &e))
			assert.NotEmpty(t, e["error"])
			assert.Equal(t, before, stateOf(t, s, h), "a refused POST changes nothing")
			for _, key := range []string{"adv-good", "adv-bad", "adv-pad"} {
				_, ok := s.Snapshot().History().LookupOrder(key)
				assert.False(t, ok, "order %s", key)
			}
		})
		if t.Failed() {
			// start the next case from the shop before this one
			require.Equal(t, 200, do(t, h, "POST", "/orders", `[{"key":"adv-good","delete":true},{"key":"adv-bad","delete":true},{"key":"adv-pad","delete":true}]`, nil))
		}
	}

	t.Run("accepted and visible", func(t *testing.T) {
		value := func(key string) affinity.Money {
			h := s.Snapshot().History()
			o, ok := h.LookupOrder(key)
			require.True(t, ok, key)
			return h.OrderValue(o)
		}
		st := stateOf(t, s, h)
		// a new buyer, a return-only customer, and one order twice in a
		// batch (the last of equal versions wins), then a lower version
		// that loses
		body := `[` + good + `,` +
			strings.Replace(order("adv-ret", "adv-returner", ""), `"quantity":2`, `"quantity":-1`, 1) + `,` +
			order("adv-dup", "adv-dup", "") + `,` +
			strings.Replace(order("adv-dup", "adv-dup", ""), `"quantity":2`, `"quantity":3`, 1) + `,` +
			`{"key":"adv-ver","version":5,"lines":[` + line("") + `]},` +
			`{"key":"adv-ver","version":4,"lines":[` + strings.Replace(line(""), `"quantity":1`, `"quantity":9`, 1) + `]}]`
		var ok map[string]any
		require.Equal(t, 200, do(t, h, "POST", "/orders", body, &ok))
		assert.Contains(t, ok, "as_of")
		after := stateOf(t, s, h)
		assert.Equal(t, st.asOf, after.asOf)
		assert.Equal(t, "true false", after.buyerRecs, "the new buyer is known and served from the history")
		assert.Equal(t, st.frequent+3, after.frequent, "three new buyers (adv-buyer, adv-dup, adv-bad): frequency >= 1")
		assert.Equal(t, st.returners+1, after.returners, "the return-only customer has a negative spend")
		assert.Equal(t, affinity.Money(258000), value("adv-good"))
		assert.Equal(t, affinity.Money(-129000), value("adv-ret"))
		assert.Equal(t, affinity.Money(387000), value("adv-dup"), "the later of two equal versions in one batch wins")
		assert.Equal(t, affinity.Money(10000), value("adv-ver"), "the higher version wins whatever the order")
		var seg map[string]any
		require.Equal(t, 200, do(t, h, "GET", "/segments?q=frequency%20%3E%3D%201", "", &seg))

		// the same batch again changes nothing
		lines := s.Snapshot().History().NumLines()
		require.Equal(t, 200, do(t, h, "POST", "/orders", body, nil))
		assert.Equal(t, lines, s.Snapshot().History().NumLines())
		assert.Equal(t, after, stateOf(t, s, h))
	})

	t.Run("null and empty", func(t *testing.T) {
		st := stateOf(t, s, h)
		for _, body := range []string{"null", "[]"} {
			assert.Equal(t, 200, do(t, h, "POST", "/orders", body, nil), body)
		}
		assert.Equal(t, st, stateOf(t, s, h))
	})
}

// TestAdversarialTinyConcurrentOrders posts orders while clients read:
// every answer is complete JSON, and every posted order is served.
func TestAdversarialTinyConcurrentOrders(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	paths := []string{"/customers/c000042/recommendations?k=3", "/segments?q=frequency%20%3E%3D%202", "/customers/adv-c1/recommendations"}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", paths[i%len(paths)], nil))
				if b := rec.Body.Bytes(); rec.Code != 200 || len(b) == 0 || !json.Valid(b) {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d %.200q", paths[i%len(paths)], rec.Code, b))
					mu.Unlock()
				}
			}
		}()
	}
	const n = 6
	for i := range n {
		body := fmt.Sprintf(`[{"key":"adv-c%d","lines":[{"customer":"adv-c%d","product":"p00007","time":%q,"quantity":1,"price":"5.00"}]}]`, i, i, at)
		assert.Equal(t, 200, do(t, h, "POST", "/orders", body, nil))
	}
	cancel()
	wg.Wait()
	assert.Empty(t, failures)
	for i := range n {
		var res shop.Result
		require.Equal(t, 200, do(t, h, "GET", fmt.Sprintf("/customers/adv-c%d/recommendations", i), "", &res))
		assert.True(t, res.Known, "adv-c%d", i)
	}

	t.Run("far future", func(t *testing.T) { farFuture(t, s, h) })
}

// farFuture posts an order at the last second a purchase may have: it is
// taken in, the as-of time moves there, and recommendations and segments
// still answer.
func farFuture(t *testing.T, s *shop.Shop, h http.Handler) {
	last := time.Unix(affinity.MaxUnix, 0).UTC()
	body := `[{"key":"adv-future","lines":[{"customer":"adv-future","product":"p00007","time":"` + last.Format(time.RFC3339) + `","quantity":1,"price":1}]}]`
	var ok map[string]string
	require.Equal(t, 200, do(t, h, "POST", "/orders", body, &ok))
	assert.Equal(t, last.Format(time.RFC3339), ok["as_of"])
	assert.Equal(t, last, s.Snapshot().AsOf())
	var res shop.Result
	assert.Equal(t, 200, do(t, h, "GET", "/customers/adv-future/recommendations", "", &res))
	assert.True(t, res.Known)
	var seg map[string]any
	assert.Equal(t, 200, do(t, h, "GET", "/segments?q=recency%20%3C%3D%2030d", "", &seg))
	assert.Equal(t, 1.0, seg["customers"], "only the new order is in the last 30 days")
	// one second later is refused
	late := strings.Replace(body, last.Format(time.RFC3339), last.Add(time.Second).Format(time.RFC3339), 1)
	assert.Equal(t, 400, do(t, h, "POST", "/orders", strings.Replace(late, "adv-future", "adv-late", -1), nil))
}
