package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSaveWarnings: compiling warns, without refusing, of HTML Gmail would
// clip, images without alt text or dimensions, and links whose text is the
// address of another site than their target; a clean message has no warning.
func TestSaveWarnings(t *testing.T) {
	c := testCompiler()
	tests := []struct {
		name string
		html string
		want []string // a phrase of each warning, in order
	}{
		{"clean", `<p><img src="https://example.org/r.jpg" alt="" width="600" height="300"> <a href="https://example.org/sign">https://example.org/sign</a>
<a href="https://www.example.org/x">example.org/x</a> <a href="{{ .ViewURL }}">https://example.org/view</a></p>`, nil},
		{"image without alt", `<p><img src="https://example.org/r.jpg" width="600" height="300"></p>`, []string{`image "https://example.org/r.jpg" has no alt text`}},
		{"image without size", `<p><img src="https://example.org/r.jpg" alt="The river" width="600"></p>`, []string{`image "https://example.org/r.jpg" has no width and height`}},
		{"link text another site", `<p><a href="https://evil.example.net/x">https://example.org/sign</a> <a href="https://example.org/a">www.other.org</a></p>`,
			[]string{`the link that shows "https://example.org/sign" goes to "https://evil.example.net/x"`, `the link that shows "www.other.org"`}},
		{"over 100 KB", "<p>" + strings.Repeat("Dear friend, the river needs you. ", 3200) + "</p>", []string{"the email's HTML is 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Compile(input(tt.html))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, w := range out.Warnings {
				if i < len(tt.want) && strings.Contains(w, tt.want[i]) {
					got = append(got, tt.want[i])
				} else {
					got = append(got, w)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzLint: any document is read without a panic, and each warning is one
// line that names what it is about.
func FuzzLint(f *testing.F) {
	f.Add(`<p><img src="x.jpg"><a href="https://a.example/">https://b.example/</a></p>`)
	f.Add(`<a href="{{ .ViewURL }}">www.example.org</a><img alt="" width=1 height=1 src=y>`)
	f.Add(`<a href="https://a.example/"><img src="z"></a><a href=http://[::1]:x>http://%zz</a>`)
	f.Add("<a href='https://a.example/'>https://a.example/\n</a><img src=\"" + strings.Repeat("v", 100) + "\">")
	f.Fuzz(func(t *testing.T, doc string) {
		for _, w := range lint(doc) {
			if strings.ContainsAny(w, "\r\n") {
				t.Errorf("warning over several lines: %q", w)
			}
			if !strings.HasPrefix(w, "image ") && !strings.HasPrefix(w, "the link that shows ") {
				t.Errorf("warning %q does not say what it is about", w)
			}
		}
	})
}
