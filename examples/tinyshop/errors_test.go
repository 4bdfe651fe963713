package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// errorOf runs one request through h with ctx and returns its status and
// error body, after checking that the body is the storefront's JSON
// error: an "error" message and, only for a query's problem, "line",
// "column" and "offset".
func errorOf(t *testing.T, h http.Handler, ctx context.Context, method, target string) (int, shop.Problem) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil).WithContext(ctx))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%s %s", method, target)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fields), "%s %s: not JSON: %q", method, target, rec.Body)
	for name := range fields {
		assert.Contains(t, []string{"error", "line", "column", "offset"}, name, "%s %s: %s", method, target, rec.Body)
	}
	var e shop.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
	assert.NotEmpty(t, e.Message, "%s %s: %s", method, target, rec.Body)
	return rec.Code, e
}

// TestMuxErrorsAreJSON: a path that names no route (404) and a method a
// route does not take (405) were answered by the mux in plain text,
// where every other error is a JSON object. They are JSON errors too,
// with the same status and Allow header.
func TestMuxErrorsAreJSON(t *testing.T) {
	h := sharedHandler(t)
	ctx := context.Background()
	for _, target := range []string{"/", "/nothing", "/customers/c000042", "/customers/c000042/recommendations/more"} {
		code, e := errorOf(t, h, ctx, "GET", target)
		assert.Equal(t, http.StatusNotFound, code, target)
		assert.Equal(t, "not found", e.Message, target)
	}
	for _, tc := range []struct{ method, target, allow string }{
		{"GET", "/orders", "POST"},
		{"DELETE", "/segments?q=all", "GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
		code, e := errorOf(t, h, ctx, tc.method, tc.target)
		assert.Equal(t, http.StatusMethodNotAllowed, code, tc.target)
		assert.Equal(t, "method not allowed", e.Message, tc.target)
	}
}

// TestQueryErrorsGivePosition: a query that does not parse, or names
// what the shop does not know, is a 400 whose body gives the position of
// the problem as the storefront's does: the line, column and byte offset
// of the shop's *segment.SyntaxError or *segment.QueryError.
func TestQueryErrorsGivePosition(t *testing.T) {
	h := sharedHandler(t)
	ctx := context.Background()
	for _, q := range []string{"frequency >=", "all and\n  (recency > 5x)", "all and\n  bought(\"nope\")", `affinity("Nope") >= 0.1`} {
		_, err := sharedShop.Snapshot().SegmentContext(ctx, q)
		var se *segment.SyntaxError
		var qe *segment.QueryError
		var line, column, offset int
		switch {
		case errors.As(err, &se):
			line, column, offset = se.Line, se.Column, se.Offset
		case errors.As(err, &qe):
			line, column, offset = qe.Line, qe.Column, qe.Offset
		default:
			require.Failf(t, "no position", "%q: %v", q, err)
		}
		code, e := errorOf(t, h, ctx, "GET", "/segments?q="+url.QueryEscape(q))
		assert.Equal(t, http.StatusBadRequest, code, q)
		assert.Equal(t, err.Error(), e.Message, q)
		assert.Equal(t, []int{line, column}, []int{e.Line, e.Column}, q)
		if assert.NotNil(t, e.Offset, q) {
			assert.Equal(t, offset, *e.Offset, q)
		}
	}
	code, e := errorOf(t, h, ctx, "GET", "/customers/c000042/recommendations?k=x")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Nil(t, e.Offset, "no position outside a query")
}

// TestShopFailureOnGetIs503: a GET the shop could not answer (the
// request's context ended before the answer, the wait for a refresh's
// segment index cut short) was a 400, as if the client's parameters were
// at fault. It is a 503, as for POST /orders.
func TestShopFailureOnGetIs503(t *testing.T) {
	h := sharedHandler(t)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	code, e := errorOf(t, h, done, "GET", "/customers/c000042/recommendations?k=3")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, e.Message, "context canceled")

	mux, _ := refreshedHeld(t, shop.Storefront(smallStorefront()))
	code, e = errorOf(t, mux, done, "GET", "/segments?q=all")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, e.Message, "waiting for the segment index")
}
