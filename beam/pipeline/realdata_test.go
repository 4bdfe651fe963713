package pipeline_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// splitOnlineRetail writes the Online Retail file as parts files of
// consecutive lines, each with the header; invoices may straddle two
// parts. The file has no line breaks inside fields.
func splitOnlineRetail(t *testing.T, parts int) pipeline.Input {
	t.Helper()
	f, err := os.Open(sharedData(t, "online-retail/online_retail_2010-2011.csv.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	header, rows := lines[0], lines[1:]
	dir := t.TempDir()
	in := pipeline.Input{Format: "onlineretail"}
	per := (len(rows) + parts - 1) / parts
	for i := range parts {
		path := filepath.Join(dir, fmt.Sprintf("retail-%d.csv", i))
		w, err := os.Create(path)
		require.NoError(t, err)
		bw := bufio.NewWriter(w)
		fmt.Fprintln(bw, header)
		for _, r := range rows[i*per : min((i+1)*per, len(rows))] {
			fmt.Fprintln(bw, r)
		}
		require.NoError(t, bw.Flush())
		require.NoError(t, w.Close())
		in.Files = append(in.Files, path)
	}
	return in
}

func TestOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("real data: skipped in -short mode")
	}
	in := splitOnlineRetail(t, 4)
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 4_339, h.NumCustomers())
	asOf := h.Latest()
	t.Run("copurchase", func(t *testing.T) {
		checkCoPurchase(t, in, h, pipeline.CoPurchase{AsOf: asOf, Shards: 6,
			Count: similarity.CountOptions{Scope: similarity.Basket, Lookback: affinity.Months(12)},
			Index: similarity.IndexOptions{Measure: similarity.Lift, K: 20, MinSupport: 5, Shrinkage: 10}})
	})
	t.Run("features", func(t *testing.T) {
		dir := checkFeatures(t, in, h, pipeline.Features{AsOf: asOf})
		requireSegmentsDecode(t, dir)
	})
	t.Run("index", func(t *testing.T) {
		in := in
		in.NameCategories = true // categories from the descriptions
		h, err := pipeline.LoadHistory(context.Background(), in)
		require.NoError(t, err)
		require.Greater(t, h.Catalog().NumCategories(), 10)
		dir := checkFeatures(t, in, h, pipeline.Features{AsOf: asOf, Index: true, Segment: segment.Options{RFMScoring: segment.RFMNTile}})
		requireSegmentsDecode(t, dir)
	})
}
