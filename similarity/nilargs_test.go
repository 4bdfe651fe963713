package similarity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/similarity"
)

// TestNilArguments calls every entry point with a nil context or a nil
// required argument: each returns an error matching
// affinity.ErrNilArgument, none panics (in the caller or in a worker
// goroutine, where no caller could recover it).
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 50, Products: 10, Seed: 1, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	at := h.Latest()
	c, err := similarity.Count(ctx, h, at, similarity.CountOptions{})
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	m, err := similarity.NewItemMatrix(ctx, h, at, similarity.CountOptions{})
	require.NoError(t, err)
	e, err := similarity.Embed(ctx, m, similarity.EmbedOptions{Dim: 2})
	require.NoError(t, err)
	co, io := similarity.CountOptions{}, similarity.IndexOptions{}
	calls := map[string]func() error{
		"Count nil ctx":              func() error { _, err := similarity.Count(nilCtx, h, at, co); return err },
		"Count nil History":          func() error { _, err := similarity.Count(ctx, nil, at, co); return err },
		"Sum nil ctx":                func() error { _, err := similarity.Sum(nilCtx, c); return err },
		"Sum nil part":               func() error { _, err := similarity.Sum(ctx, c, nil); return err },
		"FitEASE nil ctx":            func() error { _, err := similarity.FitEASE(nilCtx, h, at, similarity.EASEOptions{}); return err },
		"FitEASE nil History":        func() error { _, err := similarity.FitEASE(ctx, nil, at, similarity.EASEOptions{}); return err },
		"NewIndex nil ctx":           func() error { _, err := similarity.NewIndex(nilCtx, c, io); return err },
		"NewIndex nil Counts":        func() error { _, err := similarity.NewIndex(ctx, nil, io); return err },
		"Recount nil ctx":            func() error { _, err := similarity.Recount(nilCtx, c, h, h, at, co); return err },
		"Recount nil History":        func() error { _, err := similarity.Recount(ctx, c, h, nil, at, co); return err },
		"Reindex nil ctx":            func() error { _, err := similarity.Reindex(nilCtx, x, c, c, io); return err },
		"Reindex nil Counts":         func() error { _, err := similarity.Reindex(ctx, x, c, nil, io); return err },
		"NewItemMatrix nil ctx":      func() error { _, err := similarity.NewItemMatrix(nilCtx, h, at, co); return err },
		"NewItemMatrix nil":          func() error { _, err := similarity.NewItemMatrix(ctx, nil, at, co); return err },
		"Embed nil ctx":              func() error { _, err := similarity.Embed(nilCtx, m, similarity.EmbedOptions{}); return err },
		"Embed nil ItemMatrix":       func() error { _, err := similarity.Embed(ctx, nil, similarity.EmbedOptions{}); return err },
		"Embedding.Index nil ctx":    func() error { _, err := e.Index(nilCtx, c, io); return err },
		"Embedding.Index nil":        func() error { _, err := (*similarity.Embedding)(nil).Index(ctx, c, io); return err },
		"Embedding.Index nil Counts": func() error { _, err := e.Index(ctx, nil, io); return err },
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "similarity entry points: nil context, History, counts, matrix or embedding",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, calls, affinity.ErrNilArgument)
}

// TestHugeWorkerCounts: a Workers option of 2⁴⁰ counts as
// parallel.MaxWorkers goroutines (each with its scratch) and gives the
// result of the default, instead of exhausting memory.
func TestHugeWorkerCounts(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 30, Seed: 2, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	at := h.Latest()
	const huge = 1 << 40
	want, err := similarity.Count(ctx, h, at, similarity.CountOptions{})
	require.NoError(t, err)
	got, err := similarity.Count(ctx, h, at, similarity.CountOptions{Workers: huge})
	require.NoError(t, err)
	requireSameCounts(t, want, got)
	wx, err := similarity.NewIndex(ctx, want, similarity.IndexOptions{})
	require.NoError(t, err)
	gx, err := similarity.NewIndex(ctx, want, similarity.IndexOptions{Workers: huge})
	require.NoError(t, err)
	requireSameLists(t, wx, gx, "NewIndex")
	we, err := similarity.FitEASE(ctx, h, at, similarity.EASEOptions{})
	require.NoError(t, err)
	ge, err := similarity.FitEASE(ctx, h, at, similarity.EASEOptions{Count: similarity.CountOptions{Workers: huge}})
	require.NoError(t, err)
	requireSameLists(t, we, ge, "FitEASE")
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "similarity: Workers = 2⁴⁰ (Count, NewIndex, FitEASE)", Cases: 3,
		Outcome: "counted as parallel.MaxWorkers (1,024); the default's result"})
}
