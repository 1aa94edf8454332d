package admin

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/render"
)

// Chart is a small line or bar chart drawn on the server as SVG: axes, tick
// labels and a legend, role="img" with a <title>, and the numbers again in
// a table for people who cannot see the drawing.
type Chart struct {
	ID     string // unique in the page: ties the SVG to its title and description
	Title  string
	Labels []string // one per point, along the x axis
	// Unit says what the y axis counts ("signatures", "organizations",
	// "people"), written above it.
	Unit   string
	Series []Series
	Bars   bool // bars side by side per label instead of lines
}

// Series is one line (or one set of bars) of a chart.
type Series struct {
	Name   string
	Values []int64 // one per label
}

// Chart geometry, in viewBox units: the SVG scales to its box's width.
const (
	chartWidth, chartHeight = 560, 260
	chartLeft, chartRight   = 56, 12 // room for 50,000 at the left
	chartTop, chartBottom   = 12, 36
	chartUnitHeight         = 18 // above the plot when the chart has a Unit
	chartMaxBar             = 48 // the widest bar: one bucket alone is not a wall
	chartTicks              = 4  // horizontal grid lines above zero
	chartXLabels            = 6  // at most this many labels along x, so they do not overlap
)

// seriesColors tell the series apart; each has a contrast of at least 3:1
// on white, as graphics need.
var seriesColors = []string{"#1d3b2a", "#c8402b", "#1f5fa8", "#7a4f00"}

// point is one drawn value: where, and what it says.
type point struct {
	X, Y, W, H float64 // a bar's width and height; a line's point has none
	Label      string
}

// chartView is what chartTemplate draws.
type chartView struct {
	Chart
	Width, Height         int
	Left, Top, Right, Bot float64
	YTicks                []tick
	XTicks                []tick
	Lines                 []drawnSeries
	Empty                 bool
}

type tick struct {
	Pos   float64
	Label string
}

type drawnSeries struct {
	Name, Color string
	Points      []point
	Path        string // a line's polyline points
}

