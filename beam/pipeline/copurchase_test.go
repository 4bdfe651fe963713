package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/similarity"
)

// singleIndex is the single-machine build: load, count, rank, encode.
func singleIndex(t *testing.T, h *affinity.History, asOf time.Time, o pipeline.CoPurchase) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := similarity.Count(ctx, h, asOf, o.Count)
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, o.Index)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

func checkCoPurchase(t *testing.T, in pipeline.Input, h *affinity.History, o pipeline.CoPurchase) {
	t.Helper()
	o.Output = filepath.Join(t.TempDir(), "neighbours.idx")
	p, err := pipeline.NewCoPurchase(in, o)
	require.NoError(t, err)
	run(t, p)
	got, err := os.ReadFile(o.Output)
	require.NoError(t, err)
	want := singleIndex(t, h, o.AsOf, o)
	require.Equal(t, want, got, "the pipeline's index file differs from the single-machine one")
	x, err := similarity.ReadIndex(bytes.NewReader(got))
	require.NoError(t, err)
	require.Positive(t, x.NumNeighbors())
	dict, err := os.ReadFile(o.Output + ".products.csv")
	require.NoError(t, err)
	var keys []string
	for p := range affinity.ProductID(h.Catalog().NumProducts()) {
		keys = append(keys, h.Catalog().ProductKey(p))
	}
	require.Equal(t, dictText("product", keys), string(dict))
}

func TestCoPurchaseDemo(t *testing.T) {
	dir := t.TempDir()
	in := pipeline.Input{Files: writeParts(t, dir, skewed(), 9000)}
	require.Greater(t, len(in.Files), 4)
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	asOf := h.Latest()
	for _, o := range []pipeline.CoPurchase{
		{AsOf: asOf, Shards: 5, BlockRows: 97, Index: similarity.IndexOptions{Measure: similarity.Lift, K: 20, MinSupport: 2, Shrinkage: 5}},
		{AsOf: asOf, Shards: 3, BlockRows: 300, Count: similarity.CountOptions{Scope: similarity.Customer, MaxBasket: 40, Lookback: affinity.Months(12)},
			Index: similarity.IndexOptions{Measure: similarity.NPMI, K: 10}},
		{AsOf: asOf.AddDate(0, -3, 0), Shards: 7, Count: similarity.CountOptions{Scope: similarity.Sequential, Window: 14 * 24 * time.Hour},
			Index: similarity.IndexOptions{Measure: similarity.Confidence, K: 15, MinSupport: 1}},
	} {
		t.Run(o.Count.Scope.String(), func(t *testing.T) { checkCoPurchase(t, in, h, o) })
	}
}

func TestCoPurchaseOptions(t *testing.T) {
	in := pipeline.Input{Files: []string{"x.csv"}}
	_, err := pipeline.NewCoPurchase(in, pipeline.CoPurchase{Output: "x"})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: time.Now(), Output: "x", Index: similarity.IndexOptions{Measure: similarity.BM25}})
	require.Error(t, err)
	_, err = pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: time.Now()})
	require.Error(t, err, "no output")
	_, err = pipeline.NewCoPurchase(pipeline.Input{}, pipeline.CoPurchase{AsOf: time.Now(), Output: "x"})
	require.Error(t, err, "no input")
}
