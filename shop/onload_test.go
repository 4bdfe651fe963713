package shop_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// TestOnLoad: Options.OnLoad receives what every load read — Open's and
// each Refresh's — whether or not the load changes the snapshot, so that
// rows a refresh skipped are seen when it keeps the snapshot; a failed
// load is not reported.
func TestOnLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := func(name, data string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
		return path
	}
	var got []dataset.Report
	opts := shop.Options{Model: "neighbours", OnLoad: func(r dataset.Report) { got = append(got, r) }}
	s, err := shop.Open(ctx, shop.File(file("first.csv", "customer,product,time\nc1,a,2024-01-01\nc1,b,2024-01-01\nc2,a,2024-01-02\n"), "csv"), opts)
	require.NoError(t, err)
	defer s.Close()
	require.Len(t, got, 1)
	assert.Equal(t, s.Snapshot().Report(), got[0], "Open's load")
	assert.Equal(t, 3, got[0].Loaded)

	// every row skipped: the snapshot stays, and only OnLoad tells
	snap := s.Snapshot()
	bad := file("bad.csv", "customer,product,time\nc3,a,yesterday\nc3,b,tomorrow\n")
	require.NoError(t, s.Refresh(ctx, shop.File(bad, "csv")))
	assert.Same(t, snap, s.Snapshot(), "nothing loaded: the snapshot stays")
	require.Len(t, got, 2)
	assert.Equal(t, 2, got[1].Rows)
	assert.Equal(t, 0, got[1].Loaded)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid time", Count: 2, FirstLine: 2}}, got[1].Skipped)
	assert.Equal(t, 3, s.Snapshot().Report().Loaded, "the snapshot's report is still Open's")

	// nothing new at all
	require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values([]affinity.OrderChange(nil)))))
	require.Len(t, got, 3)
	assert.Zero(t, got[2].Rows)

	// a failed load (strict): an error, no report
	require.Error(t, s.Refresh(ctx, shop.FileWith(bad, dataset.Options{Format: "csv"})))
	assert.Len(t, got, 3)

	// a load that changes the snapshot: the new snapshot's report
	require.NoError(t, s.Refresh(ctx, shop.File(file("more.csv", "customer,product,time\nc3,a,2024-01-03\nc3,b,later\n"), "csv")))
	require.NotSame(t, snap, s.Snapshot())
	require.Len(t, got, 4)
	assert.Equal(t, s.Snapshot().Report(), got[3])
	assert.Equal(t, 1, got[3].Loaded)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid time", Count: 1, FirstLine: 3}}, got[3].Skipped)

	// Open of a file of which nothing loads: the report says why, then
	// the error
	var opened []dataset.Report
	_, err = shop.Open(ctx, shop.File(bad, "csv"), shop.Options{OnLoad: func(r dataset.Report) { opened = append(opened, r) }})
	require.ErrorIs(t, err, shop.ErrNothingLoaded)
	require.Len(t, opened, 1)
	assert.Equal(t, 2, opened[0].SkippedRows())
}
