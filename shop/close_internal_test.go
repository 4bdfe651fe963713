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

// TestCloseStopsTheBackgroundFit: Close stops a background model fit
// through its context and waits for it; the shop keeps serving the model
// it had, and WaitModel and Refresh then return ErrClosed.
func TestCloseStopsTheBackgroundFit(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 4, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	started := make(chan struct{}, 1)
	var fitErr error
	fit := func(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if s.Snapshot().modelIdx == nil { // the first fit, before the swap
			return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
		}
		started <- struct{}{}
		<-ctx.Done() // a fit that takes until it is stopped
		fitErr = ctx.Err()
		return nil, fitErr
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c1")))))
	served := s.Snapshot()
	require.True(t, served.ModelCurrent())
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c2")))))
	<-started // the background fit runs
	s.Close()
	require.ErrorIs(t, fitErr, context.Canceled, "the fit saw its context end")
	require.ErrorIs(t, s.WaitModel(ctx), ErrClosed)
	snap := s.Snapshot()
	require.False(t, snap.ModelCurrent())
	require.Same(t, served.modelIdx, snap.modelIdx, "the model fitted before is served")
	res, err := snap.Recommend(ctx, Request{Customer: snap.History().CustomerKey(0), K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	err = s.Refresh(ctx, Purchases(slices.Values(refitFeed(snap.History(), "c3"))))
	require.ErrorIs(t, err, ErrClosed)
	require.Same(t, snap, s.Snapshot())
	s.Close() // again: nothing to do
}

// TestCloseStopsTheRefresh: Close during a refresh stops it; Refresh
// returns ErrClosed and the snapshot is the one before.
func TestCloseStopsTheRefresh(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 100, Products: 30, Categories: 6, Seed: 5})), Options{Model: "neighbours"})
	require.NoError(t, err)
	before := s.Snapshot()
	loading := make(chan struct{})
	slow := SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		close(loading)
		<-ctx.Done()
		return dataset.Report{}, ctx.Err()
	})
	errc := make(chan error, 1)
	go func() { errc <- s.Refresh(ctx, slow) }()
	<-loading
	s.Close()
	err = <-errc
	require.ErrorIs(t, err, ErrClosed)
	require.False(t, errors.Is(err, context.DeadlineExceeded))
	require.Same(t, before, s.Snapshot())
	// the last snapshot serves segments, built on demand if stopped
	x, err := s.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	require.Equal(t, before.History().NumCustomers(), x.NumCustomers())
	require.ErrorIs(t, s.WaitModel(ctx), ErrClosed)
}

// TestCloseBeforeTheFitEnds: a background fit that ends after Close was
// called (a fit that does not watch its context) is not served: Close
// leaves the snapshot it found.
func TestCloseBeforeTheFitEnds(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 6, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	started, gate := make(chan struct{}, 1), make(chan struct{})
	fit := func(_ context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if s.Snapshot().modelIdx == nil { // the first fit, before the swap
			return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
		}
		started <- struct{}{}
		<-gate // deaf to its context: it ends only when let
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c1"))))) // fitted inline
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c2")))))
	<-started
	before := s.Snapshot()
	require.False(t, before.ModelCurrent())
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	for s.set.life.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	close(gate) // the fit ends after Close was called
	<-closed
	require.Same(t, before, s.Snapshot(), "a fit ending after Close is not served")
	require.ErrorIs(t, s.WaitModel(ctx), ErrClosed)
}

// TestCloseAfterTheRefreshsLastCheck: a shop closed after a refresh's
// last look at its context (here at the end of its last step, before
// the snapshot is served) does not serve that refresh: Refresh returns
// ErrClosed and the snapshot is the one before, as Close promises of a
// refresh under way.
func TestCloseAfterTheRefreshsLastCheck(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 7, ViewsPerLine: -1})
	var closeAt atomic.Bool
	var s *Shop
	opts := Options{Model: "neighbours", Workers: 1, Progress: func(p affinity.Progress) {
		if p.Step == "engine" && p.Done == p.Total && p.Total > 0 && closeAt.Load() {
			s.closed() // Close's first act; Close itself waits for this refresh
		}
	}}
	s, err := Open(ctx, Storefront(sf), opts)
	require.NoError(t, err)
	before := s.Snapshot()
	closeAt.Store(true)
	err = s.Refresh(ctx, Purchases(slices.Values(refitFeed(before.History(), "late"))))
	require.ErrorIs(t, err, ErrClosed)
	require.Same(t, before, s.Snapshot(), "a refresh ending after Close began is not served")
	s.Close()
}

// TestCloseWhileTheFitIsAdopted: Close that begins while the snapshot
// of a finished background fit is being made (the engine renewed with
// the new model) drops it: the snapshot served when Close began is
// served after it.
func TestCloseWhileTheFitIsAdopted(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 4, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	fit := func(_ context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c1"))))) // fitted inline
	var atClose *Snapshot
	closed := make(chan struct{})
	modelAdopts = func() {
		// Close begins after the fit's last look at the shop's life
		go func() { s.Close(); close(closed) }()
		<-s.set.life.Done()
		atClose = s.cur.Load()
	}
	defer func() { modelAdopts = nil }()
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "c2")))))
	<-closed
	require.NotNil(t, atClose, "the fit was adopted")
	require.False(t, atClose.ModelCurrent())
	require.Same(t, atClose, s.Snapshot(), "a fit adopted as Close began is not served")
	require.ErrorIs(t, s.WaitModel(ctx), ErrClosed)
}

// TestCloseMarksClosedUnderTheLock: Close ends the shop's life under
// s.mu, where publish and adoptModel look at it before they serve a
// snapshot, so that what they serve after that look was served before
// Close began.
func TestCloseMarksClosedUnderTheLock(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 20, Products: 10, Categories: 2, Seed: 1})), Options{Model: "neighbours"})
	require.NoError(t, err)
	s.mu.Lock() // as publish holds it between its look and the swap
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-s.set.life.Done():
		t.Error("Close ended the shop's life while s.mu was held")
	case <-time.After(20 * time.Millisecond):
	}
	s.mu.Unlock()
	<-closed
	require.Error(t, s.set.life.Err())
}
