package shop_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// indexBytes returns the snapshot's segment index in the file format.
func indexBytes(t *testing.T, snap *shop.Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := snap.Segments().WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

// TestSegmentsAfterQuickRefreshes: refreshes build the segment index in
// the background, and one that comes before the last one's index is done
// stops that build. Every snapshot, the replaced ones held by a caller
// included, still gives the index of its own History when asked (built
// again on demand), to many callers at once, and the same as a shop
// opened on that History.
func TestSegmentsAfterQuickRefreshes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// quick: 2,000 customers, still more than 32 times the 40 each
	// refresh touches, so that the index is updated, not rebuilt
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(4000, 2000), Products: 300, Categories: 20, Seed: 9, ViewsPerLine: -1})
	// the neighbours: what is checked here is the segment index
	opts := shop.Options{RefreshWorkers: 1, Model: "neighbours"}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	var held []*shop.Snapshot
	for round := range testdata.Scale(5, 3) {
		h := s.Snapshot().History()
		at := h.Latest().Add(time.Hour)
		var lines []affinity.Purchase
		for i := range 40 {
			c := affinity.CustomerID((round*977 + i*131) % h.NumCustomers())
			lines = append(lines, affinity.Purchase{Customer: h.CustomerKey(c), Order: fmt.Sprintf("r%d-%d", round, i),
				Product: h.Catalog().ProductKey(affinity.ProductID((round + i) % h.Catalog().NumProducts())), Time: at, Quantity: 1, Price: 1990})
		}
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(lines))))
		held = append(held, s.Snapshot()) // without asking for its index
	}
	for i, snap := range held {
		want, err := shop.OpenHistory(ctx, snap.History(), opts)
		require.NoError(t, err)
		wantBytes := indexBytes(t, want.Snapshot())
		var wg sync.WaitGroup
		got := make([][]byte, 4)
		for g := range got {
			wg.Go(func() {
				var buf bytes.Buffer
				if _, err := snap.Segments().WriteTo(&buf); err == nil {
					got[g] = buf.Bytes()
				}
			})
		}
		wg.Wait()
		for g := range got {
			require.True(t, bytes.Equal(wantBytes, got[g]), "snapshot %d, caller %d: index differs from a shop opened on its History", i, g)
		}
		a, err := snap.Segment("recency <= 1d")
		require.NoError(t, err)
		require.GreaterOrEqual(t, a.Len(), 40-1, "snapshot %d: the refresh's buyers are recent", i)
	}
}

// TestSegmentIndexWaitsWithinContext: a caller whose context ends while
// the index is being built gets the context's error; a later call gets
// the index.
func TestSegmentIndexWaitsWithinContext(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(20000, 4000), Products: 500, Categories: 30, Seed: 4, ViewsPerLine: -1})
	s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{RefreshWorkers: 1, Model: "neighbours"})
	require.NoError(t, err)
	h := s.Snapshot().History()
	line := affinity.Purchase{Customer: h.CustomerKey(0), Order: "late", Product: h.Catalog().ProductKey(0), Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 100}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{line}))))
	snap := s.Snapshot()
	done, cancel := context.WithCancel(ctx)
	cancel()
	if x, err := snap.SegmentIndex(done); err != nil {
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, x)
	}
	x, err := snap.SegmentIndex(ctx)
	require.NoError(t, err)
	require.Same(t, x, snap.Segments())
	require.Equal(t, h.NumCustomers(), x.NumCustomers())
}

// A refresh returns once recommendations see the new orders; the new
// snapshot's segment index is built after the swap, and SegmentIndex
// waits for it (within the context) so that segment answers are as of the
// new snapshot too.
func ExampleSnapshot_SegmentIndex() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := s.Snapshot().AsOf().Add(time.Hour)
	order := []affinity.Purchase{{Customer: "walk-in-1", Order: "w1", Product: s.Snapshot().History().Catalog().ProductKey(0), Time: at, Quantity: 1, Price: 1250}}
	if err := s.Refresh(ctx, shop.Purchases(slices.Values(order))); err != nil {
		fmt.Println(err)
		return
	}
	snap := s.Snapshot()
	x, err := snap.SegmentIndex(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, known := x.LookupCustomer("walk-in-1")
	fmt.Println("the new customer is in the index:", known)
	// Output:
	// the new customer is in the index: true
}

// TestSegmentIndexCompactsWhenIdle: a refresh that touches more than one
// customer in 32 starts a full build of the segment index in the
// background; once it is done, the current snapshot's index is laid over
// it without waiting for another refresh, and still describes the
// snapshot's History as a shop opened on it does.
func TestSegmentIndexCompactsWhenIdle(t *testing.T) {
	ctx := context.Background()
	// quick: 2,000 customers, of which the refresh still touches more
	// than one in 32
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(4000, 2000), Products: 300, Categories: 20, Seed: 9, ViewsPerLine: -1})
	opts := shop.Options{RefreshWorkers: 1, Model: "neighbours"}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	defer s.Close()
	h := s.Snapshot().History()
	at := h.Latest().Add(time.Hour)
	var lines []affinity.Purchase
	for c := 0; c < h.NumCustomers(); c += 13 { // 308 customers (quick: 154)
		lines = append(lines, affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(c)), Order: fmt.Sprintf("idle-%d", c),
			Product: h.Catalog().ProductKey(affinity.ProductID(c % h.Catalog().NumProducts())), Time: at, Quantity: 1, Price: 1990})
	}
	// the swap is held until the index the refresh made has been seen
	// carrying its build: a small index's build can end, and the swap
	// follow, before the test reads it (seen on one core)
	release := shop.HoldCompactionSwaps()
	defer release()
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(lines))))
	snap := s.Snapshot()
	x := snap.Segments()
	built := x.Compacting()
	require.NotNil(t, built, "the refresh started no background build")
	release()
	select {
	case <-built:
	case <-time.After(time.Minute):
		t.Fatal("the background build did not finish within a minute")
	}
	require.Eventually(t, func() bool { return snap.Segments() != x }, 10*time.Second, time.Millisecond)
	require.Same(t, snap, s.Snapshot(), "no new snapshot")
	require.Nil(t, snap.Segments().Compacting())
	want, err := shop.OpenHistory(ctx, snap.History(), opts)
	require.NoError(t, err)
	require.True(t, bytes.Equal(indexBytes(t, want.Snapshot()), indexBytes(t, snap)), "index differs from a shop opened on its History")
}
