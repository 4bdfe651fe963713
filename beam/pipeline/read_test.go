package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// Input reaches the workers inside the read step's DoFn, which Beam
// serialises as JSON: a time layout with a Latin-1 byte ("à" of a French
// export, "\xe0") arrived as U+FFFD, no row's time parsed, and the job
// failed where the single machine loads the file.
func TestReadTimeLayoutNotUTF8(t *testing.T) {
	f := advWrite(t, t.TempDir(), "a.csv", []byte("customer,product,order,time,quantity,price\n"+
		"c1,A,o1,10/01/2024 \xe0 09:30,1,10\n"+
		"c1,B,o1,10/01/2024 \xe0 09:30,1,20\n"+
		"c2,A,o2,11/01/2024 \xe0 17:05,2,10\n"), false)
	in := pipeline.Input{Files: []string{f}, Format: "csv", TimeLayouts: []string{"02/01/2006 \xe0 15:04"}}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 3, h.NumLines())
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	advFeatures(t, in, pipeline.Features{AsOf: asOf})
	advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Index: similarity.IndexOptions{K: 5, MinSupport: 1}})
}

// A single machine loads the files into one Builder, which bounds the
// gross value of all lines (the sum of |quantity × price|) at
// affinity.MaxMoney; the jobs read each file into a Builder of its own,
// which bounds each file's. Strict, the single machine failed on the
// second file and the jobs succeeded; lenient, the single machine skipped
// a line of the second file and the jobs kept it. The jobs now fail
// naming the file, strict as the single machine does, lenient because
// they cannot tell which lines it skips.
func TestReadGrossValueAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price\n"
	// 500,000,000,000,000 currency units each; two are beyond MaxMoney (about 9.2e14)
	a := advWrite(t, dir, "a.csv", []byte(header+
		",A,a1,2024-01-01T00:00:00Z,1,500000000000000\n"+
		",B,a1,2024-01-01T00:00:00Z,1,1\n"), false)
	b := advWrite(t, dir, "b.csv", []byte(header+
		"c1,A,o1,2024-01-02T00:00:00Z,1,500000000000000\n"+
		"c1,B,o1,2024-01-02T00:00:00Z,1,1\n"+
		"c2,B,o2,2024-01-03T00:00:00Z,1,1\n"), false)
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, lenient := range []bool{false, true} {
		in := pipeline.Input{Files: []string{a, b}, Format: "csv", Lenient: lenient}
		h, singleErr := pipeline.LoadHistory(context.Background(), in)
		if lenient {
			require.NoError(t, singleErr)
			require.Equal(t, 4, h.NumLines(), "the single machine skips the line that passes MaxMoney")
		} else {
			require.ErrorIs(t, singleErr, affinity.ErrMoneyRange)
		}
		check := func(t *testing.T, err error) {
			t.Helper()
			require.Error(t, err)
			assert.Contains(t, err.Error(), b+": the lines of the input files up to this one are worth more than 922337203685477.5807 in all")
			assert.Contains(t, err.Error(), affinity.ErrMoneyRange.Error())
			if lenient {
				assert.Contains(t, err.Error(), "not reproduced by the jobs")
			} else {
				assert.Contains(t, err.Error(), "refuses a line of this file")
			}
		}
		t.Run(fmt.Sprintf("copurchase, lenient %v", lenient), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "neighbours.idx")
			p, err := pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: asOf, Shards: 2, Index: similarity.IndexOptions{K: 5, MinSupport: 1}, Output: out})
			require.NoError(t, err)
			_, err = prism.Execute(context.Background(), p)
			check(t, err)
			assert.NoFileExists(t, out)
		})
		for _, index := range []bool{false, true} {
			t.Run(fmt.Sprintf("features, lenient %v, index %v", lenient, index), func(t *testing.T) {
				out := t.TempDir()
				p, err := pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Index: index, Output: out})
				require.NoError(t, err)
				_, err = prism.Execute(context.Background(), p)
				check(t, err)
				ents, err := os.ReadDir(out)
				require.NoError(t, err)
				assert.Empty(t, ents, "files written by a failed job")
			})
		}
	}
}

