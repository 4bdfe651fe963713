package shop

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// heldFit returns a shop on a custom learned model whose background fit,
// deaf to its context, runs until release is closed: it has begun when
// heldFit returns.
func heldFit(t *testing.T) (s *Shop, release chan struct{}) {
	t.Helper()
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 60, Products: 20, Categories: 4, Seed: 3, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	fit := func(_ context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if s.Snapshot().modelIdx != nil { // a background fit: held
			entered <- struct{}{}
			<-release
		}
		return similarity.FitEASE(context.Background(), h, asOf, similarity.EASEOptions{})
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "h1"))))) // fitted inline
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "h2")))))
	<-entered
	return s, release
}

// TestCloseWaitsForAFitThatIgnoresItsContext pins what Close and
// Options.Tune say: a custom fit that does not return when its context
// is done holds Close up until it returns.
func TestCloseWaitsForAFitThatIgnoresItsContext(t *testing.T) {
	s, release := heldFit(t)
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while the fit ran")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return once the fit did")
	}
	require.ErrorIs(t, s.WaitModel(context.Background()), ErrClosed)
}
