//go:build !race

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad runs 32 concurrent clients against the service on loopback for
// 1 s (AFFINITY_LOAD_SECONDS overrides: .ci/run runs 20 s) while new orders
// refresh the shop every second: first at a steady 1,000 requests/s, the
// target rate, then for a quarter of that time as fast as the clients can
// go. Before them, a steady phase of half that time without refreshes
// gives the idle latency to compare with. The quick suite (without
// testdata.Long or AFFINITY_LOAD_SECONDS) runs 0.2 s and refreshes every
// 0.05 s, so that the steady phase still spans refreshes.
// It fails on any failed request and reports requests/s and the latency
// quantiles. It is left out of race-detector builds, whose timings mean
// nothing.
func TestLoad(t *testing.T) {
	d, every := time.Second, time.Second
	if v := os.Getenv("AFFINITY_LOAD_SECONDS"); v != "" {
		seconds := 1
		fmt.Sscan(v, &seconds)
		d = time.Duration(seconds) * time.Second
	} else if !testdata.Long() {
		d, every = 200*time.Millisecond, 50*time.Millisecond
	}
	defer tuneGC(defaultGOGC)() // as main does
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := shop.Options{}
	if !testdata.Long() {
		opts.Model = "neighbours" // the demo's choice, without the choosing (see freshHandler)
	}
	s, err := shop.Open(ctx, shop.Demo(), opts)
	require.NoError(t, err)
	srv := newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	// Refresh every second with a few new orders (while refreshing is on).
	var refreshes atomic.Int64
	var refreshing atomic.Bool
	go func() {
		h := s.Snapshot().History()
		at := h.Latest()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if !refreshing.Load() {
				continue
			}
			var feed []affinity.OrderChange
			for j := range 5 {
				at = at.Add(time.Minute)
				c := h.CustomerKey(affinity.CustomerID((i*5 + j) % h.NumCustomers()))
				feed = append(feed, affinity.OrderChange{Key: fmt.Sprintf("load-%d-%d", i, j), Lines: []affinity.Purchase{
					{Customer: c, Product: h.Catalog().ProductKey(affinity.ProductID((i + j) % 100)), Time: at, Quantity: 1, Price: 10_000}}})
			}
			if err := s.Refresh(ctx, shop.Changes(slices.Values(feed))); err == nil {
				refreshes.Add(1)
			}
		}
	}()

	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = s.Snapshot().History().CustomerKey(affinity.CustomerID(i * 5))
	}
	run := func(name string, d time.Duration, rate int) {
		const clients = 32
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 5 * time.Second}
		var failed atomic.Int64
		lat := make([][]time.Duration, clients)
		deadline := time.Now().Add(d)
		start := time.Now()
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				var every time.Duration
				if rate > 0 {
					every = time.Second * clients / time.Duration(rate)
				}
				next := time.Now().Add(time.Duration(c) * every / clients)
				for i := 0; time.Now().Before(deadline); i++ {
					if every > 0 {
						time.Sleep(time.Until(next))
						next = next.Add(every)
					}
					t0 := time.Now()
					resp, err := client.Get(base + "/api/customers/" + keys[(c*97+i)%len(keys)] + "/recommendations?k=10")
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
						continue
					}
					lat[c] = append(lat[c], time.Since(t0))
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		all := slices.Concat(lat...)
		slices.Sort(all)
		require.NotEmpty(t, all)
		assert.Zero(t, failed.Load(), "%s: failed requests", name)
		t.Logf("%s: %d requests in %v = %.0f requests/s, p50 %v, p99 %v, max %v, failed %d, refreshes so far %d",
			name, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(),
			quantile(all, 0.5).Round(time.Microsecond), quantile(all, 0.99).Round(time.Microsecond),
			all[len(all)-1].Round(time.Microsecond), failed.Load(), refreshes.Load())
	}
	run("steady 1000/s, no refresh", d/2, 1000)
	refreshing.Store(true)
	run("steady 1000/s", d, 1000) // spans a tick of the refresher
	run("flat out", d/4, 0)
	assert.Positive(t, refreshes.Load(), "the shop refreshed during the load")
}
