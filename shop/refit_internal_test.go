package shop

import (
	"context"
	"errors"
	"reflect"
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

// refitFeed returns an order of two lines for the first customer a
// minute after h's latest time.
func refitFeed(h *affinity.History, order string) []affinity.Purchase {
	at := h.Latest().Add(time.Minute)
	cat := h.Catalog()
	return []affinity.Purchase{
		{Customer: h.CustomerKey(0), Order: order, Product: cat.ProductKey(1), Time: at, Quantity: 1, Price: 1000},
		{Customer: h.CustomerKey(0), Order: order, Product: cat.ProductKey(2), Time: at, Quantity: 1, Price: 1000},
	}
}

// TestBackgroundRefitFailure: a background fit that fails leaves the shop
// serving the model it had, WaitModel returns the error, and the next
// refresh fits again.
func TestBackgroundRefitFailure(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 2, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	var calls atomic.Int32
	broken := errors.New("broken fit")
	fit := func(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if calls.Add(1) == 2 {
			return nil, broken
		}
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
	}
	// a learned model from now on (as a choice of "auto" would make it)
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	refresh := func(order string) {
		t.Helper()
		require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), order)))))
	}
	refresh("r1") // the model changed: fitted before the swap
	require.Equal(t, int32(1), calls.Load())
	require.True(t, s.Snapshot().ModelCurrent())
	fitted := s.Snapshot().modelIdx

	refresh("r2") // fitted in the background, which fails
	require.ErrorIs(t, s.WaitModel(ctx), broken)
	snap := s.Snapshot()
	require.False(t, snap.ModelCurrent())
	require.Same(t, fitted, snap.modelIdx, "the shop serves the model it had")
	_, err = snap.Recommend(ctx, Request{CustomerID: 0, ByID: true, K: 3})
	require.NoError(t, err)

	refresh("r3") // fits again
	require.NoError(t, s.WaitModel(ctx))
	require.True(t, s.Snapshot().ModelCurrent())
	require.Equal(t, int32(3), calls.Load())

	// a failure, then an erasure, whose refresh fits inline: nothing to wait for
	calls.Store(1)
	refresh("r4")
	require.ErrorIs(t, s.WaitModel(ctx), broken)
	require.NoError(t, s.Refresh(ctx, Erase(s.Snapshot().History().CustomerKey(7))))
	require.True(t, s.Snapshot().ModelCurrent())
	require.NoError(t, s.WaitModel(ctx))
}

// TestWithModelCopiesEverything: the snapshot that takes a background
// fit is its predecessor in every field but the engine, the model's
// index and number, and the request scratch.
func TestWithModelCopiesEverything(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100, Products: 30, Categories: 6, Seed: 3, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "ease", Workers: 1})
	require.NoError(t, err)
	cur := s.Snapshot()
	idx, err := similarity.FitEASE(ctx, cur.h, cur.asOf, similarity.EASEOptions{})
	require.NoError(t, err)
	next, err := cur.withModel(ctx, idx, cur.seq)
	require.NoError(t, err)
	a, b := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	for i := range a.NumField() {
		switch name := a.Type().Field(i).Name; name {
		case "eng", "modelIdx", "modelSeq", "scratch":
		default:
			x, y := a.Field(i), b.Field(i)
			require.True(t, reflect.DeepEqual(reflectValue(x), reflectValue(y)), "field %s not carried over", name)
		}
	}
	require.Same(t, idx, next.modelIdx)
	require.NotSame(t, cur.eng, next.eng)
}

// reflectValue returns v's value for DeepEqual: unexported fields are
// compared through their address.
func reflectValue(v reflect.Value) any {
	if v.CanInterface() {
		return v.Interface()
	}
	return reflect.NewAt(v.Type(), v.Addr().UnsafePointer()).Elem().Interface()
}

// TestBackgroundRefitNotAfterErasure: a refresh that erases a customer
// fits the model before the swap even with RefitBackground, so that no
// weight fitted on the erased customer's orders is served after it; a
// background fit of an older history is then not adopted.
func TestBackgroundRefitNotAfterErasure(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 120, Products: 40, Categories: 8, Seed: 5, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "ease", ModelRefit: RefitBackground, Workers: 1})
	require.NoError(t, err)
	gate := make(chan struct{})
	started := make(chan struct{}, 8)
	refitStarts = func() { started <- struct{}{}; <-gate }
	defer func() { refitStarts = nil }()

	// an ordinary refresh: served with the last fit, refitted in the background (held)
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), "r1")))))
	<-started
	lagging := s.Snapshot()
	require.False(t, lagging.ModelCurrent())

	// the erasure: fitted before the swap
	gone := lagging.History().CustomerKey(5)
	require.NoError(t, s.Refresh(ctx, Erase(gone)))
	snap := s.Snapshot()
	require.True(t, snap.ModelCurrent(), "a refresh that erases a customer fits inline")
	require.NotSame(t, lagging.modelIdx, snap.modelIdx)
	_, known := snap.History().LookupCustomer(gone)
	require.False(t, known)

	close(gate) // the held fit of the history before the erasure ends
	require.NoError(t, s.WaitModel(ctx))
	require.Same(t, snap, s.Snapshot(), "the older fit is not adopted")
}
