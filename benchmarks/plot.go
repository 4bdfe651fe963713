package benchmarks

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// palette holds clearly distinct colours (Okabe–Ito, readable by most
// colour-blind readers) and black.
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 0, 0, 255},       // black
	color.RGBA{140, 140, 140, 255}, // grey
	color.RGBA{136, 34, 85, 255},   // wine
}

// series is one line of a chart.
type series struct {
	name   string
	xy     plotter.XYs
	colour int
	dashed bool
}

// logTicks labels powers of ten as plain numbers ("10k", "1M", "1 ms").
type logTicks struct{ format func(float64) string }

func (t logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow(10, e)
		if v >= min*0.999 && v <= max*1.001 {
			ticks = append(ticks, plot.Tick{Value: v, Label: t.format(v)})
		}
		for m := 2.0; m < 10; m++ {
			if w := m * v; w >= min && w <= max {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	return ticks
}

// lineLabel labels a power of ten of lines: 10k, 100k, 1M, 10M.
func lineLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func secondsLabel(v float64) string {
	switch {
	case v >= 1:
		return strconv.FormatFloat(v, 'f', -1, 64) + " s"
	case v >= 1e-3:
		return strconv.FormatFloat(v*1e3, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(v*1e6, 'f', -1, 64) + " µs"
}

// newChart returns a log-log line chart of ss whose axes span whole
// decades (so that every axis shows labelled powers of ten), and its legend
// entries.
func newChart(title, xLabel, yLabel string, yFormat func(float64) string, ss []series, titleSize float64) (*plot.Plot, *plot.Legend, error) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(titleSize)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Label.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = logTicks{lineLabel}
	p.Y.Tick.Marker = logTicks{yFormat}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.TextStyle.Font.Size = vg.Points(12)
	legend.Top, legend.Left = true, true
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		if len(s.xy) == 0 {
			continue
		}
		for _, q := range s.xy {
			xmin, xmax = min(xmin, q.X), max(xmax, q.X)
			ymin, ymax = min(ymin, q.Y), max(ymax, q.Y)
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.name, err)
		}
		c := palette[s.colour%len(palette)]
		l.Color, pts.Color = c, c
		l.Width = vg.Points(2)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(3)
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			pts.Shape = draw.BoxGlyph{}
		}
		p.Add(l, pts)
		legend.Add(s.name, l, pts)
	}
	if !math.IsInf(xmin, 0) {
		decade := func(v float64, up bool) float64 {
			if up {
				return math.Pow(10, math.Ceil(math.Log10(v)-1e-9))
			}
			return math.Pow(10, math.Floor(math.Log10(v)+1e-9))
		}
		// the nominal sizes lie a little off their decade (10,010,071
		// lines): the x axis ends at the nearest decade, the y axis at
		// whole decades around the data.
		p.X.Min = min(xmin, math.Pow(10, math.Round(math.Log10(xmin))))
		p.X.Max = max(xmax, math.Pow(10, math.Round(math.Log10(xmax))))
		p.Y.Min, p.Y.Max = decade(ymin, false), decade(ymax, true)
	}
	return p, &legend, nil
}

// chart draws a log-log line chart of ss to path, with the legend in a
// column to the right of the plot so that it never hides a line.
func chart(path, title, xLabel, yLabel string, yFormat func(float64) string, ss []series) error {
	p, legend, err := newChart(title, xLabel, yLabel, yFormat, ss, 15)
	if err != nil {
		return err
	}
	const w, h, lw = 12 * vg.Inch, 6 * vg.Inch, 3.6 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	legend.Draw(draw.Crop(dc, w-lw+vg.Points(8), 0, -vg.Points(40), 0))
	return savePNG(path, img)
}

