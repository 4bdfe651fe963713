package main

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// legendClear reports whether the legend of p, drawn at the chart size,
// stays off every value of vals at the nominal positions, each bar pair
// taking half a slot either side: the legend's box in data units against
// the bars' ends.
func legendClear(t *testing.T, p *plot.Plot, horizontal bool, vals ...[]float64) bool {
	t.Helper()
	data := p.DataCanvas(draw.New(vgimg.New(chartW, chartH)))
	leg := p.Legend.Rectangle(data).Size()
	w, h := float64(data.Size().X), float64(data.Size().Y)
	// the legend's box, top right, as shares of the data area
	left := 1 - float64(leg.X-p.Legend.XOffs)/w
	bottom := 1 - float64(leg.Y-p.Legend.YOffs)/h
	cat, val := p.X, p.Y
	if horizontal {
		cat, val = p.Y, p.X
		left, bottom = bottom, left
	}
	for _, v := range vals {
		for i, x := range v {
			slotHi := (float64(i) + 0.5 - cat.Min) / (cat.Max - cat.Min)
			end := (x - val.Min) / (val.Max - val.Min)
			if slotHi > left && end > bottom {
				return false
			}
		}
	}
	return true
}

func TestRoomForLegend(t *testing.T) {
	for _, horizontal := range []bool{true, false} {
		for _, c := range []struct {
			name string
			a, b []float64
		}{
			{"tallest at the legend", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3}, []float64{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 41}},
			{"tallest far from it", []float64{40, 2, 3, 1}, []float64{41, 3, 4, 2}},
			{"one slot", []float64{5}, []float64{7}},
			{"all equal", []float64{3, 3, 3}, []float64{3, 3, 3}},
		} {
			p := plot.New()
			p.Title.Text = "a title"
			require.NoError(t, bars(plotter.Values(c.a), plotter.Values(c.b), "customers", "revenue (24 months), a long label", horizontal, p))
			cat, val := &p.X, &p.Y
			if horizontal {
				cat, val = &p.Y, &p.X
			}
			cat.Min, cat.Max = -0.5, float64(len(c.a))-0.5
			val.Min, val.Max = 0, 1.05*max(slices.Max(c.a), slices.Max(c.b))
			before := val.Max
			roomForLegend(p, slotsTop(c.a, c.b), horizontal)
			assert.True(t, legendClear(t, p, horizontal, c.a, c.b), "%s, horizontal %v: the legend covers a bar (axis max %g)", c.name, horizontal, val.Max)
			assert.GreaterOrEqual(t, val.Max, before, "the axis is never shortened")
			if c.name == "tallest far from it" && !horizontal {
				// the legend is over the last slots: only their bars count
				assert.Equal(t, before, val.Max, "no room is added when the bars under the legend are low")
			}
		}
	}
}

// TestRoomForLegendTinyPicture: a legend that takes nearly all the data
// area leaves the axis as it was rather than stretching it without end.
func TestRoomForLegendTinyPicture(t *testing.T) {
	p := plot.New()
	require.NoError(t, bars(plotter.Values{1}, plotter.Values{2}, "a label far longer than any chart of eight inches could hold beside its bars, and then some more words", "b", true, p))
	p.X.Min, p.X.Max = 0, 2
	roomForLegend(p, slotsTop([]float64{1}, []float64{2}), true)
	assert.Equal(t, 2.0, p.X.Max)
}
