package shop

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// TestRefitFailureWithANewerSnapshot: a background fit that fails after
// a newer refresh was served (the fit running, so that the refresh
// started none) does not leave the newer snapshot without a fit: the
// loop fits the newer history, and WaitModel returns nil once that is
// done, not the error of the older history's fit.
func TestRefitFailureWithANewerSnapshot(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 60, Products: 20, Categories: 4, Seed: 3, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	defer s.Close()
	var calls atomic.Int32
	broken := errors.New("broken fit")
	entered, release := make(chan struct{}), make(chan struct{})
	fit := func(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if calls.Add(1) == 2 {
			close(entered)
			<-release // the next refresh is served meanwhile
			return nil, broken
		}
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	refresh := func(order string) {
		t.Helper()
		require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), order)))))
	}
	refresh("n1") // the model changed: fitted inline
	refresh("n2") // fitted in the background: the fit that fails
	<-entered
	refresh("n3") // served while that fit runs
	close(release)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, s.WaitModel(wctx), "the newer snapshot's fit was never tried")
	require.True(t, s.Snapshot().ModelCurrent())
	require.Equal(t, int32(3), calls.Load())
}
