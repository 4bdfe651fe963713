package evaluate

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chartPalette holds the recommenders' colours, in row order: the
// Okabe–Ito palette (distinct for colour-blind readers), then darker and
// further tones, 16 in all; rows beyond repeat them with another marker.
var chartPalette = [...]color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xe6, 0x9f, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xd5, 0x5e, 0x00, 0xff},
	{0xcc, 0x79, 0xa7, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0xc8, 0xb4, 0x00, 0xff}, {0x00, 0x00, 0x00, 0xff},
	{0x88, 0x88, 0x88, 0xff}, {0x1a, 0x1a, 0x80, 0xff}, {0x99, 0x11, 0x11, 0xff}, {0x00, 0x64, 0x00, 0xff},
	{0x88, 0x44, 0xaa, 0xff}, {0x80, 0x80, 0x00, 0xff}, {0x00, 0x99, 0x99, 0xff}, {0xff, 0x44, 0x88, 0xff},
}

// chartGlyphs are the markers, changed each time the palette wraps.
var chartGlyphs = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}

// intTicks labels every step-th integer (and 1).
type intTicks struct{ step int }

func (t intTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for v := int(lo); float64(v) <= hi; v++ {
		tk := plot.Tick{Value: float64(v)}
		if v == 1 || v%t.step == 0 {
			tk.Label = fmt.Sprint(v)
		}
		out = append(out, tk)
	}
	return out
}

// MaxChartRows is the largest number of recommenders [Report.WriteChart]
// draws: the 16 colours times the 4 markers, beyond which two lines would
// look alike.
const MaxChartRows = len(chartPalette) * len(chartGlyphs) // 64

// maxLegendRunes is the length up to which the legend shows a name whole.
const maxLegendRunes = 48

