package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/atomicfile"
	"github.com/shopaffinity/affinity/shop"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
	"gonum.org/v1/plot/vg/vgimg"
)

// Two colours that stay distinct for colour-blind readers (blue and
// orange of the Okabe–Ito palette).
var (
	blue   = color.NRGBA{R: 0, G: 114, B: 178, A: 255}
	orange = color.NRGBA{R: 230, G: 159, B: 0, A: 255}
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// charts writes the four charts into dir, each replaced atomically, and
// returns their file names; a chart it does not draw is removed from dir
// (see the package doc).
func charts(ctx context.Context, dir string, snap *shop.Snapshot, res []campaign.Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	save := func(name string, p *plot.Plot, w, h vg.Length) error {
		files = append(files, name)
		margins(p)
		wt, err := p.WriterTo(w, h, "png")
		if err != nil {
			return err
		}
		return atomicfile.Write(filepath.Join(dir, name), func(w io.Writer) error {
			_, err := wt.WriteTo(w)
			return err
		})
	}
	// a chart not drawn: no stale one of an earlier run beside this run's
	remove := func(name string) error {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	p, err := rfmChart(ctx, snap)
	if err != nil {
		return nil, err
	}
	if err := save("rfm.png", p, chartW, chartH); err != nil {
		return nil, err
	}
	if err := cohortChart(ctx, filepath.Join(dir, "cohorts.png"), snap); err != nil {
		return nil, err
	}
	files = append(files, "cohorts.png")
	if p, err = clvChart(ctx, snap); err != nil {
		return nil, err
	}
	if p != nil { // nil: no customer has a positive CLV (a shop without prices)
		err = save("clv.png", p, chartW, chartH)
	} else {
		err = remove("clv.png")
	}
	if err != nil {
		return nil, err
	}
	if p, err = campaignChart(res); err != nil {
		return nil, err
	}
	if p != nil { // nil: no campaign has a control group to chart
		err = save("campaigns.png", p, chartW, chartH)
	} else {
		err = remove("campaigns.png")
	}
	if err != nil {
		return nil, err
	}
	return files, nil
}

// The size of the bar charts and the histogram.
const chartW, chartH = 8 * vg.Inch, 5 * vg.Inch

// margins keeps the title off the top edge and the legend off the title
// and the right edge.
func margins(p *plot.Plot) {
	p.Title.Padding = vg.Points(8)
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = -vg.Points(6)
}

// roomForLegend raises the maximum of p's value axis (X when horizontal,
// else Y) so that nothing drawn under the legend, in the top right
// corner of a chartW × chartH picture, reaches into it: top(lo, hi) is
// the highest value the chart draws at category positions between lo and
// hi. The legend's size is measured in the chart's fonts, so a long
// label or a wide bar at the legend's side gets the room it needs and no
// more.
func roomForLegend(p *plot.Plot, top func(lo, hi float64) float64, horizontal bool) {
	margins(p)
	data := p.DataCanvas(draw.NewCanvas(new(recorder.Canvas), chartW, chartH)) // measured, not drawn
	leg := p.Legend.Rectangle(data).Size()
	const gap = vg.Length(12)
	fw := float64(leg.X-p.Legend.XOffs+gap) / float64(data.Size().X) // share of the width the legend takes
	fh := float64(leg.Y-p.Legend.YOffs+gap) / float64(data.Size().Y)
	cat, val, fc, fv := &p.X, &p.Y, fw, fh
	if horizontal {
		cat, val, fc, fv = &p.Y, &p.X, fh, fw
	}
	if fv >= 0.9 {
		return // a picture too small for the legend: leave the axis as it is
	}
	hi := top(cat.Max-fc*(cat.Max-cat.Min), cat.Max)
	if need := val.Min + (hi-val.Min)/(1-fv); need > val.Max {
		val.Max = need
	}
}

// slotsTop returns a top function for roomForLegend over values drawn at
// the nominal positions 0, 1, …, each taking half a slot either side.
func slotsTop(vals ...[]float64) func(lo, hi float64) float64 {
	return func(lo, hi float64) float64 {
		top := math.Inf(-1)
		for _, v := range vals {
			for i, x := range v {
				if float64(i)+0.5 > lo && float64(i)-0.5 < hi && !math.IsNaN(x) {
					top = max(top, x)
				}
			}
		}
		return top
	}
}

// bars returns two bar series side by side on nominal positions.
// barWidth is the width of one bar of a pair.
const barWidth = vg.Length(16)

func bars(a, b plotter.Values, la, lb string, horizontal bool, p *plot.Plot) error {
	w := barWidth
	ba, err := plotter.NewBarChart(a, w)
	if err != nil {
		return err
	}
	bb, err := plotter.NewBarChart(b, w)
	if err != nil {
		return err
	}
	ba.Color, bb.Color = blue, orange
	ba.LineStyle.Width, bb.LineStyle.Width = 0, 0
	ba.Horizontal, bb.Horizontal = horizontal, horizontal
	ba.Offset, bb.Offset = -w/2, w/2
	if horizontal {
		// the first series on top of its pair
		ba.Offset, bb.Offset = w/2, -w/2
	}
	p.Add(plotter.NewGrid(), ba, bb) // grid first, under the bars
	p.Legend.Add(la, ba)
	p.Legend.Add(lb, bb)
	p.Legend.Top = true
	return nil
}

// rfmChart: each RFM segment's share of customers and of revenue.
func rfmChart(ctx context.Context, snap *shop.Snapshot) (*plot.Plot, error) {
	x, err := snap.SegmentIndex(ctx)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, errors.New("no segment index")
	}
	table := x.RFMTable()
	slices.Reverse(table) // first rule at the top
	var names []string
	var cust, rev plotter.Values
	for _, s := range table {
		names = append(names, s.Name)
		cust = append(cust, 100*s.Share)
		rev = append(rev, 100*s.RevenueShare)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("RFM segments as of %s: share of customers and of revenue", snap.AsOf().Format("2006-01-02"))
	p.X.Label.Text = "share (%)"
	p.Y.Label.Text = "RFM segment"
	if err := bars(cust, rev, "customers", "revenue (24 months)", true, p); err != nil {
		return nil, err
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5
	p.X.Min = 0
	p.X.Max = 1.05 * max(slices.Max(cust), slices.Max(rev))
	p.X.Tick.Marker = niceTicks{}
	p.Legend.Left = false
	roomForLegend(p, slotsTop(cust, rev), true)
	return p, nil
}

// cohortGrid is the cohort matrix as a heat map grid: x = months since
// acquisition (from 1), y = cohort (oldest at the top). A cell not
// observed in full is NaN: the months after asOf's, and asOf's own month
// unless asOf is its last instant (the last entry of each row of
// clv.Cohorts.Active, which the text output skips too).
type cohortGrid struct {
	c       *clv.Cohorts
	partial bool // the month of asOf has not ended at asOf
}

// newCohortGrid returns the grid of c, the cohorts as of asOf.
func newCohortGrid(c *clv.Cohorts, asOf time.Time) cohortGrid {
	next := asOf.Add(time.Nanosecond).UTC() // at asOf's last instant: its month's end
	return cohortGrid{c: c, partial: !next.Equal(time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC))}
}

func (g cohortGrid) Dims() (c, r int) { return len(g.c.Months) - 1, len(g.c.Months) }
func (g cohortGrid) X(c int) float64  { return float64(c + 1) }
func (g cohortGrid) Y(r int) float64  { return float64(r) }
func (g cohortGrid) Z(c, r int) float64 {
	i := len(g.c.Months) - 1 - r
	last := len(g.c.Active[i]) - 1
	if c+1 > last || (g.partial && c+1 == last) || g.c.Size[i] == 0 {
		return math.NaN()
	}
	return 100 * g.c.Rate(i, c+1)
}

type cohortTicks struct{ c *clv.Cohorts }

func (t cohortTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	n := len(t.c.Months)
	for r := range n {
		label := ""
		if i := n - 1 - r; i%3 == 0 || i == n-1 {
			label = t.c.Months[i].Format("2006-01")
		}
		out = append(out, plot.Tick{Value: float64(r), Label: label})
	}
	return out
}

// niceTicks labels about six round values (1, 2 or 5 × 10ⁿ apart), with
// an unlabelled tick between labels.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: fmt.Sprint(lo)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		l := math.Round(v/step) * step
		if l == 0 {
			l = 0 // not "-0"
		}
		out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%g", l)})
		if mid := v + step/2; mid <= hi {
			out = append(out, plot.Tick{Value: mid})
		}
	}
	return out
}

