package evaluate_test

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

// baselineReportOnce evaluates the baselines on storefront(t, 600, 21)
// once for the tests that read the report.
var baselineReportOnce = sync.OnceValues(func() (*evaluate.Report, error) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 600, Products: 120, Categories: 12, Seed: 21}).History(ctx)
	if err != nil {
		return nil, err
	}
	s, err := evaluate.TemporalSplit(ctx, h, evaluate.DefaultCutoff(h))
	if err != nil {
		return nil, err
	}
	return evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{K: 10, CurveK: 20})
})

// baselineReport is the baselines' report (baselineReportOnce), built once
// and shared: read it, never change it.
func baselineReport(t *testing.T) *evaluate.Report {
	t.Helper()
	rep, err := baselineReportOnce()
	require.NoError(t, err)
	return rep
}

func TestReportGolden(t *testing.T) {
	rep := baselineReport(t)
	var buf bytes.Buffer
	buf.WriteString(rep.Summary() + "\n\n")
	for _, it := range []evaluate.Items{evaluate.AllItems, evaluate.RepeatItems, evaluate.ExploreItems} {
		buf.WriteString(it.String() + "\n\n")
		require.NoError(t, rep.WriteMarkdown(&buf, it))
		buf.WriteString("\n")
	}
	require.NoError(t, rep.WriteMarkdown(&buf, evaluate.AllItems, evaluate.MRR, evaluate.Novelty))
	golden(t, "report.golden", buf.Bytes())

	lines := strings.Split(buf.String(), "\n")
	assert.Contains(t, lines, "| recommender | precision@10 | recall@10 | ndcg@10 | map@10 | hit@10 | coverage |")
}

func TestReportEmptySelection(t *testing.T) {
	rep := &evaluate.Report{K: 5, Rows: []evaluate.Row{{Name: "x"}}}
	var buf bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&buf, evaluate.RepeatItems, evaluate.Precision))
	assert.Equal(t, "| recommender | precision@5 |\n|---|---:|\n| x | - |\n", buf.String())
}

func TestParseMetric(t *testing.T) {
	for m := evaluate.Precision; m <= evaluate.Novelty; m++ {
		got, err := evaluate.ParseMetric(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := evaluate.ParseMetric("auc")
	require.Error(t, err)
}

func TestWriteChart(t *testing.T) {
	rep := baselineReport(t)
	var one, two bytes.Buffer
	require.NoError(t, rep.WriteChart(&one, evaluate.Recall, evaluate.ExploreItems))
	require.NoError(t, rep.WriteChart(&two, evaluate.Recall, evaluate.ExploreItems))
	assert.Equal(t, one.Bytes(), two.Bytes(), "deterministic")
	img, err := png.Decode(&one)
	require.NoError(t, err)
	assert.Equal(t, 720, img.Bounds().Dx())
	assert.Equal(t, 420, img.Bounds().Dy())
	// each recommender's line is drawn in its own colour: the first two
	// palette colours (blue, orange) appear, exactly, somewhere
	for _, want := range [][3]uint32{{0x00, 0x72, 0xb2}, {0xe6, 0x9f, 0x00}} {
		found := false
		for y := 0; y < 420 && !found; y++ {
			for x := 0; x < 720 && !found; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				found = [3]uint32{r >> 8, g >> 8, b >> 8} == want
			}
		}
		assert.True(t, found, "colour %x not in the chart", want)
	}

	noCurve := &evaluate.Report{K: 10}
	require.Error(t, noCurve.WriteChart(&one, evaluate.Recall, evaluate.AllItems))
}