// WriteChart writes a PNG line chart of metric@K for K = 1 … CurveK, one
// line per recommender (legend beside the plot), for the relevant items
// selected by items. It needs a Report made with [Options.CurveK] > 0
// (every row a curve of CurveK points, as [Evaluate] makes them), one of
// the named metrics and at most [MaxChartRows] rows; other reports are an
// error. A point whose selection has no evaluated customer (Users 0,
// "-" in [Report.WriteMarkdown]) is left out rather than drawn at 0; a
// recommender without any such point gets no line and the legend says
// so, and a chart where no point has a customer is an error.
//
// The image is 720×420 pixels, drawn with gonum.org/v1/plot, and is
// deterministic. The legend shows every name whole up to 48 characters,
// longer ones with their middle elided ("…"), keeping as many characters
// as names that differ need to look different; the image grows wider
// when the names need more room than its 150-point strip, and the legend
// runs in columns when the recommenders are more than one column holds
// (about 20).
func (r *Report) WriteChart(w io.Writer, metric Metric, items Items) error {
	if r.CurveK == 0 {
		return errors.New("evaluate: chart needs a report made with Options.CurveK > 0")
	}
	if !items.valid() {
		return fmt.Errorf("evaluate: invalid Items %d", int(items))
	}
	if !metric.valid() {
		return fmt.Errorf("evaluate: unknown metric %v", metric)
	}
	if len(r.Rows) == 0 {
		return errors.New("evaluate: chart of a report without recommenders")
	}
	if len(r.Rows) > MaxChartRows {
		return fmt.Errorf("evaluate: chart of %d recommenders: at most %d have distinct line styles", len(r.Rows), MaxChartRows)
	}
	for _, row := range r.Rows {
		if n := len(row.Curve[items]); n != r.CurveK {
			return fmt.Errorf("evaluate: chart: recommender %q has a curve of %d points, not CurveK = %d", row.Name, n, r.CurveK)
		}
	}
	p := plot.New()
	p.Title.Text = metric.String() + " at k, " + items.String() + " items"
	if !metric.atK() {
		p.Title.Text = metric.String() + " of the top-k lists, " + items.String() + " items"
	}
	p.X.Label.Text = "k (length of the recommendation list)"
	p.Y.Label.Text = metric.String()
	p.Add(plotter.NewGrid())
	names := legendNames(r.Rows)
	var entries []legendEntry
	top, drawn := 0.0, false
	for i, row := range r.Rows {
		var pts plotter.XYs
		for j, m := range row.Curve[items] {
			if m.Users == 0 {
				continue // no customer: "-" in the table, not a 0
			}
			pts = append(pts, plotter.XY{X: float64(j + 1), Y: m.Value(metric)})
			top = max(top, m.Value(metric))
		}
		if len(pts) == 0 {
			entries = append(entries, legendEntry{name: names[i] + " (no customers)"})
			continue
		}
		drawn = true
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("evaluate: chart of %s: %w", row.Name, err)
		}
		c := chartPalette[i%len(chartPalette)]
		l.Color, s.Color = c, c
		l.Width = vg.Points(1.5)
		s.Shape = chartGlyphs[i/len(chartPalette)%len(chartGlyphs)]
		s.Radius = vg.Points(2)
		p.Add(l, s)
		entries = append(entries, legendEntry{name: names[i], thumbs: []plot.Thumbnailer{l, s}})
	}
	if !drawn {
		return fmt.Errorf("evaluate: chart of %v: no evaluated customer has %s items, nothing to draw", metric, items)
	}
	p.X.Min, p.X.Max = 1, float64(max(r.CurveK, 2))
	p.X.Tick.Marker = intTicks{step: max(1, r.CurveK/10)}
	p.Y.Min, p.Y.Max = 0, max(top*1.05, 1e-3)

	// The plot on the left, 390 points wide (540 in all with the
	// legend's usual strip), the legend on the right, level with the
	// plot's top, in as many columns as its entries need, each as wide as
	// its longest entry.
	const (
		plotW   = 390
		height  = 315
		margin  = 8 // before the legend, between its columns
		minStrp = 150
	)
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.YOffs = -p.Title.TextStyle.FontExtents().Height * 2
	enth := leg.TextStyle.FontExtents().Height
	perCol := max(1, int((vg.Points(height)+leg.YOffs-vg.Points(margin))/enth))
	var cols []plot.Legend
	var colW []vg.Length
	for k, e := range entries {
		if k%perCol == 0 {
			cols = append(cols, leg)
			colW = append(colW, 0)
		}
		c := len(cols) - 1
		cols[c].Add(e.name, e.thumbs...)
		colW[c] = max(colW[c], leg.ThumbnailWidth+leg.TextStyle.Width(" "+e.name)+vg.Points(margin))
	}
	stripW := vg.Points(2 * margin) // before the legend and after it
	for _, cw := range colW {
		stripW += cw
	}
	stripW = max(stripW, vg.Points(minStrp))
	img := vgimg.NewWith(vgimg.UseWH(vg.Points(plotW)+stripW, vg.Points(height)), vgimg.UseDPI(96))
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -stripW, 0, 0))
	x := dc.Max.X - stripW + vg.Points(margin)
	for c := range cols {
		cols[c].Draw(draw.Crop(dc, x-dc.Min.X, 0, 0, 0))
		x += colW[c]
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// legendEntry is one entry of the chart's legend.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// legendNames returns the rows' names as the chart's legend shows them:
// whole up to maxLegendRunes runes, longer ones with their middle elided,
// keeping more runes of the names that would look like another name
// until names that differ look different.
func legendNames(rows []Row) []string {
	out := make([]string, len(rows))
	keep := make([]int, len(rows))
	for i := range keep {
		keep[i] = maxLegendRunes
	}
	for {
		first := make(map[string]int, len(rows)) // shown → first row
		for i, row := range rows {
			out[i] = elide(row.Name, keep[i])
			if _, ok := first[out[i]]; !ok {
				first[out[i]] = i
			}
		}
		clash := false
		for i, row := range rows {
			if f := first[out[i]]; rows[f].Name != row.Name {
				// ends: at keep ≥ their lengths both names are whole
				keep[i] += 8
				keep[f] += 8
				clash = true
			}
		}
		if !clash {
			return out
		}
	}
}

// elide returns s whole if it has at most keep runes, or its first and
// last runes around "…", keep runes in all.
func elide(s string, keep int) string {
	rs := []rune(s)
	if len(rs) <= keep {
		return s
	}
	head := (keep - 1) / 2
	return string(rs[:head]) + "…" + string(rs[len(rs)-(keep-1-head):])
}