type everyTicks struct{ step int }

func (t everyTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for v := math.Ceil(min); v <= max; v++ {
		label := ""
		if int(v)%t.step == 0 || v == 1 {
			label = fmt.Sprint(int(v))
		}
		out = append(out, plot.Tick{Value: v, Label: label})
	}
	return out
}

// cohortChart draws the cohort retention heat map with its colour bar.
func cohortChart(ctx context.Context, path string, snap *shop.Snapshot) error {
	co, err := clv.CohortRetention(ctx, snap.History(), snap.AsOf())
	if err != nil {
		return err
	}
	if len(co.Months) < 2 {
		return errors.New("cohort chart: fewer than two months of data")
	}
	g := newCohortGrid(co, snap.AsOf())
	maxZ := 0.0
	cols, rows := g.Dims()
	for c := range cols {
		for r := range rows {
			if z := g.Z(c, r); z > maxZ {
				maxZ = z
			}
		}
	}
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(0)
	cm.SetMax(max(maxZ, 1))
	hm := plotter.NewHeatMap(g, cm.Palette(64))
	hm.Min, hm.Max = 0, max(maxZ, 1)
	hm.NaN = color.Gray{Y: 0xD8} // months not observed in full: not the palette's top, near white
	p := plot.New()
	p.Title.Text = "Cohort retention: % of each month's new customers buying again k months later\n" +
		"(grey: months not over by " + snap.AsOf().Format("2006-01-02") + ")"
	p.X.Label.Text = "months since first purchase (k)"
	p.Y.Label.Text = "cohort (month of first purchase)"
	p.Add(hm)
	p.X.Tick.Marker = everyTicks{3}
	p.Y.Tick.Marker = cohortTicks{co}

	bar := plot.New()
	bar.Title.Text = "%"
	bar.HideX()
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})

	const w, h = 9 * vg.Inch, 6 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -0.9*vg.Inch, 0, 0))
	bar.Draw(draw.Crop(dc, w-0.85*vg.Inch, 0, 0.4*vg.Inch, -0.3*vg.Inch))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

