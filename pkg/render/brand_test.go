package render

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/templates"
)

// TestBrandedLayouts compiles with an organization's colors, logo and footer
// line, read afresh at each compile, and finds them in each layout; the
// footer line is text even when it looks like a merge tag.
func TestBrandedLayouts(t *testing.T) {
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	branded := Org{Name: "River Alliance", PostalAddress: "1 Main St", FooterText: `Paid for by {{ .Email }} & friends`,
		Primary: "#123456", Accent: "#654321", LogoURL: "https://act.example.org/media/ab.png", LogoWidth: 96, LogoHeight: 32}
	org := branded
	c := NewCompiler(layouts, Org{Name: "Unused"}, WithOrgSource(func() (Org, error) { return org, nil }))
	for _, layout := range []string{"action-alert", "newsletter"} {
		t.Run(layout, func(t *testing.T) {
			in := input(`<p>Dear friend,</p><p><a class="button" href="https://example.org/sign">ADD YOUR NAME</a></p>`)
			in.Layout = layout
			merged := func() string {
				t.Helper()
				compiled, err := c.Compile(in)
				if err != nil {
					t.Fatal(err)
				}
				out, err := compiled.Merge(Recipient{SendID: 7, Email: "jane@example.org"}, fakeURLs{})
				if err != nil {
					t.Fatal(err)
				}
				return out.HTML
			}
			html := merged()
			for _, want := range []string{"#123456", "background-color: #654321", `<img src="https://act.example.org/media/ab.png" width="96" height="32" alt="River Alliance"`,
				"<p>Paid for by {{ .Email }} &amp; friends</p>", "River Alliance, 1 Main St"} {
				if !strings.Contains(html, want) {
					t.Errorf("%s lacks %q", layout, want)
				}
			}
			for _, old := range []string{"#1d3b2a", "#c8402b", "#1f4e79", "Unused"} {
				if strings.Contains(html, old) {
					t.Errorf("%s still has %q", layout, old)
				}
			}
			org = Org{Name: "Renamed", PostalAddress: "2 Side St"}
			html = merged()
			if !strings.Contains(html, `<td class="masthead" style="`) || !strings.Contains(html, ">Renamed</td>") || strings.Contains(html, "<img src=\"https://act") {
				t.Errorf("after the change %s shows no name in the masthead, or still the logo", layout)
			}
			org = branded
		})
	}
}
