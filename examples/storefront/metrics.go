package main

import (
	"math"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/shopaffinity/affinity/shop"
)

// window is the number of latest latencies per route kept for quantiles.
const window = 4096

// metrics counts requests per route and status and keeps each route's
// latest latencies for quantiles.
type metrics struct {
	shop    *shop.Shop
	started time.Time

	mu        sync.Mutex
	routes    map[string]*routeStats
	refreshes int
	panics    int // handler panics (http.ErrAbortHandler aside)
	lastSwap  time.Time
}

type routeStats struct {
	count    int64
	byStatus map[int]int64
	lat      [window]time.Duration
	n        int // latencies recorded, capped reads at window
}

func newMetrics(s *shop.Shop) *metrics {
	now := time.Now()
	return &metrics{shop: s, started: now, lastSwap: now, routes: map[string]*routeStats{}}
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.routes[route]
	if rs == nil {
		rs = &routeStats{byStatus: map[int]int64{}}
		m.routes[route] = rs
	}
	rs.count++
	rs.byStatus[status]++
	rs.lat[rs.n%window] = d
	rs.n++
}

func (m *metrics) panicked() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.panics++
}

func (m *metrics) refreshed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refreshes++
	m.lastSwap = time.Now()
}

// routeReport is one route of GET /metrics.
type routeReport struct {
	Route    string           `json:"route"`
	Requests int64            `json:"requests"`
	ByStatus map[string]int64 `json:"by_status"`
	P50us    float64          `json:"p50_us"`
	P99us    float64          `json:"p99_us"`
	Maxus    float64          `json:"max_us"`
}

// serve reports the metrics. Under the lock that every request's observe
// takes it only copies; the sorting for the quantiles (milliseconds with
// a dozen full windows) comes after.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request) error {
	snap := m.shop.Snapshot()
	m.mu.Lock()
	routes := make([]routeReport, 0, len(m.routes)) // [] before the first request, not null
	lats := make([][]time.Duration, 0, len(m.routes))
	for name, rs := range m.routes {
		rr := routeReport{Route: name, Requests: rs.count, ByStatus: map[string]int64{}}
		for st, n := range rs.byStatus {
			rr.ByStatus[http.StatusText(st)] = n
		}
		routes = append(routes, rr)
		lats = append(lats, slices.Clone(rs.lat[:min(rs.n, window)]))
	}
	refreshes, panics, age := m.refreshes, m.panics, time.Since(m.lastSwap)
	m.mu.Unlock()
	for i, lat := range lats {
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		routes[i].P50us = us(quantile(lat, 0.5))
		routes[i].P99us = us(quantile(lat, 0.99))
		routes[i].Maxus = us(lat[len(lat)-1])
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Route < routes[j].Route })
	writeJSON(w, http.StatusOK, map[string]any{
		"uptime_s": time.Since(m.started).Seconds(), "snapshot_as_of": snap.AsOf(),
		"snapshot_age_s": age.Seconds(), "refreshes": refreshes, "panics": panics, "routes": routes,
	})
	return nil
}

// quantile returns the q-quantile of sorted, by the nearest rank: the
// ⌈q·n⌉-th smallest of n (the largest of 60 for the p99).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