// clvChart: the distribution of 12-month CLV, split by P(alive), as the
// customers' profiles show them (the snapshot's value models); nil when
// the 98th percentile is 0 (a shop without prices).
func clvChart(ctx context.Context, snap *shop.Snapshot) (*plot.Plot, error) {
	h, asOf := snap.History(), snap.AsOf()
	v, err := snap.Value(ctx)
	if err != nil {
		return nil, err
	}
	var clvs, alive []float64
	for c := range h.NumCustomers() {
		if x, ok := v.Of(affinity.CustomerID(c)); ok {
			clvs = append(clvs, x.CLV)
			alive = append(alive, x.PAlive)
		}
	}
	if len(clvs) == 0 {
		return nil, errors.New("no customer with a value")
	}
	vals := slices.Clone(clvs)
	slices.Sort(vals)
	hi := vals[int(0.98*float64(len(vals)-1))] // the top 2 % would flatten the rest
	if !(hi > 0) {
		return nil, nil // no prices, or nobody expected to buy: nothing to chart
	}
	const n = 40
	width := hi / n
	all := make([]plotter.HistogramBin, n)
	low := make([]plotter.HistogramBin, n)
	for i := range all {
		all[i] = plotter.HistogramBin{Min: float64(i) * width, Max: float64(i+1) * width}
		low[i] = all[i]
	}
	nLow := 0
	for i, v := range clvs {
		b := min(int(v/width), n-1)
		if b < 0 {
			b = 0
		}
		all[b].Weight++
		if alive[i] < 0.5 {
			low[b].Weight++
			nLow++
		}
	}
	ha := &plotter.Histogram{Bins: all, Width: width, FillColor: blue}
	hl := &plotter.Histogram{Bins: low, Width: width, FillColor: orange}
	ha.LineStyle.Width, hl.LineStyle.Width = 0, 0
	p := plot.New()
	model := "BG/NBD"
	if v.BGNBD.Modified {
		model = "MBG/NBD"
	}
	p.Title.Text = fmt.Sprintf("Predicted 12-month CLV of %d customers (%s + Gamma-Gamma, as of %s)", len(vals), model, asOf.Format("2006-01-02"))
	p.X.Label.Text = fmt.Sprintf("CLV (currency units; the last bar holds everything above %.0f)", hi)
	p.Y.Label.Text = "customers"
	p.Add(ha, hl)
	p.Legend.Add(fmt.Sprintf("P(alive) ≥ 0.5 (%d)", len(vals)-nLow), ha)
	p.Legend.Add(fmt.Sprintf("P(alive) < 0.5 (%d)", nLow), hl)
	p.Legend.Top = true
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max = float64(n) * width
	for _, b := range all {
		p.Y.Max = max(p.Y.Max, 1.05*b.Weight)
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	roomForLegend(p, func(lo, hi float64) float64 {
		top := 0.0
		for _, b := range all {
			if b.Max > lo && b.Min < hi {
				top = max(top, b.Weight)
			}
		}
		return top
	}, false)
	return p, nil
}

// campaignChart: revenue per customer, treated against control, per
// campaign, with the interval of the difference (Result.IncrementalCI
// per treated customer, at Result.Confidence) as an error bar on the
// treated bar: where the treated bar may lie, the control's revenue
// taken as it is (none when a group has one customer, which has no
// variance to estimate). nil when no campaign has a control group.
func campaignChart(res []campaign.Result) (*plot.Plot, error) {
	names, t, c, eb, conf := campaignBars(res)
	if len(names) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Revenue per customer after the send: treated vs control"
	p.Y.Label.Text = "revenue per customer (currency units)"
	p.X.Label.Text = fmt.Sprintf("campaign (treated / control customers); bars on treated: the difference's %.0f %% interval", 100*conf)
	if slices.ContainsFunc(eb.lo, math.IsNaN) {
		p.X.Label.Text += "\n(none where a group has one customer)"
	}
	if err := bars(t, c, "treated (sent)", "control (held out)", false, p); err != nil {
		return nil, err
	}
	p.Add(eb)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5 // half a slot beside the outer pairs
	// revenue is net of the period's returns: a group that returned more
	// than it bought has a bar below 0, which must stay on the chart
	p.Y.Min, p.Y.Max = min(0, slices.Min(t), slices.Min(c)), max(0, slices.Max(t), slices.Max(c))
	for i := range eb.lo {
		if !math.IsNaN(eb.lo[i]) {
			p.Y.Min, p.Y.Max = min(p.Y.Min, eb.lo[i]), max(p.Y.Max, eb.hi[i])
		}
	}
	p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min)
	p.Y.Tick.Marker = niceTicks{}
	roomForLegend(p, slotsTop(t, c, eb.hi), false)
	return p, nil
}

