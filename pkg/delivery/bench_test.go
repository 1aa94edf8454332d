package delivery

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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

// BenchmarkMergeAndBuild20KB is the per-recipient cost: merge, headers (with
// signed tracking URLs) and the MIME message written out, into a reused
// buffer as mailer.Pool does.
func BenchmarkMergeAndBuild20KB(b *testing.B) { benchMergeBuild(b, nil) }

// BenchmarkMergeBuildSign20KB adds a DKIM signature to each message:
// RSA-2048 and Ed25519.
func BenchmarkMergeBuildSign20KB(b *testing.B) {
	for _, k := range []struct {
		name string
		key  func() (any, error)
	}{
		{"rsa", func() (any, error) { return rsa.GenerateKey(rand.Reader, 2048) }},
		{"ed25519", func() (any, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }},
	} {
		b.Run(k.name, func(b *testing.B) {
			key, err := k.key()
			if err != nil {
				b.Fatal(err)
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				b.Fatal(err)
			}
			signer, err := mailer.NewDKIMSigner("example.org", "bench", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			if err != nil {
				b.Fatal(err)
			}
			benchMergeBuild(b, signer)
		})
	}
}

func benchMergeBuild(b *testing.B, signer mailer.Signer) {
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
	w := NewWorker(nil, nil, nil, links, "unsubscribe@example.org", 5, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithBounceDomain("bounces.example.org"), WithOrgShortName("commons"))
	camp := &store.Campaign{ID: 1}
	b.ReportAllocs()
	var buf []byte
	for i := 0; b.Loop(); i++ {
		r := store.Recipient{SendID: int64(i + 1), Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}
		out, err := c.Merge(render.Recipient{SendID: r.SendID, Email: r.Email, FirstName: r.FirstName}, links)
		if err != nil {
			b.Fatal(err)
		}
		if buf, err = mailer.AppendMessage(buf[:0], w.message(camp, c, r, out)); err != nil {
			b.Fatal(err)
		}
		if signer != nil {
			if buf, err = signer.Sign(buf, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/msg")
}
