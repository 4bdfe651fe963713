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

// heldRefresh returns the snapshot of a small shop's refresh whose
// segment index is still being built: its build waits for gate.Open.
func heldRefresh(t *testing.T) (*shop.Snapshot, *testdata.Gate) {
	t.Helper()
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
	return s.Snapshot(), gate
}

// waitEnds calls call, which waits for a segment index that is being
// built, with a context that ends 20 ms later, and checks that it returns
// the context's error, wrapped, at once.
func waitEnds(t *testing.T, name string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.Contains(t, err.Error(), "shop: waiting for the segment index", name)
	case <-time.After(2 * time.Second):
		t.Fatalf("%s still waiting for the segment index 2 s after its context ended", name)
	}
}

// TestSegmentContextEndsWait: right after a refresh the new snapshot's
// segment index is built in the background. Segment waits for it without
// a bound; SegmentContext only until its context is done, and once the
// build is through it answers as Segment does.
func TestSegmentContextEndsWait(t *testing.T) {
	ctx := context.Background()
	snap, gate := heldRefresh(t)

	waitEnds(t, "SegmentContext", func(ctx context.Context) error {
		_, err := snap.SegmentContext(ctx, "all")
		return err
	})

	gate.Open()
	aud, err := snap.SegmentContext(ctx, "frequency >= 1")
	require.NoError(t, err)
	want, err := snap.Segment("frequency >= 1")
	require.NoError(t, err)
	assert.Equal(t, want.Stats(), aud.Stats())
	assert.Positive(t, aud.Len())
}
