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
	"github.com/shopaffinity/affinity/segment"
)

// singleFeatures writes what the features pipeline writes, from the
// single-machine segment index of h.
func singleFeatures(t *testing.T, h *affinity.History, o pipeline.Features, dir string) {
	t.Helper()
	ctx := context.Background()
	x, err := segment.Build(ctx, h, o.AsOf, o.Segment)
	require.NoError(t, err)
	var csv bytes.Buffer
	require.NoError(t, x.WriteCSV(&csv, x.All()))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "features.csv"), csv.Bytes(), 0o644))
	sets, err := pipeline.Segments(x)
	require.NoError(t, err)
	var d pipeline.Dict
	for c := range affinity.CustomerID(h.NumCustomers()) {
		d.Keys = append(d.Keys, h.CustomerKey(c))
	}
	require.NoError(t, pipeline.WriteSegments(ctx, dir, d, sets))
}

// requireSameDirs checks that two directories hold the same files with
// the same bytes, and returns the file names.
func requireSameDirs(t *testing.T, want, got string) []string {
	t.Helper()
	read := func(dir string) map[string][]byte {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		m := map[string][]byte{}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			m[e.Name()] = b
		}
		return m
	}
	w, g := read(want), read(got)
	var names []string
	for name, b := range w {
		require.Contains(t, g, name)
		require.Equal(t, string(b), string(g[name]), "%s differs from the single-machine file", name)
		names = append(names, name)
	}
	require.Len(t, g, len(w), "file sets differ")
	return names
}

func checkFeatures(t *testing.T, in pipeline.Input, h *affinity.History, o pipeline.Features) string {
	t.Helper()
	o.Output = t.TempDir()
	p, err := pipeline.NewFeatures(in, o)
	require.NoError(t, err)
	run(t, p)
	want := t.TempDir()
	singleFeatures(t, h, o, want)
	names := requireSameDirs(t, want, o.Output)
	require.Contains(t, names, "features.csv")
	require.Contains(t, names, "rfm-champions.roaring")
	return o.Output
}

func TestFeaturesDemo(t *testing.T) {
	in := pipeline.Input{Files: writeParts(t, t.TempDir(), skewed(), 11000)}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	for _, o := range []pipeline.Features{
		{AsOf: h.Latest()},
		{AsOf: h.Latest().AddDate(0, -6, 0), Segment: segment.Options{Lookback: affinity.Months(12), LoyalOrders: 3}},
	} {
		t.Run(o.AsOf.Format(time.DateOnly), func(t *testing.T) {
			dir := checkFeatures(t, in, h, o)
			requireSegmentsDecode(t, dir)
		})
	}
}

func TestFeaturesOptions(t *testing.T) {
	in := pipeline.Input{Files: []string{"x.csv"}}
	_, err := pipeline.NewFeatures(in, pipeline.Features{Output: "x"})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = pipeline.NewFeatures(in, pipeline.Features{AsOf: time.Now(), Output: "x", Segment: segment.Options{TopN: -1}})
	require.Error(t, err)
	_, err = pipeline.NewFeatures(in, pipeline.Features{AsOf: time.Now()})
	require.Error(t, err, "no output")
}
