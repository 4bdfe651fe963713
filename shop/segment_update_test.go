package shop_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// segmentUpdateShop opens a small generated shop on the co-purchase
// neighbours with progress as its Progress callback; its refreshes
// update the segment index in the background.
func segmentUpdateShop(t *testing.T, seed uint64, progress affinity.ProgressFunc) *shop.Shop {
	t.Helper()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 40, Products: 12, Categories: 3, Seed: seed, ViewsPerLine: -1})
	s, err := shop.Open(context.Background(), shop.Storefront(sf), shop.Options{Model: "neighbours", Progress: progress})
	require.NoError(t, err)
	return s
}

// newCustomerOrder returns an order of two of h's products by a new
// customer, a minute after h's latest time.
func newCustomerOrder(h *affinity.History, customer string) shop.Source {
	at := h.Latest().Add(time.Minute)
	cat := h.Catalog()
	return shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: customer, Product: cat.ProductKey(0), Order: customer + "-1", Time: at, Quantity: 1, Price: 10000},
		{Customer: customer, Product: cat.ProductKey(1), Order: customer + "-1", Time: at, Quantity: 1, Price: 20000}}))
}

// TestRefreshPanicStopsItsSegmentUpdate: a Progress callback that panics
// on the refresh's goroutine after the update of the segment index has
// begun beside it (step "count") fails the refresh as an error would:
// the panic reaches the caller, the snapshot stays, and the update of
// the index, which no snapshot will carry, is stopped (no end of its
// step is reported), as a failed refresh's is.
func TestRefreshPanicStopsItsSegmentUpdate(t *testing.T) {
	var armed, segEnded atomic.Bool
	segStarted, panicked := make(chan struct{}), make(chan struct{})
	s := segmentUpdateShop(t, 5, func(p affinity.Progress) {
		if !armed.Load() {
			return
		}
		switch {
		case p.Step == "segment" && p.Done == 0:
			// the update, on its goroutine: held until the refresh
			// has panicked
			close(segStarted)
			<-panicked
		case p.Step == "segment":
			segEnded.Store(true)
		case p.Step == "count":
			<-segStarted
			panic("callback bug")
		}
	})
	before := s.Snapshot()
	armed.Store(true)
	func() {
		defer func() {
			assert.Equal(t, "callback bug", recover())
			close(panicked)
		}()
		_ = s.Refresh(context.Background(), newCustomerOrder(before.History(), "new"))
	}()
	s.Close() // waits for the segment work begun before it
	assert.Same(t, before, s.Snapshot())
	assert.False(t, segEnded.Load(), "the update of a snapshot never served ran to its end")
}

// TestRefreshKeepsTheIndexItsUpdateWaitsFor: a refresh's update of the
// segment index waits for the index it updates, so a refresh served
// before the last one's index is done does not stop that build, even
// when the update has not yet come to ask for it (its goroutine held up
// by a slow Progress callback): each snapshot's index is built once,
// and the step "segment" starts twice for two refreshes.
func TestRefreshKeepsTheIndexItsUpdateWaitsFor(t *testing.T) {
	ctx := context.Background()
	var armed atomic.Bool
	var starts atomic.Int32
	gate := make(chan struct{})
	s := segmentUpdateShop(t, 9, func(p affinity.Progress) {
		if armed.Load() && p.Step == "segment" && p.Done == 0 {
			starts.Add(1)
			<-gate // a slow callback: the update has not asked for the index it updates yet
		}
	})
	h := s.Snapshot().History()
	armed.Store(true)
	require.NoError(t, s.Refresh(ctx, newCustomerOrder(h, "n1")))
	require.NoError(t, s.Refresh(ctx, newCustomerOrder(s.Snapshot().History(), "n2"))) // before the first one's index is done
	close(gate)
	x, err := s.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	require.NotNil(t, x)
	assert.Equal(t, uint64(h.NumCustomers()+2), x.All().GetCardinality())
	s.Close()
	assert.Equal(t, int32(2), starts.Load(), "the first refresh's index was built again")
}
