package shop

import (
	"context"
	"errors"
	"fmt"
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

// closeFeed returns one new order of h's first customer, an hour after
// h's latest.
func closeFeed(h *affinity.History) Source {
	return Purchases(slices.Values([]affinity.Purchase{{Customer: h.CustomerKey(0), Order: "new", Product: h.Catalog().ProductKey(0),
		Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 10_0000}}))
}

// TestCloseWaitsForTheSegmentUpdate: a refresh's segment update runs on
// a goroutine of its own after Refresh returns; Close stops it and
// returns only once it has stopped, with no Progress report after it.
// The index is then built when asked for.
func TestCloseWaitsForTheSegmentUpdate(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 30, Categories: 6, Days: 120, Seed: 11})
	var armed, after atomic.Bool
	var late atomic.Int32
	inSeg, release := make(chan struct{}), make(chan struct{})
	opts := Options{Model: "neighbours", Workers: 2, Progress: func(p affinity.Progress) {
		if after.Load() {
			late.Add(1)
		}
		if p.Step == "segment" && p.Done == 0 && armed.CompareAndSwap(true, false) {
			close(inSeg)
			<-release
		}
	}}
	s, err := Open(ctx, Storefront(sf), opts)
	require.NoError(t, err)
	h := s.Snapshot().History()
	armed.Store(true)
	require.NoError(t, s.Refresh(ctx, closeFeed(h)))
	<-inSeg // the update runs in the background
	g := s.Snapshot().segs
	closed := make(chan struct{})
	go func() { s.Close(); after.Store(true); close(closed) }()
	<-s.set.life.Done()
	select {
	case <-closed:
		t.Error("Close returned while the segment update still ran")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	g.mu.Lock()
	running := g.cancel != nil
	g.mu.Unlock()
	require.False(t, running, "the update's goroutine still runs")
	require.Zero(t, late.Load(), "progress reported after Close returned")
	after.Store(false)

	// the stopped index is built when asked for
	x, err := s.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	require.NotNil(t, x)
	a, err := s.Snapshot().Segment("all")
	require.NoError(t, err)
	require.Equal(t, h.NumCustomers(), a.Len())
}

// TestCloseWaitsForTheBackgroundBuild: the full segment build that a
// refresh's update started in the background (UpdateOptions.Compact)
// has stopped when Close returns.
func TestCloseWaitsForTheBackgroundBuild(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 300, Categories: 20, Seed: 9, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{RefreshWorkers: 1, Model: "neighbours"})
	require.NoError(t, err)
	h := s.Snapshot().History()
	var lines []affinity.Purchase
	for c := 0; c < h.NumCustomers(); c += 13 { // more than one in 32
		lines = append(lines, affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(c)), Order: fmt.Sprintf("bg-%d", c),
			Product: h.Catalog().ProductKey(affinity.ProductID(c % h.Catalog().NumProducts())), Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 1990})
	}
	release := HoldCompactionSwaps() // the index keeps its build in view
	defer release()
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(lines))))
	built := s.Snapshot().Segments().Compacting()
	require.NotNil(t, built, "the refresh started no background build")
	s.Close()
	select {
	case <-built:
	default:
		t.Fatal("Close returned while the background build ran")
	}
}

// TestCloseStopsTheSegmentsOfADroppedRefresh: a refresh that Close drops
// after its snapshot was made (here at the end of its last step) stops
// the segment update it began beside its steps, and Close waits for it.
func TestCloseStopsTheSegmentsOfADroppedRefresh(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 30, Categories: 6, Days: 120, Seed: 12})
	var armed atomic.Bool
	inSeg, inEngine, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	segEnd := make(chan struct{}, 1)
	var s *Shop
	opts := Options{Model: "neighbours", Workers: 2, Progress: func(p affinity.Progress) {
		if !armed.Load() {
			return
		}
		switch {
		case p.Step == "segment" && p.Done == 0:
			close(inSeg)
			<-release
		case p.Step == "segment":
			segEnd <- struct{}{}
		case p.Step == "engine" && p.Done == p.Total && p.Total > 0:
			close(inEngine)
			<-s.set.life.Done() // the snapshot is made; Close begins
		}
	}}
	s, err := Open(ctx, Storefront(sf), opts)
	require.NoError(t, err)
	before := s.Snapshot()
	armed.Store(true)
	errc := make(chan error, 1)
	go func() { errc <- s.Refresh(ctx, closeFeed(before.History())) }()
	<-inSeg
	<-inEngine
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	require.ErrorIs(t, <-errc, ErrClosed)
	require.Same(t, before, s.Snapshot())
	close(release) // the dropped snapshot's update goes on: stopped?
	<-closed
	select {
	case <-segEnd:
		t.Fatal("the dropped refresh's segment update ran to its end")
	case <-time.After(20 * time.Millisecond): // what Close did not wait for would end by now
	}
}