// Files whose lines are worth exactly affinity.MaxMoney in all load on a
// single machine, strict and lenient, and the jobs give its answer.
func TestReadGrossValueAtMaxMoney(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price\n"
	// 461168601842738.7903 + 461168601842738.7904 = 922337203685477.5807, MaxMoney
	a := advWrite(t, dir, "a.csv", []byte(header+
		"c1,A,o1,2024-01-01T00:00:00Z,1,461168601842738.7903\n"), false)
	b := advWrite(t, dir, "b.csv", []byte(header+
		"c1,B,o2,2024-01-02T00:00:00Z,-1,461168601842738.7904\n"+
		"c2,A,o3,2024-01-03T00:00:00Z,1,0\n"+
		"c2,B,o3,2024-01-03T00:00:00Z,1,0\n"), false)
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, lenient := range []bool{false, true} {
		in := pipeline.Input{Files: []string{a, b}, Format: "csv", Lenient: lenient}
		h, err := pipeline.LoadHistory(context.Background(), in)
		require.NoError(t, err)
		require.Equal(t, 4, h.NumLines())
		t.Run(fmt.Sprintf("copurchase, lenient %v", lenient), func(t *testing.T) {
			advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Shards: 2, Index: similarity.IndexOptions{K: 5, MinSupport: 1}})
		})
		for _, index := range []bool{false, true} {
			t.Run(fmt.Sprintf("features, lenient %v, index %v", lenient, index), func(t *testing.T) {
				advFeatures(t, in, pipeline.Features{AsOf: asOf, Index: index})
			})
		}
	}
}

// readCounters returns the read step's counters (pipeline.Metrics) of a
// run of p, by name.
func readCounters(t *testing.T, p *beam.Pipeline) map[string]int64 {
	t.Helper()
	res, err := prism.Execute(context.Background(), p)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() == pipeline.Metrics {
			got[c.Name()] += c.Result()
		}
	}
	return got
}

// With Input.Lenient a bad row is skipped, and dataset.Load counts it in
// its Report; the jobs threw the Report away, so a job that dropped rows
// succeeded without a trace. The read step counts the rows, the skipped
// ones by reason and the duplicates, over all files.
func TestReadLenientSkipsCounted(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price\n"
	a := advWrite(t, dir, "a.csv", []byte(header+
		"c1,A,o1,2024-01-01T00:00:00Z,1,10\n"+
		"c1,B,o1,not-a-time,1,10\n"+
		"c2,B,o2,2024-01-02T00:00:00Z,0,10\n"+
		"c2,A,o2,2024-01-02T00:00:00Z,1,10\n"), false)
	b := advWrite(t, dir, "b.csv.gz", []byte(header+
		"c3,A,o3,2024-01-03T00:00:00Z,1,10\n"+
		"c3,A,o3,2024-01-03T00:00:00Z,1,10\n"+
		"c3,B,o3,2024-01-03T00:00:00Z,1,-10\n"+
		"c4,B,o4,2024-01-04,1,10\n"+
		"c4,,o4,2024-01-04T00:00:00Z,1,10\n"), true)
	in := pipeline.Input{Files: []string{a, b}, Format: "csv", Lenient: true}
	want := map[string]int64{"rows": 9, "skipped: invalid time": 1, "skipped: zero quantity": 1,
		"skipped: negative price": 1, "skipped: missing product": 1, "duplicates": 1}
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	t.Run("features", func(t *testing.T) {
		p, err := pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Output: t.TempDir()})
		require.NoError(t, err)
		assert.Equal(t, want, readCounters(t, p))
	})
	t.Run("copurchase", func(t *testing.T) {
		p, err := pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: asOf, Output: filepath.Join(t.TempDir(), "neighbours.idx")})
		require.NoError(t, err)
		assert.Equal(t, want, readCounters(t, p))
	})
}

