package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTinyShop(t *testing.T) {
	s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{})
	require.NoError(t, err)
	mux := http.NewServeMux()
	routes(mux, s)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, v any) int {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
		return resp.StatusCode
	}

	var res shop.Result
	require.Equal(t, http.StatusOK, get("/customers/c000042/recommendations?k=3", &res))
	assert.True(t, res.Known)
	assert.Len(t, res.Recs, 3)

	var seg map[string]any
	require.Equal(t, http.StatusOK, get("/segments?q=frequency%20%3E%3D%205", &seg))
	assert.Positive(t, seg["customers"])
	assert.Equal(t, "frequency >= 5", seg["query"])
	assert.IsType(t, "", seg["revenue"], "money as an exact decimal string")
	var bad map[string]string
	assert.Equal(t, http.StatusBadRequest, get("/segments?q=frequency%20%3E%3D", &bad))
	assert.Contains(t, bad["error"], "column")

	// A new customer's first order is served after the refresh.
	require.Equal(t, http.StatusOK, get("/customers/newbie/recommendations", &res))
	assert.True(t, res.ColdStart)
	body := `[{"customer":"newbie","product":"p00007","order":"web-1","time":"2026-01-05T10:00:00Z","quantity":1,"price":12.90}]`
	resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, http.StatusOK, get("/customers/newbie/recommendations", &res))
	assert.True(t, res.Known)
	assert.False(t, res.ColdStart)
	h := s.Snapshot().History()
	o, ok := h.LookupOrder("web-1")
	require.True(t, ok)
	assert.Equal(t, affinity.Money(129000), h.OrderValue(o), "the price 12.90, read exactly")

	resp, err = http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{"not":"a list"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// A body over 1 MiB is refused, and nothing of it is taken in.
	lines := s.Snapshot().History().NumLines()
	item := strings.Trim(body, "[]")
	big := "[" + strings.Repeat(item+",", 1<<20/(len(item)+1)) + item + "]" // just over 1 MiB
	resp, err = http.Post(srv.URL+"/orders", "application/json", strings.NewReader(big))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, lines, s.Snapshot().History().NumLines())
}
