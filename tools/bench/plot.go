package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"time"
)

// The inks of the plot other than the series.
const (
	inkText = 0x20
	inkGrid = 0xdd
	inkAxis = 0x60
)

func grey(v uint8) color.RGBA { return color.RGBA{v, v, v, 0xff} }

// toolColor is the colour of a tool's series.
func toolColor(tool string) color.RGBA {
	switch tool {
	case "signet":
		return color.RGBA{0x1f, 0x5f, 0xbf, 0xff}
	case "cosign":
		return color.RGBA{0xe0, 0x70, 0x10, 0xff}
	case "notation":
		return color.RGBA{0x20, 0x90, 0x40, 0xff}
	}
	return color.RGBA{0x80, 0x20, 0x80, 0xff}
}

// panel is one chart of the plot: a metric of some operations against
// repository size.
type panel struct {
	title   string
	profile string   // ProfileLoopback or ProfileWAN
	ops     []string // the first found for a tool is drawn
	value   func(Result) float64
	unit    func(float64) string
}

const (
	panelW, panelH = 520, 330
	marginL        = 84
	marginR        = 34
	marginT        = 34
	marginB        = 44
	headerH        = 64
)

// Plot draws the report as a PNG: wall time of sign, cold verify and warm
// verify, and the bytes a cold verify transfers, each against repository
// size on log-log axes, one line per tool; and, when the report has a WAN
// profile, sign and cold verify wall time with every request delayed.
func (r *Report) Plot(w io.Writer) error {
	ms := func(x Result) float64 { return float64(x.Wall) / float64(time.Millisecond) }
	lb := ProfileLoopback
	panels := []panel{
		{"sign one more tag: wall time", lb, []string{OpSign}, ms, fmtMillis},
		{"verify one tag, cold: wall time", lb, []string{OpVerifyCold, OpVerify}, ms, fmtMillis},
		{"verify one tag, warm: wall time", lb, []string{OpVerifyWarm, OpVerify}, ms, fmtMillis},
		{"verify one tag, cold: bytes transferred", lb, []string{OpVerifyCold, OpVerify}, func(x Result) float64 { return float64(x.Bytes) }, fmtBytes},
	}
	if r.hasProfile(ProfileWAN) {
		wan := fmt.Sprintf("WAN (%s a request)", r.WANDelay)
		panels = append(panels,
			panel{wan + ": sign", ProfileWAN, []string{OpSign}, ms, fmtMillis},
			panel{wan + ": verify, cold", ProfileWAN, []string{OpVerifyCold, OpVerify}, ms, fmtMillis})
	}
	rows := (len(panels) + 1) / 2
	img := image.NewRGBA(image.Rect(0, 0, 2*panelW, headerH+rows*panelH))
	fill(img, img.Bounds(), color.RGBA{0xff, 0xff, 0xff, 0xff})
	f := font()
	drawText(img, f, 12, 10, "Cost per command against signed tags in the repository (medians, log-log)", grey(inkText), 2)
	when := fmt.Sprintf("%s, %d CPUs, %d runs", r.Date.Format("2006-01-02"), r.Machine.CPUs, r.Runs)
	drawText(img, f, img.Bounds().Dx()-12-12*len(when), 38, when, grey(inkAxis), 2)
	x := 12
	for _, tool := range r.tools() {
		c := toolColor(tool)
		fill(img, image.Rect(x, 42, x+24, 46), c)
		drawText(img, f, x+30, 38, tool, grey(inkText), 2)
		x += 30 + 12*len(tool) + 30
	}
	for i, p := range panels {
		ox, oy := (i%2)*panelW, headerH+(i/2)*panelH
		r.drawPanel(img, f, image.Rect(ox, oy, ox+panelW, oy+panelH), p)
	}
	return png.Encode(w, img)
}

// tools lists the tools measured, signet first.
func (r *Report) tools() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range append([]string{"signet"}, toolsOf(r.Results)...) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func toolsOf(rs []Result) []string {
	var out []string
	for _, x := range rs {
		out = append(out, x.Tool)
	}
	return out
}

