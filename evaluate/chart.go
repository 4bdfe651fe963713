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
var chartPalette = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xe6, 0x9f, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xd5, 0x5e, 0x00, 0xff},
	{0xcc, 0x79, 0xa7, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0xc8, 0xb4, 0x00, 0xff}, {0x00, 0x00, 0x00, 0xff},
	{0x88, 0x88, 0x88, 0xff}, {0x1a, 0x1a, 0x80, 0xff}, {0x99, 0x11, 0x11, 0xff}, {0x00, 0x64, 0x00, 0xff},
	{0x88, 0x44, 0xaa, 0xff}, {0x80, 0x80, 0x00, 0xff}, {0x00, 0x99, 0x99, 0xff}, {0xff, 0x44, 0x88, 0xff},
}

// chartGlyphs are the markers, changed each time the palette wraps.
var chartGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}

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

// WriteChart writes a PNG line chart of metric@K for K = 1 … CurveK, one
// line per recommender (legend beside the plot), for the relevant items
// selected by items. It needs a Report made with [Options.CurveK] > 0
// (every row a curve of CurveK points, as [Evaluate] makes them) and one
// of the named metrics; other reports are an error.
// The image is 720×420 pixels, drawn with gonum.org/v1/plot, and is
// deterministic.
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
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	top := 0.0
	for i, row := range r.Rows {
		curve := row.Curve[items]
		pts := make(plotter.XYs, len(curve))
		for j, m := range curve {
			pts[j].X, pts[j].Y = float64(j+1), m.Value(metric)
			top = max(top, pts[j].Y)
		}
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
		leg.Add(row.Name, l, s)
	}
	p.X.Min, p.X.Max = 1, float64(max(r.CurveK, 2))
	p.X.Tick.Marker = intTicks{step: max(1, r.CurveK/10)}
	p.Y.Min, p.Y.Max = 0, max(top*1.05, 1e-3)

	// 720×420 pixels: the plot on the left, the legend in a strip on the
	// right, level with the plot's top.
	const legendW = 150
	img := vgimg.NewWith(vgimg.UseWH(7.5*vg.Inch, 4.375*vg.Inch), vgimg.UseDPI(96))
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -vg.Points(legendW), 0, 0))
	leg.YOffs = -p.Title.TextStyle.FontExtents().Height * 2
	leg.Draw(draw.Crop(dc, dc.Max.X-vg.Points(legendW)+vg.Points(8), 0, 0, 0))
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
