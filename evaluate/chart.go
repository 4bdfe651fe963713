package evaluate

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"unicode"
)

// Chart geometry, in pixels.
const (
	chartW, chartH           = 720, 420
	plotL, plotR             = 56, 520 // plot area x range
	plotT, plotB             = 36, 384 // plot area y range
	glyphScale               = 2       // font pixels per glyph pixel
	glyphW, glyphH, glyphGap = 3, 5, 1
)

var (
	chartPalette = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xff, 0x7f, 0x0e, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
		{0xbc, 0xbd, 0x22, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0x00, 0x00, 0x80, 0xff}, {0x80, 0x00, 0x00, 0xff},
		{0x00, 0x64, 0x00, 0xff}, {0x00, 0x00, 0x00, 0xff},
	}
	chartInk  = color.RGBA{0x30, 0x30, 0x30, 0xff}
	chartGrid = color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
)

// WriteChart writes a PNG line chart of metric@K for K = 1 … CurveK, one
// line per recommender (legend on the right), for the relevant items
// selected by items. It needs a Report made with [Options.CurveK] > 0.
// The image is 720×420 pixels, drawn with the standard library only (a
// built-in 3×5 pixel font for the labels) and is deterministic.
func (r *Report) WriteChart(w io.Writer, metric Metric, items Items) error {
	if r.CurveK == 0 {
		return errors.New("evaluate: chart needs a report made with Options.CurveK > 0")
	}
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	fill(img, img.Bounds(), color.RGBA{0xff, 0xff, 0xff, 0xff})

	top := 0.0
	for _, row := range r.Rows {
		for _, m := range row.Curve[items] {
			top = max(top, m.Value(metric))
		}
	}
	step, top := niceScale(top)
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	x := func(k int) int {
		if r.CurveK == 1 {
			return (plotL + plotR) / 2
		}
		return plotL + (k-1)*(plotR-plotL)/(r.CurveK-1)
	}
	y := func(v float64) int { return plotB - int(math.Round(v/top*float64(plotB-plotT))) }

	// grid and y labels
	for v := 0.0; v <= top+step/2; v += step {
		yy := y(v)
		hline(img, plotL, plotR, yy, chartGrid)
		label := strconv.FormatFloat(v, 'f', decimals, 64)
		drawText(img, plotL-6-textWidth(label), yy-glyphH*glyphScale/2, label, chartInk)
	}
	// x axis labels
	every := 1
	if r.CurveK > 10 {
		every = 5
	}
	for k := 1; k <= r.CurveK; k++ {
		if k != 1 && k%every != 0 {
			continue
		}
		vline(img, x(k), plotB, plotB+4, chartInk)
		label := strconv.Itoa(k)
		drawText(img, x(k)-textWidth(label)/2, plotB+8, label, chartInk)
	}
	hline(img, plotL, plotR, plotB, chartInk)
	vline(img, plotL, plotT, plotB, chartInk)
	title := metric.String() + " at k, " + items.String() + " items"
	if !metric.atK() {
		title = metric.String() + " of the top-k lists, " + items.String() + " items"
	}
	drawText(img, plotL, 10, title, chartInk)

	for i, row := range r.Rows {
		c := chartPalette[i%len(chartPalette)]
		curve := row.Curve[items]
		for j, m := range curve {
			px, py := x(j+1), y(m.Value(metric))
			fill(img, image.Rect(px-2, py-2, px+3, py+3), c)
			if j > 0 {
				line(img, x(j), y(curve[j-1].Value(metric)), px, py, c)
			}
		}
		ly := plotT + i*(glyphH*glyphScale+8)
		fill(img, image.Rect(plotR+16, ly, plotR+28, ly+glyphH*glyphScale), c)
		drawText(img, plotR+34, ly, row.Name, chartInk)
	}
	return png.Encode(w, img)
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten and the
// axis top, a multiple of the step at or above v, with at most 6 ticks.
func niceScale(v float64) (step, top float64) {
	if v <= 0 {
		return 0.2, 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v/5)))
	for _, f := range []float64{1, 2, 5, 10} {
		step = f * mag
		if v/step <= 5 {
			break
		}
	}
	return step, math.Ceil(v/step-1e-9) * step
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	fill(img, image.Rect(x0, y, x1+1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	fill(img, image.Rect(x, y0, x+1, y1+1), c)
}

// line draws a two-pixel-wide segment (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fill(img, image.Rect(x0, y0, x0+2, y0+2), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func textWidth(s string) int {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return (n*(glyphW+glyphGap) - glyphGap) * glyphScale
}

// drawText draws s with the built-in font, top-left at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, ch := range s {
		g, ok := glyphs[unicode.ToLower(ch)]
		if !ok {
			g = glyphs['?']
		}
		for row := range glyphH {
			for col := range glyphW {
				if g>>(uint(glyphH-1-row)*glyphW+uint(glyphW-1-col))&1 == 1 {
					fill(img, image.Rect(x+col*glyphScale, y+row*glyphScale, x+(col+1)*glyphScale, y+(row+1)*glyphScale), c)
				}
			}
		}
		x += (glyphW + glyphGap) * glyphScale
	}
}

// glyphs is a 3×5 pixel font: five rows of three bits, top row first.
var glyphs = map[rune]uint16{
	'0': 0b111_101_101_101_111, '1': 0b010_110_010_010_111, '2': 0b111_001_111_100_111,
	'3': 0b111_001_111_001_111, '4': 0b101_101_111_001_001, '5': 0b111_100_111_001_111,
	'6': 0b111_100_111_101_111, '7': 0b111_001_001_001_001, '8': 0b111_101_111_101_111,
	'9': 0b111_101_111_001_111, 'a': 0b010_101_111_101_101, 'b': 0b110_101_110_101_110,
	'c': 0b011_100_100_100_011, 'd': 0b110_101_101_101_110, 'e': 0b111_100_110_100_111,
	'f': 0b111_100_110_100_100, 'g': 0b011_100_101_101_011, 'h': 0b101_101_111_101_101,
	'i': 0b111_010_010_010_111, 'j': 0b001_001_001_101_010, 'k': 0b101_101_110_101_101,
	'l': 0b100_100_100_100_111, 'm': 0b101_111_111_101_101, 'n': 0b110_101_101_101_101,
	'o': 0b010_101_101_101_010, 'p': 0b110_101_110_100_100, 'q': 0b010_101_101_110_011,
	'r': 0b110_101_110_101_101, 's': 0b011_100_010_001_110, 't': 0b111_010_010_010_010,
	'u': 0b101_101_101_101_111, 'v': 0b101_101_101_101_010, 'w': 0b101_101_111_111_101,
	'x': 0b101_101_010_101_101, 'y': 0b101_101_010_010_010, 'z': 0b111_001_010_100_111,
	'-': 0b000_000_111_000_000, '.': 0b000_000_000_000_010, '@': 0b010_101_111_100_011,
	'/': 0b001_001_010_100_100, '(': 0b010_100_100_100_010, ')': 0b010_001_001_001_010,
	' ': 0, '_': 0b000_000_000_000_111, '=': 0b000_111_000_111_000, ':': 0b000_010_000_010_000,
	',': 0b000_000_000_010_100, '?': 0b111_001_010_000_010, '+': 0b000_010_111_010_000,
}
