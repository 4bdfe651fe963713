package affinity_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestNilArgument checks the error of a nil argument: its message names
// the package and the argument, and it matches ErrNilArgument and the
// package's own sentinels, nothing else.
func TestNilArgument(t *testing.T) {
	own := errors.New("pkg: invalid")
	err := affinity.NilArgument("pkg", "History", own)
	require.EqualError(t, err, "pkg: nil History")
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorIs(t, err, own)
	require.NotErrorIs(t, err, affinity.ErrInvalid)
	require.NotErrorIs(t, affinity.NilArgument("pkg", "History"), own)

	var nilCtx context.Context
	require.NoError(t, affinity.CheckContext("pkg", context.Background()))
	err = affinity.CheckContext("pkg", nilCtx, own)
	require.EqualError(t, err, "pkg: nil context")
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorIs(t, err, own)
}

// TestBuildNilArguments calls Builder.Build with a nil context and on a
// nil Builder: errors, no panic; the Builder keeps its lines for a call
// with a context.
func TestBuildNilArguments(t *testing.T) {
	var nilCtx context.Context
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
	_, err := b.Build(nilCtx)
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, h.NumLines())
	_, err = (*affinity.Builder)(nil).Build(context.Background())
	require.ErrorIs(t, err, affinity.ErrNilArgument)
}

// TestBuildHugeWorkers: Builder.Workers = 2⁴⁰ counts as the parallel
// package's bound and builds what the default builds.
func TestBuildHugeWorkers(t *testing.T) {
	ctx := context.Background()
	build := func(workers int) *affinity.History {
		b := affinity.Builder{Workers: workers}
		for i := range 500 {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%d", i%40), Product: fmt.Sprintf("p%d", i%17),
				Order: fmt.Sprintf("o%d", i/3), Time: time.Date(2024, 1, 1+i%28, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	want, got := build(0), build(1<<40)
	require.Equal(t, slices.Collect(want.Purchases()), slices.Collect(got.Purchases()))
}
