package shop

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestParseWorkersFollowRefreshWorkers checks what a file source is told
// about CSV parsing goroutines: nothing at Open with default Workers, one
// fewer than Workers when set, and none beside the loading goroutine
// during a refresh on one worker.
func TestParseWorkersFollowRefreshWorkers(t *testing.T) {
	ctx := context.Background()
	var seen []int
	// a small shop: what the source is told does not depend on its size
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 120, Categories: 12, Seed: 1, Days: 365})
	src := SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		seen = append(seen, parseWorkers(ctx))
		return Storefront(sf).Load(ctx, b)
	})
	s, err := Open(ctx, src, Options{RefreshWorkers: 1})
	require.NoError(t, err)
	require.NoError(t, s.Refresh(ctx, src))
	s, err = Open(ctx, src, Options{Workers: 3, RefreshWorkers: 2})
	require.NoError(t, err)
	require.NoError(t, s.Refresh(ctx, src))
	require.Equal(t, []int{0, -1, 2, 1}, seen)
}
