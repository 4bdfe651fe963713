package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// TestSegmentWaitEndsWithRequest: right after a refresh GET /segments
// waits for the new snapshot's segment index. It waited without a bound
// (Snapshot.Segment), so a client that gave up left its handler waiting;
// the wait ends with the request's context.
func TestSegmentWaitEndsWithRequest(t *testing.T) {
	mux, gate := refreshedHeld(t, shop.Demo())

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // the client gives up
	defer cancel()
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/segments?q=all", nil).WithContext(ctx))
		done <- rec
	}()
	select {
	case rec := <-done:
		assert.Contains(t, rec.Body.String(), "waiting for the segment index")
	case <-time.After(2 * time.Second):
		t.Fatal("GET /segments still waiting for the segment index 2 s after its request's context ended")
	}
	gate.Open()
	assert.Equal(t, http.StatusOK, do(t, mux, "GET", "/segments?q=all", "", nil), "served once the index is built")
}

// refreshedHeld opens src on the neighbours, refreshes it with one order
// while its segment index builds are held, and serves it: a segment
// query waits for the refresh's index until gate.Open.
func refreshedHeld(t *testing.T, src shop.Source) (http.Handler, *testdata.Gate) {
	t.Helper()
	gate := testdata.NewGate()
	opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
		if p.Step == "segment" && p.Done == 0 {
			gate.Wait() // the refresh's index build is slow
		}
	}}
	s, err := shop.Open(context.Background(), src, opts)
	require.NoError(t, err)
	t.Cleanup(func() { gate.Open(); s.Close() })
	mux := http.NewServeMux()
	routes(mux, s)

	gate.Hold()
	at := s.Snapshot().History().Latest()
	require.NoError(t, s.Refresh(context.Background(), shop.Changes(func(yield func(affinity.OrderChange) bool) {
		yield(affinity.OrderChange{Key: "sw-1", Lines: []affinity.Purchase{{Customer: "sw-c", Product: "p00007", Time: at, Quantity: 1, Price: 10000}}})
	})))
	return mux, gate
}

// TestOrdersRefuseMisspeltFields: a webhook whose lines say
// "customer_id" and "unit_price" (for "customer" and "price"), or whose
// order says "vesion", was taken in: an anonymous order of free items,
// an order stored without its version. Each is a 400 naming the field,
// and the shop is left as it was.
func TestOrdersRefuseMisspeltFields(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	line := `{"customer":"typo-cust","product":"p00007","time":"` + at + `","quantity":2,"price":12.90}`
	for _, tc := range []struct{ name, body, field string }{
		{"customer_id", `[{"key":"typo-1","lines":[{"customer_id":"typo-cust","product":"p00007","time":"` + at + `","quantity":2,"price":12.90}]}]`, "customer_id"},
		{"unit_price", `[{"key":"typo-1","lines":[{"customer":"typo-cust","product":"p00007","time":"` + at + `","quantity":2,"unit_price":12.90}]}]`, "unit_price"},
		{"vesion", `[{"key":"typo-1","vesion":7,"lines":[` + line + `]}]`, "vesion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := s.Snapshot().History().NumLines()
			var e map[string]string
			assert.Equal(t, http.StatusBadRequest, do(t, h, "POST", "/orders", tc.body, &e))
			assert.Contains(t, e["error"], `"`+tc.field+`"`)
			_, ok := s.Snapshot().History().LookupOrder("typo-1")
			assert.False(t, ok)
			assert.Equal(t, lines, s.Snapshot().History().NumLines())
		})
	}
	require.Equal(t, http.StatusOK, do(t, h, "POST", "/orders", `[{"key":"typo-1","version":7,"lines":[`+line+`]}]`, nil), "spelt right")
}

// TestOrdersWantJSON: a POST /orders whose body is not declared JSON
// (a form a browser page may post to another origin without asking) is a
// 415 and changes nothing.
func TestOrdersWantJSON(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	body := `[{"key":"ct-1","lines":[{"customer":"ct-cust","product":"p00007","time":"` + at + `","quantity":1,"price":1}]}]`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
		var e map[string]string
		assert.Equal(t, http.StatusUnsupportedMediaType, doAs(t, h, "POST", "/orders", ct, body, &e), "Content-Type %q", ct)
		assert.Contains(t, e["error"], "application/json")
		_, ok := s.Snapshot().History().LookupOrder("ct-1")
		assert.False(t, ok, "Content-Type %q", ct)
	}
	assert.Equal(t, http.StatusOK, doAs(t, h, "POST", "/orders", "application/json; charset=utf-8", body, nil))
}

// TestOrdersShopFailureIs5xx: a refresh that fails for the shop's sake
// (here: closed) was a 400, as if the orders were at fault.
func TestOrdersShopFailureIs5xx(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	s.Close()
	var e map[string]string
	code := do(t, h, "POST", "/orders", `[{"key":"cl-1","lines":[{"customer":"cl","product":"p00007","time":"`+at+`","quantity":1,"price":1}]}]`, &e)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, e["error"], "shop: closed")
}
