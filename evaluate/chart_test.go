package evaluate_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/evaluate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chartReport returns a report of one recommender per name, with curves
// of k points of precision value(i, j) and one customer each.
func chartReport(names []string, k int, value func(i, j int) float64) *evaluate.Report {
	r := &evaluate.Report{K: k, CurveK: k}
	for i, n := range names {
		row := evaluate.Row{Name: n}
		for it := range row.Curve {
			for j := range k {
				row.Curve[it] = append(row.Curve[it], evaluate.Metrics{Users: 1, Precision: value(i, j)})
			}
			row.Metrics[it] = row.Curve[it][k-1]
		}
		r.Rows = append(r.Rows, row)
	}
	return r
}

// drawChart returns the decoded chart of r's precision over all items.
func drawChart(t *testing.T, r *evaluate.Report) image.Image {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, r.WriteChart(&buf, evaluate.Precision, evaluate.AllItems))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	return img
}

// inked reports whether the rectangle of img holds a pixel darker than
// light grey (text, lines, markers; the grid is lighter).
func inked(img image.Image, rect image.Rectangle) bool {
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xc000 || g < 0xc000 || b < 0xc000 {
				return true
			}
		}
	}
	return false
}

func constant(v float64) func(i, j int) float64 {
	return func(i, j int) float64 { return v * float64(i+1) }
}

// TestChartLegendFitsLongNames: the legend sat in a fixed strip of 150
// points, so long names ran off the image's right edge and two that
// differ at the end looked the same. The image grows to hold them.
func TestChartLegendFitsLongNames(t *testing.T) {
	names := []string{"engine-decay-90d-category-affinity-weight-0.25", "engine-decay-90d-category-affinity-weight-0.75"}
	img := drawChart(t, chartReport(names, 3, constant(0.1)))
	b := img.Bounds()
	assert.Greater(t, b.Dx(), 720, "wider than the usual chart")
	assert.Equal(t, 420, b.Dy())
	assert.False(t, inked(img, image.Rect(b.Max.X-8, b.Min.Y, b.Max.X, b.Max.Y)), "the legend reaches the right edge")

	// short names keep the usual size
	img = drawChart(t, chartReport([]string{"popular", "engine"}, 3, constant(0.1)))
	assert.Equal(t, image.Rect(0, 0, 720, 420), img.Bounds())
}

// TestChartLegendColumns: the legend ran past the bottom of the image
// from about 28 recommenders; it now runs in columns, clear of the
// bottom edge, up to MaxChartRows, and more is an error.
func TestChartLegendColumns(t *testing.T) {
	names := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("rec%02d", i))
		}
		return out
	}
	for _, n := range []int{40, evaluate.MaxChartRows} {
		img := drawChart(t, chartReport(names(n), 2, constant(0.01)))
		b := img.Bounds()
		assert.Equal(t, 420, b.Dy())
		// the plot spans the left 520 pixels; below the legend's
		// columns, the strip beside it stays blank
		assert.False(t, inked(img, image.Rect(530, b.Max.Y-10, b.Max.X, b.Max.Y)), "%d rows: the legend reaches the bottom edge", n)
	}
	var buf bytes.Buffer
	err := chartReport(names(evaluate.MaxChartRows+1), 2, constant(0.01)).WriteChart(&buf, evaluate.Precision, evaluate.AllItems)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprint(evaluate.MaxChartRows))
}

// TestChartElidesVeryLongNames: names beyond 48 characters lose their
// middle, but names that differ stay different, wherever they differ.
func TestChartElidesVeryLongNames(t *testing.T) {
	long := strings.Repeat("x", 200)
	names := []string{"a" + long + "a", "a" + long + "b", "b" + long + "a", "a" + long[:100] + "y" + long[101:] + "a"}
	img := drawChart(t, chartReport(names, 2, constant(0.1)))
	b := img.Bounds()
	assert.False(t, inked(img, image.Rect(b.Max.X-8, b.Min.Y, b.Max.X, b.Max.Y)), "the legend reaches the right edge")
	// the shown names are not exported: what the image says is that the
	// last name, which differs only in the middle, made room for itself
	short := drawChart(t, chartReport(names[:3], 2, constant(0.1)))
	assert.Greater(t, b.Dx(), short.Bounds().Dx(), "the name differing in the middle is shown longer")
	assert.Less(t, short.Bounds().Dx(), 1200, "names differing at the ends are elided")
}

// TestChartSkipsPointsWithoutCustomers: a point whose selection has no
// evaluated customer ("-" in the table) was drawn as a 0; it is left out,
// whatever its value, and a chart with no such point at all is an error.
func TestChartSkipsPointsWithoutCustomers(t *testing.T) {
	withValue := func(v float64) *evaluate.Report {
		r := chartReport([]string{"engine", "popular"}, 3, constant(0.1))
		r.Rows[0].Curve[evaluate.AllItems][1] = evaluate.Metrics{Users: 0, Precision: v}
		return r
	}
	var zero, other bytes.Buffer
	require.NoError(t, withValue(0).WriteChart(&zero, evaluate.Precision, evaluate.AllItems))
	require.NoError(t, withValue(0.9).WriteChart(&other, evaluate.Precision, evaluate.AllItems))
	assert.True(t, bytes.Equal(zero.Bytes(), other.Bytes()), "the value of a point without customers is drawn")

	r := chartReport([]string{"engine"}, 2, constant(0))
	for it := range r.Rows[0].Curve {
		for j := range r.Rows[0].Curve[it] {
			r.Rows[0].Curve[it][j].Users = 0
		}
		r.Rows[0].Metrics[it].Users = 0
	}
	var md, buf bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&md, evaluate.RepeatItems, evaluate.Precision))
	require.Contains(t, md.String(), "| engine | - |")
	assert.Error(t, r.WriteChart(&buf, evaluate.Precision, evaluate.RepeatItems))

	// a recommender without customers among others: no line, a note
	r.Rows = append(r.Rows, chartReport([]string{"popular"}, 2, constant(0.1)).Rows...)
	assert.NoError(t, r.WriteChart(&buf, evaluate.Precision, evaluate.RepeatItems))
}