// yMax rounds the largest value up to a number the ticks divide evenly:
// 1, 2 or 5 times a power of ten, times chartTicks.
func yMax(largest int64) int64 {
	if largest <= chartTicks {
		return chartTicks
	}
	step := float64(largest) / chartTicks
	mag := math.Pow(10, math.Floor(math.Log10(step)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= step {
			return int64(m*mag) * chartTicks
		}
	}
	return largest
}

// layout places every value of c in the viewBox.
func (c Chart) layout() chartView {
	v := chartView{Chart: c, Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Top: chartTop, Right: chartWidth - chartRight, Bot: chartHeight - chartBottom}
	if c.Unit != "" {
		v.Top += chartUnitHeight
	}
	var largest int64
	for _, s := range c.Series {
		for _, n := range s.Values {
			largest = max(largest, n)
		}
	}
	v.Empty = len(c.Labels) == 0
	top := yMax(largest)
	plotW, plotH := v.Right-v.Left, v.Bot-v.Top
	y := func(n int64) float64 { return v.Bot - float64(n)/float64(top)*plotH }
	for i := 0; i <= chartTicks; i++ {
		n := top * int64(i) / chartTicks
		v.YTicks = append(v.YTicks, tick{Pos: y(n), Label: render.Number(n)})
	}
	n := len(c.Labels)
	// x is the centre of label i: bars fill a slot each, a line spans the width.
	x := func(i int) float64 {
		if c.Bars || n == 1 {
			return v.Left + (float64(i)+0.5)*plotW/float64(max(n, 1))
		}
		return v.Left + float64(i)*plotW/float64(n-1)
	}
	every := max(1, (n+chartXLabels-1)/chartXLabels)
	for i := 0; i < n; i += every {
		v.XTicks = append(v.XTicks, tick{Pos: x(i), Label: c.Labels[i]})
	}
	slot := plotW / float64(max(n, 1))
	barW := min(slot*0.8/float64(max(len(c.Series), 1)), chartMaxBar)
	groupW := barW * float64(len(c.Series))
	for si, s := range c.Series {
		d := drawnSeries{Name: s.Name, Color: seriesColors[si%len(seriesColors)]}
		var path bytes.Buffer
		for i, val := range s.Values {
			if i >= n {
				break
			}
			p := point{X: x(i), Y: y(val), Label: fmt.Sprintf("%s, %s: %s", c.Labels[i], s.Name, render.Number(val))}
			if c.Bars {
				p.X = x(i) - groupW/2 + float64(si)*barW
				p.W, p.H = barW, v.Bot-p.Y
			}
			fmt.Fprintf(&path, "%.1f,%.1f ", p.X, p.Y)
			d.Points = append(d.Points, p)
		}
		d.Path = path.String()
		v.Lines = append(v.Lines, d)
	}
	return v
}

// chartTemplate draws a chartView: the figure, its legend and its table.
var chartTemplate = template.Must(template.New("chart").Funcs(template.FuncMap{
	"f": func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
	"at": func(vs []int64, i int) string {
		if i < len(vs) {
			return render.Number(vs[i])
		}
		return "0"
	},
}).Parse(`<figure class="chart">
{{- if .Empty }}<p class="hint">Nothing to chart yet.</p>{{ else }}
<svg viewBox="0 0 {{ .Width }} {{ .Height }}" role="img" aria-labelledby="{{ .ID }}-title" xmlns="http://www.w3.org/2000/svg">
<title id="{{ .ID }}-title">{{ .Title }}</title>
<g class="grid" stroke="#d6d2c8" stroke-width="1">{{ range .YTicks }}
<line x1="{{ f $.Left }}" y1="{{ f .Pos }}" x2="{{ f $.Right }}" y2="{{ f .Pos }}"/>{{ end }}
</g>
<g class="axis" fill="#595959" font-size="14" aria-hidden="true">{{ with .Unit }}
<text class="unit" x="4" y="{{ f $.Top }}" dy="-8">{{ . }}</text>{{ end }}{{ range .YTicks }}
<text x="{{ f $.Left }}" dx="-6" y="{{ f .Pos }}" dy="4" text-anchor="end">{{ .Label }}</text>{{ end }}{{ range .XTicks }}
<text x="{{ f .Pos }}" y="{{ f $.Bot }}" dy="18" text-anchor="middle">{{ .Label }}</text>{{ end }}
</g>
<line x1="{{ f .Left }}" y1="{{ f .Bot }}" x2="{{ f .Right }}" y2="{{ f .Bot }}" stroke="#1f1f1f" stroke-width="1"/>
{{ range .Lines }}{{ $color := .Color }}<g class="series" fill="{{ $color }}">
{{- if $.Bars }}{{ range .Points }}
<rect x="{{ f .X }}" y="{{ f .Y }}" width="{{ f .W }}" height="{{ f .H }}"><title>{{ .Label }}</title></rect>{{ end }}
{{- else }}
<polyline points="{{ .Path }}" fill="none" stroke="{{ $color }}" stroke-width="2.5" stroke-linejoin="round"/>{{ range .Points }}
<circle cx="{{ f .X }}" cy="{{ f .Y }}" r="3.5"><title>{{ .Label }}</title></circle>{{ end }}
{{- end }}
</g>
{{ end }}</svg>
<figcaption>
<ul class="legend">{{ range .Lines }}<li><svg viewBox="0 0 10 10" width="12" height="12" aria-hidden="true"><rect width="10" height="10" fill="{{ .Color }}"/></svg> {{ .Name }}</li>{{ end }}</ul>
<details><summary>{{ .Title }}: the numbers</summary>
<div class="scroll" tabindex="0" role="region" aria-label="{{ .Title }}: the numbers">
<table>
<thead><tr><th scope="col">When</th>{{ range .Series }}<th scope="col" class="num">{{ .Name }}</th>{{ end }}</tr></thead>
<tbody>{{ range $i, $l := .Labels }}<tr><th scope="row">{{ $l }}</th>{{ range $.Series }}<td class="num">{{ at .Values $i }}</td>{{ end }}</tr>
{{ end }}</tbody>
</table>
</div>
</details>
</figcaption>
{{- end }}
</figure>`))

// HTML draws the chart for a page.
func (c Chart) HTML() (template.HTML, error) {
	var b bytes.Buffer
	if err := chartTemplate.Execute(&b, c.layout()); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