// A single machine loads a later file's row of a product an earlier file
// described without looking at the row's name or categories
// (affinity.Builder.HasProduct); the readers loaded every file alone and
// checked them: a category the Builder refuses (65 levels, or more paths
// than dataset.Limits.MaxCategories) on such a row failed the strict jobs
// where the single machine loads the files, and lenient, the row was
// skipped ("invalid category") and its purchase lost. The readers now
// know the products the earlier files describe.
func TestReadLaterFileRowOfDescribedProduct(t *testing.T) {
	deep := strings.TrimSuffix(strings.Repeat("a/", affinity.MaxCategoryDepth+1), "/")
	many := strings.TrimSuffix(strings.Repeat("x|", dataset.DefaultMaxCategories+1), "|")
	header := "customer,product,order,time,quantity,price,category\n"
	for _, bad := range []struct{ name, cat string }{{"deep", deep}, {"many paths", many}} {
		dir := t.TempDir()
		// P and Q described by the first file; the second and third name P
		// with the bad category, the third also R, described there first
		files := []string{
			advWrite(t, dir, "part-1.csv", []byte(header+
				"c1,P,o1,2024-01-10T00:00:00Z,1,10,Home\n"+
				"c1,Q,o1,2024-01-10T00:00:00Z,1,10,Home\n"), false),
			advWrite(t, dir, "part-2.csv", []byte(header+
				"c2,P,o2,2024-01-11T00:00:00Z,1,10,"+bad.cat+"\n"+
				"c2,Q,o2,2024-01-11T00:00:00Z,1,10,Garden\n"), false),
			advWrite(t, dir, "part-3.csv", []byte(header+
				"c3,R,o3,2024-01-12T00:00:00Z,1,10,Garden/Tools\n"+
				"c3,P,o3,2024-01-12T00:00:00Z,1,10,"+bad.cat+"\n"+
				"c1,Q,o4,2024-01-13T00:00:00Z,1,10,Home\n"), false),
		}
		for _, lenient := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, lenient %v", bad.name, lenient), func(t *testing.T) {
				in := pipeline.Input{Files: files, Format: "csv", Lenient: lenient}
				h, err := pipeline.LoadHistory(context.Background(), in)
				require.NoError(t, err)
				require.Equal(t, 7, h.NumLines(), "the single machine loads every row")
				asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
				advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Count: similarity.CountOptions{Scope: similarity.Customer},
					Index: similarity.IndexOptions{K: 5, MinSupport: 1}})
				advFeatures(t, in, pipeline.Features{AsOf: asOf, Index: true})
			})
		}
	}
}

// The first pass that tells the readers which products the earlier files
// describe loads each file alone, leniently: a row of such a product
// with a bad category is skipped there, and a later line of the file
// that the single machine refuses for affinity.MaxMoney may then fit.
// Here the second file's first pass describes Q, which the single
// machine never loads, and the third file's reader would have loaded Q's
// row, whose category the single machine refuses. The job fails naming
// the second file instead.
func TestReadDescribedProductsBeyondMaxMoney(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price,category\n"
	deep := strings.TrimSuffix(strings.Repeat("a/", affinity.MaxCategoryDepth+1), "/")
	// 10 + 922337203685457.5807 = MaxMoney - 10: fits; 30 more does not
	files := []string{
		advWrite(t, dir, "part-1.csv", []byte(header+"c1,P,o1,2024-01-10T00:00:00Z,1,10,Home\n"), false),
		advWrite(t, dir, "part-2.csv", []byte(header+
			"c2,P,o2,2024-01-11T00:00:00Z,1,922337203685457.5807,"+deep+"\n"+
			"c2,Q,o2,2024-01-11T00:00:00Z,1,30,Home\n"), false),
		advWrite(t, dir, "part-3.csv", []byte(header+"c3,Q,o3,2024-01-12T00:00:00Z,1,0,"+deep+"\n"+
			"c3,P,o3,2024-01-12T00:00:00Z,1,0,Home\n"), false),
	}
	in := pipeline.Input{Files: files, Format: "csv", Lenient: true}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 3, h.NumLines(), "the single machine refuses Q's rows: for MaxMoney, then for its category")
	o := pipeline.CoPurchase{AsOf: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Output: filepath.Join(t.TempDir(), "n.idx")}
	p, err := pipeline.NewCoPurchase(in, o)
	require.NoError(t, err)
	_, err = prism.Execute(context.Background(), p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), files[1]+": a line of this file is refused for taking the gross value")
}

// The DoFns carried the as-of time as a time.Time, which Beam writes with
// encoding/json: a zone 24 hours or more from UTC, or a year past 9999,
// passed NewFeatures and NewCoPurchase and the job then failed to
// serialise them. Every library build reads the as-of time as an instant,
// and the jobs give the single machine's answer for any.
func TestAsOfAnyZoneOrYear(t *testing.T) {
	f := advWrite(t, t.TempDir(), "part-1.csv", []byte("customer,product,order,time,quantity,price\n"+
		"c1,P,o1,2024-01-10T00:00:00Z,1,10\nc1,Q,o1,2024-01-10T00:00:00Z,1,10\nc2,P,o2,2024-01-20T00:00:00Z,1,10\n"), false)
	in := pipeline.Input{Files: []string{f}, Format: "csv"}
	for _, asOf := range []time.Time{
		time.Date(2024, 2, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)),
		time.Date(2024, 1, 15, 3, 0, 0, 0, time.FixedZone("far west", -(600*3600+17))),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(asOf.String(), func(t *testing.T) {
			advFeatures(t, in, pipeline.Features{AsOf: asOf, Segment: segment.Options{Lookback: affinity.Months(1)}})
			advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Count: similarity.CountOptions{Lookback: affinity.Months(1)},
				Index: similarity.IndexOptions{MinSupport: 1}})
		})
	}
}
