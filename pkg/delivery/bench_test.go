package delivery

import (
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/templates"
)

// message20KB is the demo action alert grown to about 20 KB of HTML body, with
// the default layout around it: the size of a long real alert.
func message20KB(tb testing.TB) (render.Input, *render.Compiler) {
	tb.Helper()
	demo, err := fs.ReadFile(templates.FS, "demo/action-alert.html")
	if err != nil {
		tb.Fatal(err)
	}
	var body strings.Builder
	body.Write(demo)
	for i := 0; body.Len() < 20<<10; i++ {
		body.WriteString(`<p>Here is why this matters to the families of the valley: the water they drink, <strong>the air they breathe</strong>, and the future of the river. <a href="https://example.org/story/` + strings.Repeat("x", i%7) + `">Read their stories</a>.</p>` + "\n")
	}
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		tb.Fatal(err)
	}
	in := render.Input{Subject: `{{ .FirstName | default "Friend" }}, tell Governor Hale: no permit`, Preheader: "Eleven days left.",
		FromName: "Maya Ortiz", FromEmail: "action@example.org", Layout: "action-alert", HTML: body.String()}
	return in, render.NewCompiler(layouts, render.Org{Name: "Friends of the Commons", PostalAddress: "1 Main St, Springfield"})
}

// BenchmarkCompile20KB is the once-per-campaign cost: layout, CSS inlining,
// link rewriting, text alternative, template parsing and a trial merge.
func BenchmarkCompile20KB(b *testing.B) {
	in, compiler := message20KB(b)
	b.SetBytes(int64(len(in.HTML)))
	for b.Loop() {
		if _, err := compiler.Compile(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeAndBuild20KB is the per-recipient cost: merge, headers (with
// signed tracking URLs) and the MIME message written out.
func BenchmarkMergeAndBuild20KB(b *testing.B) {
	in, compiler := message20KB(b)
	c, err := compiler.Compile(in)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(c.Links))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	c.SetLinkIDs(ids)
	links := track.NewLinks("https://act.example.org", track.NewSigner(strings.Repeat("k", 32)))
	w := NewWorker(nil, nil, nil, links, "unsubscribe@example.org", 5, slog.New(slog.NewTextHandler(io.Discard, nil)))
	camp := &store.Campaign{ID: 1}
	b.ReportAllocs()
	var size int64
	for i := 0; b.Loop(); i++ {
		r := store.Recipient{SendID: int64(i + 1), Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}
		out, err := c.Merge(render.Recipient{SendID: r.SendID, Email: r.Email, FirstName: r.FirstName}, links)
		if err != nil {
			b.Fatal(err)
		}
		msg, err := mailer.Build(w.message(camp, c, r, out))
		if err != nil {
			b.Fatal(err)
		}
		n, err := msg.WriteTo(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	b.ReportMetric(float64(size), "bytes/msg")
}
