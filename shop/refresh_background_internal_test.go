package shop

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// TestFailedRefreshStopsBackgroundBuild checks that a refresh that fails
// after its segment update began cancels the context of the full build
// in the background that the update starts (UpdateOptions.Compact) for
// the snapshot never served, where it used to be the shop's life, so that
// the build ran on to its end; and that no such build runs on once the
// refresh returned.
func TestFailedRefreshStopsBackgroundBuild(t *testing.T) {
	var mu sync.Mutex
	var backgrounds []context.Context
	called := make(chan struct{}, 1)
	old := compactionUpdate
	t.Cleanup(func() { compactionUpdate = old })
	compactionUpdate = func(life context.Context) segment.UpdateOptions {
		mu.Lock()
		backgrounds = append(backgrounds, life)
		mu.Unlock()
		select {
		case called <- struct{}{}:
		default:
		}
		return old(life)
	}

	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 60, Categories: 8, Days: 200, Seed: 7, ViewsPerLine: -1})
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	armed := false
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", Workers: 2, Progress: func(p affinity.Progress) {
		if armed && p.Step == "count" && p.Done == 0 {
			// the segment update runs beside this step: once it has
			// asked for its options, the refresh fails
			select {
			case <-called:
			case <-time.After(5 * time.Second):
			}
			cancel()
		}
	}})
	require.NoError(t, err)
	defer s.Close()
	before := s.Snapshot()
	armed = true
	err = s.Refresh(rctx, Purchases(slices.Values(oneInEight(before))))
	require.ErrorIs(t, err, context.Canceled)
	require.Same(t, before, s.Snapshot(), "a failed refresh replaced the snapshot")

	mu.Lock()
	got := slices.Clone(backgrounds)
	mu.Unlock()
	require.NotEmpty(t, got, "the refresh did not update the segment index")
	for _, bg := range got {
		assert.Error(t, bg.Err(), "the background build of a snapshot never served may run on")
	}
	// and nothing of it runs for long: a bounded wait for the build's
	// goroutine to see its context
	deadline := time.Now().Add(5 * time.Second)
	for buildRunning() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	assert.False(t, buildRunning(), "a background segment build runs on after the failed refresh")
}

// buildRunning reports whether a full segment build runs in the
// background (segment.UpdateOptions.Compact).
func buildRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "segment.buildBackground")
}

// oneInEight returns an order of one line for every eighth customer of
// snap, an hour before its time: enough changed customers that an update
// of the segment index starts a full build in the background.
func oneInEight(snap *Snapshot) []affinity.Purchase {
	h := snap.History()
	var more []affinity.Purchase
	for c := 0; c < h.NumCustomers(); c += 8 {
		more = append(more, affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(c)), Product: h.Catalog().ProductKey(affinity.ProductID(c % h.Catalog().NumProducts())),
			Order: fmt.Sprint("new-", c), Time: snap.AsOf().Add(-time.Hour), Quantity: 1, Price: 1000})
	}
	return more
}
