package shop

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestValueWaitErrorNamesThePackage: a Value call whose ctx ends while
// another caller's fit runs returns ctx's error wrapped as the shop's
// other waits do ("shop: waiting for …"), not bare.
func TestValueWaitErrorNamesThePackage(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 30, Products: 10, Categories: 3, Seed: 4})), Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	snap.values.mu.Lock()
	snap.values.fitting = make(chan struct{}) // another caller's fit, under way
	snap.values.mu.Unlock()
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = snap.Value(done)
	require.ErrorIs(t, err, context.Canceled)
	require.EqualError(t, err, "shop: waiting for the value models: context canceled")
	_, err = snap.Profile(done, snap.History().CustomerKey(0))
	require.EqualError(t, err, "shop: waiting for the value models: context canceled")
}
