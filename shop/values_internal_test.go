package shop

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/require"
)

// TestValueFitAndRefresh checks that a value fit stopped by its context
// is not kept for the snapshot (a client that hangs up must not leave
// every later profile without values), and that once a snapshot's value
// models were asked for, Refresh fits the next snapshot's before the swap.
func TestValueFitAndRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// the demo storefront; in the quick suite a smaller one of its shape:
	// what is checked is when the value models are fitted, not the size
	src := Demo()
	if !testdata.Long() {
		src = Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 1500, Products: 300, Categories: 20}))
	}
	// the neighbours: what is checked here is the value models
	s, err := Open(ctx, src, Options{Model: "neighbours"})
	require.NoError(t, err)
	snap := s.Snapshot()
	require.False(t, snap.valuesAsked())

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	_, err = snap.Value(stopped)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, snap.valuesAsked(), "a cancelled fit is not kept")
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	require.NotNil(t, v)
	require.True(t, snap.valuesAsked())

	h := snap.History()
	at := h.Latest().Add(time.Hour)
	order := affinity.OrderChange{Key: "values-test-1", Lines: []affinity.Purchase{{
		Customer: h.CustomerKey(0), Product: h.Catalog().ProductKey(0), Time: at, Quantity: 1, Price: 10_000}}}
	require.NoError(t, s.Refresh(ctx, Changes(slices.Values([]affinity.OrderChange{order}))))
	next := s.Snapshot()
	require.NotSame(t, snap, next)
	require.True(t, next.valuesAsked(), "the refresh fitted the value models of the new snapshot")

	// A shop that never asks for values does not pay for them.
	s2, err := Open(ctx, src, Options{Model: "neighbours"})
	require.NoError(t, err)
	require.NoError(t, s2.Refresh(ctx, Changes(slices.Values([]affinity.OrderChange{order}))))
	require.False(t, s2.Snapshot().valuesAsked())
}
