package render

import (
	"strings"
	"testing"
)

// TestNoSendLinks: an email merged for no send (a test, a confirmation) has
// no open pixel and links straight to their targets, UTM parameters kept,
// in the HTML and the text; the footer's links come from the URLs given,
// and the campaign merge of the same compile still tracks.
func TestNoSendLinks(t *testing.T) {
	for _, layout := range []string{"basic", "none"} {
		t.Run(layout, func(t *testing.T) {
			in := input(`<p>Dear {{ .FirstName }}, <a href="https://example.org/sign?x=1&amp;y=2">Sign</a>
<a href="{{ action_link "save-the-river" }}">Act</a> <a href="{{ .ViewURL }}">View</a></p>`)
			in.Layout = layout
			in.UTM = UTM{Source: "dearfriend", Campaign: "river"}
			c, err := testCompiler().Compile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.MergeUntracked(Recipient{Email: "staff@example.org", FirstName: "Sam"}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{out.HTML, out.Text} {
				if strings.Contains(part, "t.example/o/") || strings.Contains(part, "t.example/c/") || strings.Contains(part, `<img src=""`) {
					t.Errorf("untracked merge has a pixel or a tracked link:\n%s", part)
				}
				for _, want := range []string{"https://example.org/sign?x=1", "utm_campaign=river", "https://t.example/a/save-the-river?r=0", "https://t.example/v/0"} {
					if !strings.Contains(part, want) {
						t.Errorf("untracked merge lacks %q:\n%s", want, part)
					}
				}
			}
			if strings.Contains(out.HTML, "width=\"1\" height=\"1\"") {
				t.Errorf("the open pixel is left:\n%s", out.HTML)
			}
			tracked, err := c.Merge(Recipient{SendID: 9, Email: "jane@example.org"}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(tracked.HTML, "https://t.example/o/9") || !strings.Contains(tracked.HTML, "https://t.example/c/9/") {
				t.Errorf("the campaign merge lost its tracking:\n%s", tracked.HTML)
			}
		})
	}
}
