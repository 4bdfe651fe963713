package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/similarity"
)

// TestScale compares one machine with the pipelines on prism on a
// synthetic shop of about AFFINITY_BEAM_LINES order lines (for example
// 1000000) in 8 files, and checks that the outputs are byte-identical. It
// logs the wall times of both; it is skipped unless the variable is set.
//
//	AFFINITY_BEAM_LINES=1000000 go test -run TestScale -v -timeout 1h ./pipeline/
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("AFFINITY_BEAM_LINES"))
	if n <= 0 {
		t.Skip("set AFFINITY_BEAM_LINES to the number of order lines to measure")
	}
	ctx := context.Background()
	shop := dataset.Generate(dataset.SyntheticOptions{Customers: n / 10, Products: max(1000, n/100), Categories: 200, ViewsPerLine: -1})
	cats := map[string][]string{}
	for _, p := range shop.Products {
		cats[p.Key] = p.Categories
	}
	in := pipeline.Input{Files: writeCatalogParts(t, t.TempDir(), shop.Purchases, cats, (len(shop.Purchases)+7)/8)}
	t.Logf("%d lines, %d customers, %d products, %d files", len(shop.Purchases), n/10, max(1000, n/100), len(in.Files))

	start := time.Now()
	h, err := pipeline.LoadHistory(ctx, in)
	require.NoError(t, err)
	load := time.Since(start)
	asOf := h.Latest()

	co := pipeline.CoPurchase{AsOf: asOf, Count: similarity.CountOptions{Lookback: affinity.Months(12)},
		Index: similarity.IndexOptions{Measure: similarity.Lift, MinSupport: 3, Shrinkage: 5}}
	start = time.Now()
	want := singleIndex(t, h, asOf, co)
	single := time.Since(start)
	co.Output = filepath.Join(t.TempDir(), "neighbours.idx")
	p, err := pipeline.NewCoPurchase(in, co)
	require.NoError(t, err)
	start = time.Now()
	run(t, p)
	beam := time.Since(start)
	got, err := os.ReadFile(co.Output)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "co-purchase index differs")
	t.Logf("co-purchase: one machine load %v + count and rank %v; prism %v", load.Round(time.Millisecond), single.Round(time.Millisecond), beam.Round(time.Millisecond))

	for _, index := range []bool{false, true} {
		fo := pipeline.Features{AsOf: asOf, Index: index}
		wantDir := t.TempDir()
		start = time.Now()
		singleFeatures(t, h, fo, wantDir)
		single = time.Since(start)
		fo.Output = t.TempDir()
		p, err = pipeline.NewFeatures(in, fo)
		require.NoError(t, err)
		start = time.Now()
		run(t, p)
		beam = time.Since(start)
		requireSameDirs(t, wantDir, fo.Output)
		t.Logf("features (index %v): one machine load %v + segment build, files and export %v; prism %v", index, load.Round(time.Millisecond), single.Round(time.Millisecond), beam.Round(time.Millisecond))
	}
}
