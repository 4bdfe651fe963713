package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// singleFeatures writes what the features pipeline writes, from the
// single-machine segment index of h.
func singleFeatures(t *testing.T, h *affinity.History, o pipeline.Features, dir string) {
	t.Helper()
	ctx := context.Background()
	so := o.Segment
	if len(o.NonMerchandiseKeys) > 0 {
		so.NonMerchandise = roaring.New()
		for _, k := range o.NonMerchandiseKeys {
			if p, ok := h.Catalog().LookupProduct(k); ok {
				so.NonMerchandise.Add(uint32(p))
			}
		}
	}
	x, err := segment.Build(ctx, h, o.AsOf, so)
	require.NoError(t, err)
	var csv bytes.Buffer
	require.NoError(t, x.WriteCSV(&csv, x.All()))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "features.csv"), csv.Bytes(), 0o644))
	if o.Index {
		var idx bytes.Buffer
		_, err := x.WriteTo(&idx)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, pipeline.IndexFile), idx.Bytes(), 0o644))
	}
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
		if !bytes.Equal(b, g[name]) {
			at := 0
			for at < min(len(b), len(g[name])) && b[at] == g[name][at] {
				at++
			}
			t.Fatalf("%s differs from the single-machine file from byte %d on (%d bytes, single machine %d)", name, at, len(g[name]), len(b))
		}
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

// demoCategories returns the category paths of the demo shop's products,
// by key.
func demoCategories() map[string][]string {
	cats := map[string][]string{}
	for _, p := range dataset.Demo().Products {
		cats[p.Key] = p.Categories
	}
	return cats
}

// The saved index: per-category attributes over the catalog the files
// carry, products spread over several files (one huge customer, one huge
// basket), byte for byte the single machine's.
func TestFeaturesIndex(t *testing.T) {
	in := pipeline.Input{Files: writeCatalogParts(t, t.TempDir(), skewed(), demoCategories(), 9000)}
	require.Greater(t, len(in.Files), 2)
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	require.Greater(t, h.Catalog().NumCategories(), 5)
	for _, o := range []pipeline.Features{
		{AsOf: h.Latest(), Index: true},
		{AsOf: h.Latest().AddDate(0, -3, 0), Index: true, Segment: segment.Options{RFMScoring: segment.RFMNTile, HalfLife: 60 * segment.Day}},
		{AsOf: h.Latest(), Index: true, NonMerchandiseKeys: []string{h.Catalog().ProductKey(0), h.Catalog().ProductKey(2), "no-such-product"}},
	} {
		t.Run(o.AsOf.Format(time.DateOnly), func(t *testing.T) {
			dir := checkFeatures(t, in, h, o)
			x, err := segment.Load(filepath.Join(dir, pipeline.IndexFile))
			require.NoError(t, err)
			require.Equal(t, h.Catalog().NumCategories(), len(x.Categories()))
			top := h.Catalog().CategoryPath(0)
			fans, err := x.Query(fmt.Sprintf("affinity(%q) >= 0.5", top))
			require.NoError(t, err)
			require.False(t, fans.IsEmpty(), "nobody spends half in %q", top)
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
	_, err = pipeline.NewFeatures(in, pipeline.Features{AsOf: time.Now(), Output: "x", Index: true, Segment: segment.Options{NonMerchandise: roaring.BitmapOf(1)}})
	require.ErrorContains(t, err, "NonMerchandiseKeys", "ids the pipeline assigns")
}

// A single machine keeps a product's entry from the first file that
// describes it and ignores later files' ones, nodes included; the job
// numbers the category nodes the same way.
func TestFeaturesIndexFirstEntryWins(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.csv": "customer,product,order,time,quantity,price,category\n" +
			"c1,X,o1,2025-01-01T00:00:00Z,1,10,A/A1\n" +
			"c2,Z,o2,2025-01-02T00:00:00Z,1,5,\n",
		"b.csv": "customer,product,order,time,quantity,price,category\n" +
			"c3,X,o3,2025-02-01T00:00:00Z,1,10,B/B1\n" +
			"c3,Y,o3,2025-02-01T00:00:00Z,1,7,C\n" +
			"c4,Z,o4,2025-02-02T00:00:00Z,2,5,D\n",
	}
	var in pipeline.Input
	for _, name := range []string{"a.csv", "b.csv"} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(files[name]), 0o644))
		in.Files = append(in.Files, path)
	}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	out := checkFeatures(t, in, h, pipeline.Features{AsOf: h.Latest(), Index: true})
	x, err := segment.Load(filepath.Join(out, pipeline.IndexFile))
	require.NoError(t, err)
	require.Equal(t, []string{"A", "A/A1", "C", "D"}, x.Categories())
}