// points returns, for each size, the value of the first of ops measured.
func (r *Report) points(tool string, p panel) [][2]float64 {
	var pts [][2]float64
	for _, size := range r.Sizes {
		for _, op := range p.ops {
			if x, ok := r.FindIn(p.profile, tool, op, size); ok {
				if v := p.value(x); v > 0 {
					pts = append(pts, [2]float64{float64(size), v})
				}
				break
			}
		}
	}
	return pts
}

func (r *Report) drawPanel(img *image.RGBA, f map[rune]glyph, b image.Rectangle, p panel) {
	drawText(img, f, b.Min.X+16, b.Min.Y+10, p.title, grey(inkText), 2)
	plot := image.Rect(b.Min.X+marginL, b.Min.Y+marginT, b.Max.X-marginR, b.Max.Y-marginB)
	series := map[string][][2]float64{}
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, tool := range r.tools() {
		pts := r.points(tool, p)
		series[tool] = pts
		for _, pt := range pts {
			ylo, yhi = math.Min(ylo, pt[1]), math.Max(yhi, pt[1])
		}
	}
	if math.IsInf(ylo, 0) || len(r.Sizes) == 0 {
		drawText(img, f, plot.Min.X+10, plot.Min.Y+20, "no data", grey(inkAxis), 2)
		return
	}
	y0, y1 := math.Floor(math.Log10(ylo)), math.Ceil(math.Log10(yhi))
	if y1 <= y0 {
		y1 = y0 + 1
	}
	x0, x1 := math.Floor(math.Log10(float64(r.Sizes[0]))), math.Ceil(math.Log10(float64(r.Sizes[len(r.Sizes)-1])))
	if x1 <= x0 {
		x1 = x0 + 1
	}
	px := func(v float64) int {
		return plot.Min.X + int(math.Round((math.Log10(v)-x0)/(x1-x0)*float64(plot.Dx())))
	}
	py := func(v float64) int {
		return plot.Max.Y - int(math.Round((math.Log10(v)-y0)/(y1-y0)*float64(plot.Dy())))
	}
	for e := y0; e <= y1; e++ {
		v := math.Pow(10, e)
		y := py(v)
		fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grey(inkGrid))
		label := p.unit(v)
		drawText(img, f, plot.Min.X-8-12*len(label), y-7, label, grey(inkText), 2)
	}
	for e := x0; e <= x1; e++ {
		x := px(math.Pow(10, e))
		fill(img, image.Rect(x, plot.Min.Y, x+1, plot.Max.Y), grey(inkGrid))
		label := fmtCount(math.Pow(10, e))
		drawText(img, f, x-6*len(label), plot.Max.Y+8, label, grey(inkText), 2)
	}
	drawText(img, f, plot.Max.X-12*len("signed tags"), plot.Max.Y+26, "signed tags", grey(inkAxis), 2)
	fill(img, image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+1, plot.Max.Y+1), grey(inkAxis))
	fill(img, image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), grey(inkAxis))
	for _, tool := range r.tools() {
		c, pts := toolColor(tool), series[tool]
		for i, pt := range pts {
			x, y := px(pt[0]), py(pt[1])
			fill(img, image.Rect(x-4, y-4, x+5, y+5), c)
			if i > 0 {
				line(img, px(pts[i-1][0]), py(pts[i-1][1]), x, y, c)
			}
		}
	}
}

func fmtMillis(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gs", v/1000)
	case v >= 1:
		return fmt.Sprintf("%gms", v)
	}
	return fmt.Sprintf("%gus", v*1000)
}

func fmtBytes(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gMB", math.Round(v/1e6*10)/10)
	case v >= 1000:
		return fmt.Sprintf("%gKB", math.Round(v/1e3*10)/10)
	}
	return fmt.Sprintf("%gB", v)
}

func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws a line three pixels wide from (x0, y0) to (x1, y1).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		fill(img, image.Rect(x-1, y-1, x+2, y+2), c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// drawText writes s with its top left at (x, y), each font pixel scale
// pixels wide; a character the font lacks is a box.
func drawText(img *image.RGBA, f map[rune]glyph, x, y int, s string, c color.RGBA, scale int) {
	for _, ch := range s {
		g, ok := f[ch]
		if !ok {
			g = glyph{0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f}
		}
		for row, bits := range g {
			for col := 0; col < 5; col++ {
				if bits&(1<<(4-col)) != 0 {
					fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
				}
			}
		}
		x += 6 * scale
	}
}
