package action

import (
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/track"
)

// FuzzThanks checks the thank-you page's address: what was signed reads
// back as it was, and nothing else reads at all.
func FuzzThanks(f *testing.F) {
	h := &Handler{Deps: Deps{Signer: track.NewSigner("fuzz secret")}}
	f.Add("river", true, int64(12), "Jane", "1.12.SmFuZQ.x")
	f.Add("river", false, int64(0), "", "")
	f.Add("lake", true, int64(1<<40), "Zoë ☃", "1.1.U2Ft.AAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, slug string, isNew bool, id int64, name, raw string) {
		if id < 0 {
			id = -id
		}
		if id < 0 || !utf8Valid(name) {
			return
		}
		st := thanksState{New: isNew, ContactID: id, FirstName: name}
		got, ok := h.decodeThanks(slug, h.encodeThanks(slug, st))
		if !ok || got != st {
			t.Fatalf("round trip of %+v on %q: %+v, %v", st, slug, got, ok)
		}
		if got, ok := h.decodeThanks(slug, raw); ok && h.encodeThanks(slug, got) != raw {
			t.Fatalf("%q read as %+v, which we would not have signed so", raw, got)
		}
		if _, ok := h.decodeThanks(slug+"x", h.encodeThanks(slug, st)); ok && !strings.Contains(slug, "\x00") {
			t.Fatalf("a thank-you address of %q read on %q", slug, slug+"x")
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
