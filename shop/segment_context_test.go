package shop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// TestSegmentContextEndsWait: right after a refresh the new snapshot's
// segment index is built in the background. Segment waits for it without
// a bound; SegmentContext only until its context is done, and once the
// build is through it answers as Segment does.
func TestSegmentContextEndsWait(t *testing.T) {
	gate := testdata.NewGate()
	opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
		if p.Step == "segment" && p.Done == 0 {
			gate.Wait() // the refresh's index build is slow
		}
	}}
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(7)), opts)
	require.NoError(t, err)
	t.Cleanup(func() { gate.Open(); s.Close() })
	h := s.Snapshot().History()
	gate.Hold()
	require.NoError(t, s.Refresh(ctx, shop.Changes(func(yield func(affinity.OrderChange) bool) {
		yield(affinity.OrderChange{Key: "sc-1", Lines: []affinity.Purchase{{Customer: "sc-c", Product: h.Catalog().ProductKey(0), Time: h.Latest(), Quantity: 1, Price: 100}}})
	})))
	snap := s.Snapshot()

	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := snap.SegmentContext(wctx, "all")
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "shop: waiting for the segment index")
	case <-time.After(2 * time.Second):
		t.Fatal("SegmentContext still waiting for the segment index 2 s after its context ended")
	}

	gate.Open()
	aud, err := snap.SegmentContext(ctx, "frequency >= 1")
	require.NoError(t, err)
	want, err := snap.Segment("frequency >= 1")
	require.NoError(t, err)
	assert.Equal(t, want.Stats(), aud.Stats())
	assert.Positive(t, aud.Len())
}
