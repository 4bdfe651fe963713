package shop_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/require"
)

// TestBackgroundRefitMatchesRebuild refreshes a shop on EASE with
// RefitBackground, the zero value of Options.ModelRefit, while its
// background fit is held: the refreshed
// snapshots hold the new orders at once and the last fitted model, and
// WaitModel waits. Once the fit may go on, it catches up with every
// refresh made meanwhile, and the shop then answers as one built anew on
// the same history.
func TestBackgroundRefitMatchesRebuild(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 41))
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 60, Categories: 10, Seed: 4, ViewsPerLine: -1})
	gate := make(chan struct{})
	var hold atomic.Bool
	var fits atomic.Int32 // background fits begun
	// ModelRefit left at its zero value, RefitBackground
	opts := shop.Options{Model: "ease", Workers: 1,
		Progress: func(p affinity.Progress) {
			if p.Step == "model" && p.Done == 0 && hold.Load() {
				fits.Add(1)
				<-gate
			}
		}}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	require.True(t, s.Snapshot().ModelCurrent(), "the first snapshot's model is fitted on it")
	require.NoError(t, s.WaitModel(ctx))

	hold.Store(true)
	for round := range 3 {
		before := s.Snapshot().History().NumLines()
		feed, _ := randomChanges(r, s.Snapshot().History(), round, 30, time.Hour)
		require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
		snap := s.Snapshot()
		require.False(t, snap.ModelCurrent(), "round %d: the model lags while its fit is held", round)
		require.NotEqual(t, before, snap.History().NumLines(), "round %d: the new orders are served at once", round)
		_, err := snap.Recommend(ctx, shop.Request{CustomerID: 0, ByID: true, K: 5})
		require.NoError(t, err)
		if round == 0 { // the fit of this history begins, and is held
			require.Eventually(t, func() bool { return fits.Load() == 1 }, 10*time.Second, time.Millisecond)
		}
	}
	// a product and a customer the held model has never seen
	at := s.Snapshot().History().Latest().Add(time.Minute)
	someone := s.Snapshot().History().Catalog().ProductKey(3)
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "c-new", Order: "o-new", Product: "p-new", Time: at, Quantity: 1, Price: 500},
		{Customer: "c-new", Order: "o-new", Product: someone, Time: at, Quantity: 1, Price: 700},
	}))))
	require.False(t, s.Snapshot().ModelCurrent())
	for _, req := range []shop.Request{{Customer: "c-new", K: 5}, {Cart: []string{"p-new"}, K: 5}, {Customer: "c-new", Cart: []string{"p-new", someone}, K: 5}} {
		res, err := s.Snapshot().Recommend(ctx, req)
		require.NoError(t, err, "%+v", req)
		require.NotEmpty(t, res.Recs, "%+v", req)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.WaitModel(short), context.DeadlineExceeded, "WaitModel waits for the held fit")
	require.Equal(t, int32(1), fits.Load(), "one fit runs at a time")

	close(gate)
	require.NoError(t, s.WaitModel(ctx))
	got := s.Snapshot()
	require.True(t, got.ModelCurrent())
	// the held fit was of the first refresh's history: one more for the last
	require.Equal(t, int32(2), fits.Load(), "the fit catches up with the refreshes made meanwhile")

	rebuilt, err := shop.OpenHistory(ctx, got.History(), shop.Options{Model: "ease", Workers: 1})
	require.NoError(t, err)
	want := rebuilt.Snapshot()
	require.Equal(t, snapshotView(t, want), snapshotView(t, got))
	h := got.History()
	for i := range 25 {
		sameAnswer(t, want, got, shop.Request{CustomerID: affinity.CustomerID(i * h.NumCustomers() / 25), ByID: true, K: 5}, "")
	}
	// the snapshot that took the fit serves the same segment index
	n, err := got.Segment("recency <= 30d")
	require.NoError(t, err)
	m, err := want.Segment("recency <= 30d")
	require.NoError(t, err)
	require.Equal(t, m.Bitmap().ToArray(), n.Bitmap().ToArray())
	require.Positive(t, m.Len())
}

// TestRefitInlineIsCurrent: with RefitInline, and on co-purchase
// neighbours, every refreshed snapshot's model is current at once.
func TestRefitInlineIsCurrent(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 41))
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 150, Products: 40, Categories: 8, Seed: 6, ViewsPerLine: -1})
	for _, opts := range []shop.Options{{Model: "ease", ModelRefit: shop.RefitInline}, {Model: "neighbours", ModelRefit: shop.RefitBackground}} {
		s, err := shop.Open(ctx, shop.Storefront(sf), opts)
		require.NoError(t, err)
		feed, _ := randomChanges(r, s.Snapshot().History(), 0, 30, time.Hour)
		require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
		require.True(t, s.Snapshot().ModelCurrent(), "model %q", opts.Model)
		require.NoError(t, s.WaitModel(ctx))
	}
	_, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{ModelRefit: 7})
	require.ErrorContains(t, err, "ModelRefit")
}

// TestModelStepEndsOnceServed: the end of a refresh's background "model"
// step is reported once the snapshot with the new fit is served, so that
// a Progress callback reacting to it sees the model current.
func TestModelStepEndsOnceServed(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 6, Seed: 9, ViewsPerLine: -1})
	var s atomic.Pointer[shop.Shop]
	ends := make(chan bool, 8)
	opts := shop.Options{Model: "ease", Workers: 1, Progress: func(p affinity.Progress) {
		if p.Step == "model" && p.Total > 0 && p.Done == p.Total {
			if sh := s.Load(); sh != nil {
				ends <- sh.Snapshot().ModelCurrent()
			}
		}
	}}
	sh, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	defer sh.Close()
	s.Store(sh)
	h := sh.Snapshot().History()
	require.NoError(t, sh.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: h.CustomerKey(1), Order: "late", Product: h.Catalog().ProductKey(2), Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 300},
	}))))
	require.NoError(t, sh.WaitModel(ctx))
	select {
	case current := <-ends:
		require.True(t, current, "the model step's end reported before its fit was served")
	case <-time.After(10 * time.Second):
		t.Fatal("no end of the model step reported")
	}
}