// Events are not silently dropped: a file of ratings is an error, and
// read as purchases it gives the single machine's features.
func TestFeaturesRejectEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.data")
	require.NoError(t, os.WriteFile(path, []byte("1\t10\t5\t881250949\n1\t11\t3\t881250960\n2\t10\t4\t881300000\n"), 0o644))
	in := pipeline.Input{Files: []string{path}, Format: "movielens"}
	asOf := time.Unix(881400000, 0)
	p, err := pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Output: t.TempDir()})
	require.NoError(t, err)
	_, err = prism.Execute(context.Background(), p)
	require.ErrorContains(t, err, "3 events")

	in.MovieLensAsPurchases = true
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	checkFeatures(t, in, h, pipeline.Features{AsOf: asOf, Index: true})
}

// TestFeaturesURLOutput: the output directory is a URL on jobs that run
// on a cluster (gs://…); path.Join made a local path of it ("gs:/…"),
// where each worker wrote, and the job succeeded. memfs stands in for
// GCS here.
func TestFeaturesURLOutput(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.csv")
	require.NoError(t, os.WriteFile(f, []byte("customer,product,order,time,quantity,price\nc1,A,o1,2024-01-01T00:00:00Z,1,1\nc1,B,o1,2024-01-01T00:00:00Z,1,1\n"), 0o644))
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(dir)) // where a local "memfs:" directory would appear
	t.Cleanup(func() { _ = os.Chdir(wd) })
	out := "memfs://" + filepath.Base(dir) + "/features"
	p, err := pipeline.NewFeatures(pipeline.Input{Files: []string{f}, Format: "csv"}, pipeline.Features{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Output: out})
	require.NoError(t, err)
	run(t, p)
	ctx := context.Background()
	fs := memfs.New(ctx)
	got, err := fs.List(ctx, out+"/*")
	require.NoError(t, err)
	for _, name := range []string{"customers.csv", "features.csv", "segments.csv"} {
		require.Contains(t, got, out+"/"+name)
	}
	_, err = os.Stat(filepath.Join(dir, "memfs:"))
	require.ErrorIs(t, err, os.ErrNotExist, "written to the local disk")
}

// Beam serialises a DoFn's fields as JSON, which replaces every byte of
// invalid UTF-8 with U+FFFD: NonMerchandiseKeys "CAF\xe9" reached the
// workers as "CAF\uFFFD", and the saved index counted the product in its
// category where the single machine counts it in none.
func TestFeaturesNonMerchandiseKeysNotUTF8(t *testing.T) {
	in := pipeline.Input{Files: []string{latin1Shop(t, t.TempDir(), "a.csv")}, Format: "csv"}
	advFeatures(t, in, pipeline.Features{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Index: true, NonMerchandiseKeys: []string{"CAF\xe9"}})
}

// Features.Output went through JSON too: the job wrote its files to
// "f\uFFFDvrier" when asked for "f\xe9vrier", and succeeded.
func TestFeaturesOutputNotUTF8(t *testing.T) {
	in := pipeline.Input{Files: []string{latin1Shop(t, t.TempDir(), "a.csv")}, Format: "csv"}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("index %v", index), func(t *testing.T) {
			dir := t.TempDir()
			o := pipeline.Features{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Index: index, Output: filepath.Join(dir, "f\xe9vrier")}
			p, err := pipeline.NewFeatures(in, o)
			require.NoError(t, err)
			run(t, p)
			assert.NoDirExists(t, filepath.Join(dir, "f\uFFFDvrier"), "the job wrote to a directory of another name")
			want := t.TempDir()
			singleFeatures(t, h, o, want)
			requireSameDirs(t, want, o.Output)
		})
	}
}

// segment.Options went through JSON too: an RFM segment named in
// Latin-1 ("Fid\xe8les") came out as "Fid\uFFFDles" in features.csv and
// segments.csv.
func TestFeaturesRFMRuleNameNotUTF8(t *testing.T) {
	in := pipeline.Input{Files: []string{latin1Shop(t, t.TempDir(), "a.csv")}, Format: "csv"}
	rules := []segment.RFMRule{
		{Name: "Fid\xe8les", R: segment.ScoreRange{Min: 3, Max: 5}},
		{Name: "Autres"},
	}
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("index %v", index), func(t *testing.T) {
			advFeatures(t, in, pipeline.Features{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Index: index,
				Segment: segment.Options{RFMRules: rules}})
		})
	}
}
