package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuantileNearestRank: the quantiles of /metrics are by the nearest
// rank, ⌈q·n⌉; quantile rounded q·n instead, so the p99 of 51 to 99
// latencies was the second largest, one rank low (and so was every
// quantile whose q·n had a fraction below one half).
func TestQuantileNearestRank(t *testing.T) {
	lat := func(n int) []time.Duration {
		l := make([]time.Duration, n)
		for i := range l {
			l[i] = time.Duration(i+1) * time.Microsecond
		}
		return l
	}
	for _, c := range []struct {
		n    int
		q    float64
		want int // rank, from 1
	}{
		{1, 0.99, 1}, {60, 0.99, 60}, {100, 0.99, 99}, {101, 0.99, 100}, {4096, 0.99, 4056},
		{60, 0.5, 30}, {61, 0.5, 31}, {3, 0.5, 2},
	} {
		assert.Equal(t, time.Duration(c.want)*time.Microsecond, quantile(lat(c.n), c.q), "q %v of %d", c.q, c.n)
	}
	m := newMetrics(nil)
	for i := range 60 {
		m.observe("GET /x", 200, time.Duration(i+1)*time.Microsecond)
	}
	rs := m.routes["GET /x"]
	assert.Equal(t, 60*time.Microsecond, quantile(append([]time.Duration(nil), rs.lat[:rs.n]...), 0.99))
}

// TestMetricsCountUnmatched: requests no route matches (a 404, or a 405
// for a method a path does not take) were answered but not counted, so a
// client probing wrong paths was invisible in /metrics. They are counted
// under noRoute, by status.
func TestMetricsCountUnmatched(t *testing.T) {
	h := advHandler(t) // a server of its own: no request counted yet
	checkError(t, serve(h, "GET", "/nowhere", ""), http.StatusNotFound)
	checkError(t, serve(h, "GET", "/api/nowhere", ""), http.StatusNotFound)
	checkError(t, serve(h, "DELETE", "/api/segments", ""), http.StatusMethodNotAllowed)
	var m struct {
		Routes []routeReport `json:"routes"`
	}
	checkJSON(t, serve(h, "GET", "/metrics", ""), &m)
	require.Len(t, m.Routes, 1)
	assert.Equal(t, routeReport{Route: noRoute, Requests: 3, ByStatus: map[string]int64{"Not Found": 2, "Method Not Allowed": 1},
		P50us: m.Routes[0].P50us, P99us: m.Routes[0].P99us, Maxus: m.Routes[0].Maxus}, m.Routes[0])
}

// TestMetricsCountRedirects: a request the mux redirects to the clean
// form of its path was counted nowhere when the clean path has a route
// (//healthz, /api//segments), and as "no route" with a JSON error body
// on the redirect when it has none (/x/../nowhere). Each is counted under
// "redirect" with its status, and answered with the mux's redirect; a
// request that follows it is counted under its route.
func TestMetricsCountRedirects(t *testing.T) {
	h := advHandler(t) // a server of its own: no request counted yet
	paths := []string{"//healthz", "/api//segments", "/x/../nowhere"}
	statuses := map[string]int64{}
	for _, path := range paths {
		rec := serve(h, "GET", path, "")
		require.True(t, rec.Code >= 300 && rec.Code < 400, "%s: %d", path, rec.Code)
		assert.NotEmpty(t, rec.Header().Get("Location"), path)
		assert.NotContains(t, rec.Body.String(), `"error"`, "%s: an error body on a redirect", path)
		statuses[http.StatusText(rec.Code)]++
	}
	checkJSON(t, serve(h, "GET", "/healthz", ""), nil)
	var m struct {
		Routes []routeReport `json:"routes"`
	}
	checkJSON(t, serve(h, "GET", "/metrics", ""), &m)
	byRoute := map[string]routeReport{}
	for _, rr := range m.Routes {
		byRoute[rr.Route] = rr
	}
	assert.Equal(t, int64(len(paths)), byRoute[redirect].Requests)
	assert.Equal(t, statuses, byRoute[redirect].ByStatus)
	assert.Equal(t, int64(1), byRoute["GET /healthz"].Requests)
	assert.NotContains(t, byRoute, noRoute)
}
