package shop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitModelDuringRefreshes: WaitModel returns nil only once the
// snapshot it saw is served with its model fitted on it. A refresh once
// served its snapshot before starting the snapshot's fit, and a WaitModel
// in between returned nil for a model fitted on an older history.
func TestWaitModelDuringRefreshes(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(9)), shop.Options{Model: "ease"})
	require.NoError(t, err)
	defer s.Close()
	h := s.Snapshot().History()
	var stop atomic.Bool
	var calls, early atomic.Int64
	waiter := make(chan struct{})
	go func() {
		defer close(waiter)
		for !stop.Load() {
			before := s.Snapshot()
			if s.WaitModel(ctx) != nil {
				continue
			}
			calls.Add(1)
			if after := s.Snapshot(); after == before && !before.ModelCurrent() {
				early.Add(1)
			}
		}
	}()
	t0 := h.Latest()
	for i := range 80 {
		line := affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(i)), Product: h.Catalog().ProductKey(affinity.ProductID(i % 50)),
			Order: fmt.Sprint("w", i), Time: t0.Add(time.Duration(i+1) * time.Minute), Quantity: 1, Price: 30000}
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{line}))))
	}
	stop.Store(true)
	<-waiter
	require.Positive(t, calls.Load())
	assert.Zero(t, early.Load(), "WaitModel returned nil for a snapshot whose model was not fitted on it (of %d)", calls.Load())
}

// TestRefreshWaitsWithItsContext: a Refresh waiting for the one under way
// returns when its context ends, with the context's error, and leaves the
// shop as it was; the refresh under way goes on. It once waited for the
// other refresh whatever its context said.
func TestRefreshWaitsWithItsContext(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(1)), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	slow := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		close(inside)
		<-release // a slow database poll
		return dataset.Report{}, nil
	})
	first := make(chan error, 1)
	go func() { first <- s.Refresh(ctx, slow) }()
	<-inside
	before := s.Snapshot()

	for _, c := range []func() (context.Context, context.CancelFunc){
		func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 20*time.Millisecond) },
		func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c, cancel
		},
	} {
		c, cancel := c()
		second := make(chan error, 1)
		go func() { second <- s.Refresh(c, shop.Erase()) }()
		select {
		case err := <-second:
			require.Error(t, err)
			assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled), "%v", err)
		case <-time.After(30 * time.Second):
			close(release)
			t.Fatal("the waiting Refresh did not return with its context")
		}
		cancel()
		assert.Same(t, before, s.Snapshot(), "the shop as it was")
	}
	close(release)
	require.NoError(t, <-first)
	// and the next refresh runs
	require.NoError(t, s.Refresh(ctx, shop.Erase()))
}

// TestCloseStopsAWaitingRefresh: Close makes a Refresh waiting for the
// one under way return ErrClosed.
func TestCloseStopsAWaitingRefresh(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(2)), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	inside := make(chan struct{})
	slow := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		close(inside)
		<-ctx.Done() // stopped by Close
		return dataset.Report{}, ctx.Err()
	})
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { first <- s.Refresh(ctx, slow) }()
	<-inside
	go func() { second <- s.Refresh(ctx, shop.Erase()) }()
	s.Close()
	require.ErrorIs(t, <-first, shop.ErrClosed)
	require.ErrorIs(t, <-second, shop.ErrClosed)
}
