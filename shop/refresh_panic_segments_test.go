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

// TestRefreshPanicStopsItsSegmentUpdate: a Progress callback that panics
// on the refresh's goroutine after the update of the segment index has
// begun beside it (step "count") fails the refresh as an error would:
// the panic reaches the caller, the snapshot stays, and the update of
// the index, which no snapshot will carry, is stopped (no end of its
// step is reported), as a failed refresh's is.
func TestRefreshPanicStopsItsSegmentUpdate(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 40, Products: 12, Categories: 3, Seed: 5, ViewsPerLine: -1})
	var armed, segEnded atomic.Bool
	segStarted, panicked := make(chan struct{}), make(chan struct{})
	opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
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
	}}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	before := s.Snapshot()
	h := before.History()
	at := h.Latest().Add(time.Minute) // the same day: the index is updated
	more := []affinity.Purchase{
		{Customer: "new", Product: h.Catalog().ProductKey(0), Order: "new-1", Time: at, Quantity: 1, Price: 10000},
		{Customer: "new", Product: h.Catalog().ProductKey(1), Order: "new-1", Time: at, Quantity: 1, Price: 20000}}
	armed.Store(true)
	func() {
		defer func() {
			assert.Equal(t, "callback bug", recover())
			close(panicked)
		}()
		_ = s.Refresh(ctx, shop.Purchases(slices.Values(more)))
	}()
	s.Close() // waits for the segment work begun before it
	assert.Same(t, before, s.Snapshot())
	assert.False(t, segEnded.Load(), "the update of a snapshot never served ran to its end")
}