// campaignBars returns the campaigns with a control group, their revenue
// per customer, treated and control, the intervals on the treated bars,
// and the intervals' confidence.
func campaignBars(res []campaign.Result) (names []string, t, c plotter.Values, eb *errorBars, conf float64) {
	eb = &errorBars{offset: -barWidth / 2}
	for _, r := range res {
		if r.Control.Customers == 0 {
			continue
		}
		names = append(names, fmt.Sprintf("%s\n(%d / %d)", r.Campaign, r.Treated.Customers, r.Control.Customers))
		t = append(t, r.Treated.RevenuePerCustomer)
		c = append(c, r.Control.RevenuePerCustomer)
		lo, hi := math.NaN(), math.NaN() // no interval for a group of one
		if n := float64(r.Treated.Customers); r.Treated.Customers > 1 && r.Control.Customers > 1 {
			lo, hi = r.Control.RevenuePerCustomer+r.IncrementalCI[0]/n, r.Control.RevenuePerCustomer+r.IncrementalCI[1]/n
		}
		eb.lo, eb.hi = append(eb.lo, lo), append(eb.hi, hi)
		if r.Confidence > 0 {
			conf = r.Confidence
		}
	}
	return names, t, c, eb, conf
}

// errorBars draws a vertical interval [lo[i], hi[i]] with caps at x = i,
// shifted by offset on the canvas (onto one bar of a pair); none where lo
// is NaN.
type errorBars struct {
	lo, hi []float64
	offset vg.Length
}

// Plot implements plot.Plotter.
func (e *errorBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	style := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	cw := barWidth / 4
	for i := range e.lo {
		if math.IsNaN(e.lo[i]) {
			continue
		}
		x := trX(float64(i)) + e.offset
		lo, hi := trY(e.lo[i]), trY(e.hi[i])
		c.StrokeLine2(style, x, lo, x, hi)
		c.StrokeLine2(style, x-cw, lo, x+cw, lo)
		c.StrokeLine2(style, x-cw, hi, x+cw, hi)
	}
}
