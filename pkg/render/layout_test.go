package render

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/dearfriend/dearfriend/templates"
)

// TestLayouts merges the demo alert into each default layout and checks what
// filters and readers need of it: the footer's every part, images with alt
// text and dimensions, a preheader hidden without a transparent colour, a media query for narrow screens, well-nested markup.
// The merged emails are golden files (testdata/layout-*.html).
func TestLayouts(t *testing.T) {
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(layouts, "*.html")
	if err != nil || len(names) < 2 {
		t.Fatalf("layouts %v, %v; want action-alert and newsletter", names, err)
	}
	demo, err := fs.ReadFile(templates.FS, "demo/action-alert.html")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCompiler(layouts, Org{Name: "Friends of the Commons", PostalAddress: "1 Main St, Springfield, ST 00000"})
	for _, name := range names {
		layout := strings.TrimSuffix(name, ".html")
		t.Run(layout, func(t *testing.T) {
			in := input(string(demo) + `<p><img src="https://example.org/river.jpg" alt="The river at Northfork" width="536" height="300"></p>`)
			in.Layout = layout
			compiled, err := c.Compile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := compiled.Merge(Recipient{SendID: 7, Email: "jane@example.org", FirstName: "Jane"}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "layout-"+layout+".html", out.HTML)
			for _, want := range []string{"Friends of the Commons", "1 Main St, Springfield, ST 00000", "This email was sent to jane@example.org",
				`href="https://t.example/p/7"`, `href="https://t.example/u/7"`, `href="https://t.example/v/7"`, "@media only screen and (max-width: 620px)", "Dear Jane,"} {
				if !strings.Contains(out.HTML, want) {
					t.Errorf("merged %s lacks %q", layout, want)
				}
			}
			if strings.Contains(out.Text, "Eleven days left") || !strings.Contains(out.Text, "unsubscribe (https://t.example/u/7)") {
				t.Errorf("text part: want the footer's unsubscribe link and no preheader:\n%s", out.Text)
			}
			// SpamAssassin scores text in a transparent colour as low
			// contrast (HTML_FONT_LOW_CONTRAST): the preheader hides without it.
			if strings.Contains(out.HTML, "transparent") || !regexp.MustCompile(`<span class="preheader" style="[^"]*display: none;[^"]*">Eleven days left</span>`).MatchString(out.HTML) {
				t.Errorf("merged %s: want the preheader hidden with display: none and no transparent colour", layout)
			}
			checkImages(t, out.HTML)
			checkNesting(t, out.HTML)
		})
	}
}

// checkImages fails for an <img> without alt, width or height.
func checkImages(t *testing.T, doc string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(doc))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		tok := z.Token()
		if tok.Data != "img" {
			continue
		}
		has := map[string]bool{}
		for _, a := range tok.Attr {
			has[a.Key] = true
		}
		if !has["alt"] || !has["width"] || !has["height"] {
			t.Errorf("image without alt, width or height: %s", tok)
		}
	}
}

// checkNesting fails when an end tag does not close the element last opened.
func checkNesting(t *testing.T, doc string) {
	t.Helper()
	var open []string
	z := html.NewTokenizer(strings.NewReader(doc))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		name, _ := z.TagName()
		switch tt {
		case html.StartTagToken:
			if !voidElement(atom.Lookup(name)) {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		t.Errorf("left open: %v", open)
	}
}