func savePNG(path string, img *vgimg.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Plot writes steps.png (time of every build step against lines),
// queries.png (time of each question, affinity against DuckDB) and
// memory.png (peak resident memory) to dir. Runs must be sorted by size.
func Plot(dir string, runs []*Run) error {
	var steps []series
	add := func(way string, res func(*Run) *Result, names []string, dashed bool, colour int) int {
		for _, name := range names {
			if name == "recommend one" {
				continue
			}
			s := series{name: way + " " + name, colour: colour, dashed: dashed}
			for _, r := range runs {
				if st, ok := step(res(r), name); ok && st.Seconds > 0 {
					s.xy = append(s.xy, plotter.XY{X: float64(r.Shop.Rows), Y: st.Seconds})
				}
			}
			steps = append(steps, s)
			colour++
		}
		return colour
	}
	c := add("affinity", func(r *Run) *Result { return r.Affinity }, AffinitySteps, false, 0)
	add("DuckDB", func(r *Run) *Result { return r.Duck }, DuckSteps, true, c)
	if err := chart(filepath.Join(dir, "steps.png"), "Build steps: time against size (log-log)",
		"order lines", "wall-clock time", secondsLabel, steps); err != nil {
		return err
	}

	if err := queryTiles(filepath.Join(dir, "queries.png"), runs); err != nil {
		return err
	}

	mem := []series{{name: "affinity, load to segment index", colour: 0}, {name: "DuckDB, load + precompute", colour: 1, dashed: true}, {name: "naive Go, load + features", colour: 2}}
	for _, r := range runs {
		t := r.Totals()
		x := float64(r.Shop.Rows)
		mem[0].xy = append(mem[0].xy, plotter.XY{X: x, Y: t.AffinityPeak})
		mem[1].xy = append(mem[1].xy, plotter.XY{X: x, Y: t.DuckPeak})
		naive := 0.0
		for _, name := range NaiveSteps[:2] {
			s, _ := step(r.Naive, name)
			naive = max(naive, s.PeakMB)
		}
		if naive > 0 {
			mem[2].xy = append(mem[2].xy, plotter.XY{X: x, Y: naive})
		}
	}
	return chart(filepath.Join(dir, "memory.png"), "Peak resident memory against size (log-log)",
		"order lines", "peak resident set (MiB)", func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, mem)
}

// queryTiles draws one log-log panel per question with the median time of
// each way against size, and the legend in the sixth panel.
func queryTiles(path string, runs []*Run) error {
	ways := []struct {
		name, key string
		res       func(*Run) *Result
		colour    int
		dashed    bool
	}{
		{"affinity segment index", "affinity", func(r *Run) *Result { return r.Affinity }, 0, false},
		{"DuckDB, precomputed tables", Precomputed.String(), func(r *Run) *Result { return r.Duck }, 1, true},
		{"DuckDB, raw lines", Raw.String(), func(r *Run) *Result { return r.Duck }, 6, true},
		{"naive Go scan", "naive", func(r *Run) *Result { return r.Naive }, 2, false},
	}
	titles := map[Question]string{
		QShare:       "(a) category share ≥ 30 %",
		QRecent:      "(b) last purchase 14–28 days ago",
		QCoupon:      "(c) (a) and (b), no sub-category in 90 d",
		QRFM:         "(d) RFM R×F cells (NTILE 5)",
		QCouponStats: "(e) count and spend of (c)",
	}
	const rows, cols = 2, 3
	const w, h = 15 * vg.Inch, 9 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	titleFont := plot.DefaultFont
	titleFont.Size = vg.Points(18)
	dc.FillText(draw.TextStyle{Color: color.Black, Font: titleFont, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter},
		vg.Point{X: w / 2, Y: h - vg.Points(26)}, "Marketer questions: median time against size (log-log), affinity against DuckDB")
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(18), PadY: vg.Points(18), PadTop: vg.Points(40), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12)}
	var legend *plot.Legend
	for i, q := range Questions {
		var ss []series
		for _, wy := range ways {
			s := series{name: wy.name, colour: wy.colour, dashed: wy.dashed}
			for _, r := range runs {
				if st, ok := wy.res(r).Queries[wy.key+"/"+string(q)]; ok && st.Seconds > 0 {
					s.xy = append(s.xy, plotter.XY{X: float64(r.Shop.Rows), Y: st.Seconds})
				}
			}
			ss = append(ss, s)
		}
		p, l, err := newChart(titles[q], "order lines", "median time", secondsLabel, ss, 14)
		if err != nil {
			return err
		}
		legend = l
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(15)
	lc := tiles.At(dc, 2, 1)
	legend.Draw(draw.Crop(lc, vg.Points(30), 0, 0, -vg.Points(40)))
	return savePNG(path, img)
}
