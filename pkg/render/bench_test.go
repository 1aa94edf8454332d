package render

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/templates"
)

// longAlert is the demo action alert grown past size bytes with the parts a
// long real alert repeats (a story paragraph with a link, a bold ask, a list
// of demands, a button), inside the default layout.
func longAlert(tb testing.TB, size int) (Input, *Compiler) {
	tb.Helper()
	demo, err := fs.ReadFile(templates.FS, "demo/action-alert.html")
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.Write(demo)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<h2>Update %d from the valley</h2>
<p>The families along the river, {{ .FirstName | default "friend" }}, keep writing to us. <a href="https://example.org/stories/%d">Read their story</a>, and <strong>add your name before the deadline</strong>.</p>
<ul><li>stop the discharge;</li><li>publish the tests;</li><li>fund the filters.</li></ul>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td class="button-cell"><a class="button" href="https://example.org/petitions/northfork?source=email&amp;s=%d">ADD YOUR NAME</a></td></tr></table>
`, i, i%5, i%3)
	}
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		tb.Fatal(err)
	}
	in := Input{Subject: `{{ .FirstName | default "Friend" }}, tell Governor Hale: no permit`, Preheader: "Eleven days left.",
		FromName: "Maya Ortiz", FromEmail: "action@example.org", Layout: "action-alert", HTML: b.String()}
	return in, NewCompiler(layouts, Org{Name: "Friends of the Commons", PostalAddress: "1 Main St, Springfield"})
}

// BenchmarkCompile20KB is the once-per-campaign cost of a 20 KB body: layout,
// clean-up and link rewriting, CSS inlining (the layout's stylesheet read once
// per process), text alternative, template parsing and the trial merge.
func BenchmarkCompile20KB(b *testing.B) {
	in, compiler := longAlert(b, 20<<10)
	b.SetBytes(int64(len(in.HTML)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compiler.Compile(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge20KB is the per-recipient cost in this package: subject, HTML
// and text merged, every tracked URL signed once (by a fake signer here; the
// HMAC costs about 1 µs per distinct URL in pkg/track).
func BenchmarkMerge20KB(b *testing.B) {
	in, compiler := longAlert(b, 20<<10)
	c, err := compiler.Compile(in)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(c.Links))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	c.SetLinkIDs(ids)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Merge(Recipient{SendID: int64(i + 1), Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}, fakeURLs{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeDemo is the per-recipient merge of the demo alert as it is
// (about 2 KB of body, one merge tag, the layout's footer).
func BenchmarkMergeDemo(b *testing.B) {
	in, compiler := longAlert(b, 0)
	c, err := compiler.Compile(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Merge(Recipient{SendID: int64(i + 1), Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}, fakeURLs{}); err != nil {
			b.Fatal(err)
		}
	}
}
