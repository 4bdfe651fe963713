package segment_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/segment"
)

// TestNilArguments calls every build function with a nil context: each
// returns an error matching ErrInvalid and affinity.ErrNilArgument, none
// panics (in the caller or in a worker goroutine).
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 50, Products: 10, Seed: 1, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	at := h.Latest()
	x, err := segment.Build(ctx, h, at, segment.Options{})
	require.NoError(t, err)
	part, err := segment.BuildPart(ctx, h, at, segment.Options{})
	require.NoError(t, err)
	calls := map[string]func() error{
		"Build":     func() error { _, err := segment.Build(nilCtx, h, at, segment.Options{}); return err },
		"BuildPart": func() error { _, err := segment.BuildPart(nilCtx, h, at, segment.Options{}); return err },
		"Join": func() error {
			_, err := segment.Join(nilCtx, h.Catalog(), at, segment.Options{}, []*segment.Part{part})
			return err
		},
		"Update": func() error { _, err := segment.Update(nilCtx, x, h, h, at, segment.UpdateOptions{}); return err },
		"Index.Compacted": func() error {
			_, err := x.Compacted(nilCtx, segment.UpdateOptions{})
			return err
		},
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "segment build functions: nil context",
		Outcome: "ErrInvalid, matching affinity.ErrNilArgument; no panic"}, calls, segment.ErrInvalid, affinity.ErrNilArgument)
	// a nil Index, as Update's
	_, err = (*segment.Index)(nil).Compacted(ctx, segment.UpdateOptions{})
	require.ErrorIs(t, err, segment.ErrInvalid)
}

// TestHugeWorkerCount: Workers = 2⁴⁰ counts as parallel.MaxWorkers and
// builds the index the default does, byte for byte, instead of
// exhausting memory.
func TestHugeWorkerCount(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 20, Seed: 3, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	encode := func(workers int) []byte {
		x, err := segment.Build(ctx, h, h.Latest(), segment.Options{Workers: workers})
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		return buf.Bytes()
	}
	require.Equal(t, encode(0), encode(1<<40))
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "segment.Build with Workers = 2⁴⁰", Cases: 1,
		Outcome: "counted as parallel.MaxWorkers (1,024); the default's index, byte for byte"})
}
