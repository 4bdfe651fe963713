package pipeline_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
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
	single := o
	if len(o.ExcludeKeys) > 0 {
		single.Count.Exclude = roaring.New()
		for _, k := range o.ExcludeKeys {
			if id, ok := h.Catalog().LookupProduct(k); ok {
				single.Count.Exclude.Add(uint32(id))
			}
		}
	}
	want := singleIndex(t, h, o.AsOf, single)
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
		// non-merchandise by key: the most bought products, and a key the
		// input does not hold
		{AsOf: asOf, Shards: 4, BlockRows: 200, ExcludeKeys: []string{h.Catalog().ProductKey(0), h.Catalog().ProductKey(3), "no-such-product"},
			Count: similarity.CountOptions{MaxBasket: 6}, Index: similarity.IndexOptions{Measure: similarity.Cosine, K: 10}},
	} {
		name := o.Count.Scope.String()
		if len(o.ExcludeKeys) > 0 {
			name += "-exclude"
		}
		t.Run(name, func(t *testing.T) { checkCoPurchase(t, in, h, o) })
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
	_, err = pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: time.Now(), Output: "x", Count: similarity.CountOptions{Exclude: roaring.BitmapOf(1)}})
	require.ErrorContains(t, err, "ExcludeKeys", "ids the pipeline assigns")
	// index options refused before any work, not when the job writes
	// them into its DoFns (encoding/json has no NaN) or ranks
	for _, io := range []similarity.IndexOptions{{Shrinkage: math.NaN()}, {Shrinkage: math.Inf(1)}, {Shrinkage: -1},
		{K: similarity.MaxIndexK + 1}, {MinSupport: similarity.MaxIndexK + 1}} {
		_, err = pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: time.Now(), Output: "x", Index: io})
		require.Error(t, err, "%+v", io)
	}
}

// TestCoPurchaseNoProduct: with no product at all (a header only, every
// row skipped) the Combine of the marginals emitted nothing and the job
// wrote nothing and succeeded, where the single machine writes the empty
// index. The writer runs once whatever its inputs, and writes that.
func TestCoPurchaseNoProduct(t *testing.T) {
	dir := t.TempDir()
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for name, text := range map[string]string{
		"header.csv":  "customer,product,order,time,quantity,price\n",
		"skipped.csv": "customer,product,order,time,quantity,price\nc1,p1,o1,not a time,1,1\n",
	} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(text), 0o644))
		in := pipeline.Input{Files: []string{f}, Format: "csv", Lenient: true}
		h, err := pipeline.LoadHistory(context.Background(), in)
		require.NoError(t, err)
		o := pipeline.CoPurchase{AsOf: asOf, Index: similarity.IndexOptions{K: 3}}
		want := singleIndex(t, h, asOf, o)
		o.Output = filepath.Join(dir, name+".idx")
		p, err := pipeline.NewCoPurchase(in, o)
		require.NoError(t, err)
		run(t, p)
		got, err := os.ReadFile(o.Output)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
		dict, err := os.ReadFile(o.Output + ".products.csv")
		require.NoError(t, err, name)
		require.Equal(t, "id,product\n", string(dict), name)
	}
}

// Beam serialises a DoFn's fields as JSON, which replaces every byte of
// invalid UTF-8 with U+FFFD: ExcludeKeys "CAF\xe9" (a key of a Latin-1
// export) reached the workers as "CAF\uFFFD", named no product and was
// ignored, and the job counted the product the single machine excludes.
func TestCoPurchaseExcludeKeysNotUTF8(t *testing.T) {
	in := pipeline.Input{Files: []string{latin1Shop(t, t.TempDir(), "a.csv")}, Format: "csv"}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	_, ok := h.Catalog().LookupProduct("CAF\xe9")
	require.True(t, ok)
	checkCoPurchase(t, in, h, pipeline.CoPurchase{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		ExcludeKeys: []string{"CAF\xe9"}, Index: similarity.IndexOptions{K: 5, MinSupport: 1}})
}

// The index file's path went through JSON too: the job wrote
// "f\uFFFDvrier/neighbours.idx" for "f\xe9vrier/neighbours.idx", and
// succeeded.
func TestCoPurchaseOutputNotUTF8(t *testing.T) {
	in := pipeline.Input{Files: []string{latin1Shop(t, t.TempDir(), "a.csv")}, Format: "csv"}
	dir := t.TempDir()
	o := pipeline.CoPurchase{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Index: similarity.IndexOptions{K: 5, MinSupport: 1},
		Output: filepath.Join(dir, "f\xe9vrier", "neighbours.idx")}
	p, err := pipeline.NewCoPurchase(in, o)
	require.NoError(t, err)
	run(t, p)
	for _, name := range []string{"neighbours.idx", "neighbours.idx.products.csv"} {
		assert.FileExists(t, filepath.Join(dir, "f\xe9vrier", name))
	}
	assert.NoDirExists(t, filepath.Join(dir, "f\uFFFDvrier"), "the job wrote to a directory of another name")
}
