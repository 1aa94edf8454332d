package admin

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// svgOf returns the chart's drawing, the first <svg> of its HTML.
func svgOf(t *testing.T, c Chart) string {
	t.Helper()
	html, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	start, end := strings.Index(s, "<svg"), strings.Index(s, "</svg>")
	if start < 0 || end < 0 {
		t.Fatalf("no <svg> in %s", s)
	}
	return s[start : end+len("</svg>")]
}

// TestChartIsValidSVG parses the drawing of line and bar charts as XML and
// checks that every point lies in the viewBox, the largest value at the top
// of the plot and zero on its axis, with a title for screen readers.
func TestChartIsValidSVG(t *testing.T) {
	for _, bars := range []bool{false, true} {
		t.Run("bars="+strconv.FormatBool(bars), func(t *testing.T) {
			c := Chart{ID: "t", Title: "Opens & clicks <by hour>", Bars: bars,
				Labels: []string{"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"},
				Series: []Series{{Name: "Opens", Values: []int64{0, 40, 17, 3, 0, 0, 1, 2}}, {Name: "Clicks", Values: []int64{0, 4, 2, 1, 0, 0, 0, 0}}}}
			svg := svgOf(t, c)
			dec := xml.NewDecoder(strings.NewReader(svg))
			var title string
			var xs, ys []float64
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v\n%s", err, svg)
				}
				el, ok := tok.(xml.StartElement)
				if !ok {
					continue
				}
				attr := map[string]string{}
				for _, a := range el.Attr {
					attr[a.Name.Local] = a.Value
				}
				switch el.Name.Local {
				case "svg":
					if attr["role"] != "img" || attr["viewBox"] != "0 0 560 260" {
						t.Errorf("svg role=%q viewBox=%q", attr["role"], attr["viewBox"])
					}
				case "title":
					if title == "" {
						dec.DecodeElement(&title, &el)
					}
				case "circle", "rect":
					x, _ := strconv.ParseFloat(attr["cx"]+attr["x"], 64)
					y, _ := strconv.ParseFloat(attr["cy"]+attr["y"], 64)
					xs, ys = append(xs, x), append(ys, y)
				}
			}
			if title != c.Title {
				t.Errorf("title %q, want %q", title, c.Title)
			}
			if len(xs) != 16 {
				t.Fatalf("%d points drawn, want 16", len(xs))
			}
			minY, maxY := ys[0], ys[0]
			for i := range xs {
				if xs[i] < chartLeft || xs[i] > chartWidth-chartRight || ys[i] < chartTop || ys[i] > chartHeight-chartBottom {
					t.Errorf("point (%.1f, %.1f) outside the plot", xs[i], ys[i])
				}
				minY, maxY = min(minY, ys[i]), max(maxY, ys[i])
			}
			// 40 is the largest value; the scale's top is 40 (4 ticks of 10).
			if minY != chartTop || maxY != chartHeight-chartBottom {
				t.Errorf("values span y %.1f to %.1f, want %d (40) to %d (0)", minY, maxY, chartTop, chartHeight-chartBottom)
			}
		})
	}
}

func TestChartWithoutData(t *testing.T) {
	html, err := Chart{ID: "none", Title: "Nothing", Series: []Series{{Name: "Opens"}}}.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Nothing to chart yet.") || strings.Contains(string(html), "<svg") {
		t.Errorf("an empty chart draws %s", html)
	}
	// One point alone is drawn in the middle, not divided by zero.
	svg := svgOf(t, Chart{ID: "one", Title: "One", Labels: []string{"May 4"}, Series: []Series{{Name: "Signed", Values: []int64{3}}}})
	if centre := fmt.Sprintf(`cx="%.1f"`, float64(chartLeft+chartWidth-chartRight)/2); !strings.Contains(svg, centre) {
		t.Errorf("a single point is not centred:\n%s", svg)
	}
}

// TestChartNumbers checks that a chart says what it counts above its
// axis and writes its numbers as people read them.
func TestChartNumbers(t *testing.T) {
	html, err := Chart{ID: "big", Title: "Signatures by day", Unit: "signatures", Bars: true, Labels: []string{"May 4", "May 5"},
		Series: []Series{{Name: "Signatures", Values: []int64{50000, 1234567}}}}.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<text class="unit" x="4" y="30.0" dy="-8">signatures</text>`, ">2,000,000</text>",
		"<title>May 5, Signatures: 1,234,567</title>", `<td class="num">50,000</td>`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("chart lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(string(html), "50000") || strings.Contains(string(html), "1234567") {
		t.Errorf("chart writes a number without separators:\n%s", html)
	}
}

func TestYMax(t *testing.T) {
	for _, tc := range []struct{ largest, want int64 }{{0, 4}, {3, 4}, {5, 8}, {40, 40}, {41, 80}, {97, 200}, {1234, 2000}, {350, 400}} {
		if got := yMax(tc.largest); got != tc.want {
			t.Errorf("yMax(%d) = %d, want %d", tc.largest, got, tc.want)
		}
	}
}
