package shop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/shop"
)

// TestNilArguments calls every function and method of the front door
// that takes a context with a nil one, and those that take a source or a
// History with a nil one: each returns ErrNilContext or an error matching
// affinity.ErrNilArgument, none panics.
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	s := demo(t)
	snap := s.Snapshot()
	key := snap.History().CustomerKey(0)
	ctxCalls := map[string]func() error{
		"Open":         func() error { _, err := shop.Open(nilCtx, shop.Demo(), shop.Options{}); return err },
		"OpenHistory":  func() error { _, err := shop.OpenHistory(nilCtx, snap.History(), shop.Options{}); return err },
		"LoadHistory":  func() error { _, _, err := shop.LoadHistory(nilCtx, shop.Demo()); return err },
		"Refresh":      func() error { return s.Refresh(nilCtx, shop.Demo()) },
		"WaitModel":    func() error { return s.WaitModel(nilCtx) },
		"Recommend":    func() error { _, err := snap.Recommend(nilCtx, shop.Request{Customer: key}); return err },
		"Together":     func() error { _, err := snap.Together(nilCtx, "p1", 3); return err },
		"Profile":      func() error { _, err := snap.Profile(nilCtx, key); return err },
		"Value":        func() error { _, err := snap.Value(nilCtx); return err },
		"SegmentIndex": func() error { _, err := snap.SegmentIndex(nilCtx); return err },
		"SegmentContext": func() error {
			_, err := snap.SegmentContext(nilCtx, "all")
			return err
		},
		"AudienceContext": func() error {
			_, err := snap.AudienceContext(nilCtx, "some", nil)
			return err
		},
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "shop: every call that takes a context, with a nil one",
		Outcome: "ErrNilContext, matching affinity.ErrNilArgument; no panic"}, ctxCalls, shop.ErrNilContext, affinity.ErrNilArgument)
	argCalls := map[string]func() error{
		"Open nil source":         func() error { _, err := shop.Open(ctx, nil, shop.Options{}); return err },
		"OpenHistory nil History": func() error { _, err := shop.OpenHistory(ctx, nil, shop.Options{}); return err },
		"LoadHistory nil source":  func() error { _, _, err := shop.LoadHistory(ctx, nil); return err },
		"Refresh nil source":      func() error { return s.Refresh(ctx, nil) },
		// nil inside a source: each source constructor's argument
		"nil in Sources":      func() error { _, err := shop.Open(ctx, shop.Sources(shop.Demo(), nil), shop.Options{}); return err },
		"Purchases(nil)":      func() error { _, err := shop.Open(ctx, shop.Purchases(nil), shop.Options{}); return err },
		"Changes(nil)":        func() error { return s.Refresh(ctx, shop.Changes(nil)) },
		"Storefront(nil)":     func() error { _, _, err := shop.LoadHistory(ctx, shop.Storefront(nil)); return err },
		"SourceFunc(nil)":     func() error { _, err := shop.Open(ctx, shop.SourceFunc(nil), shop.Options{}); return err },
		"nil *SQLFeed":        func() error { var f *shop.SQLFeed; return s.Refresh(ctx, f) },
		"SQL(nil *SQLSource)": func() error { return s.Refresh(ctx, shop.SQL(nil, nil)) },
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "shop: Open, OpenHistory, LoadHistory and Refresh with a nil source or History, or a source made of a nil",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, argCalls, affinity.ErrNilArgument)
}

// TestHugeWorkerCounts: Workers and RefreshWorkers of 2⁴⁰ count as
// parallel.MaxWorkers: the shop opens and refreshes, answering as one
// opened with the defaults, instead of exhausting memory.
func TestHugeWorkerCounts(t *testing.T) {
	ctx := context.Background()
	def, err := shop.Open(ctx, shop.Storefront(small(5)), shop.Options{})
	require.NoError(t, err)
	want := def.Snapshot()
	s, err := shop.Open(ctx, shop.Storefront(small(5)), shop.Options{Workers: 1 << 40, RefreshWorkers: 1 << 40})
	require.NoError(t, err)
	defer s.Close()
	got := s.Snapshot()
	for i := range 10 {
		req := shop.Request{Customer: want.History().CustomerKey(affinity.CustomerID(i * 29)), K: 5}
		w, err := want.Recommend(ctx, req)
		require.NoError(t, err)
		g, err := got.Recommend(ctx, req)
		require.NoError(t, err)
		require.Equal(t, w, g)
	}
	require.NoError(t, s.Refresh(ctx, shop.Erase(want.History().CustomerKey(1))))
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "shop.Open and Refresh with Workers and RefreshWorkers = 2⁴⁰", Cases: 1,
		Outcome: "counted as parallel.MaxWorkers (1,024); the default's answers"})
}
