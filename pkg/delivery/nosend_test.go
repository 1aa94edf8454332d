package delivery

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// deadLink is a per-send URL: with no ledger row behind the email it
// would answer 404.
var deadLink = regexp.MustCompile(`https://act\.example\.org/(t/o|t/c|u|p|v)/|\?r=`)

// TestNoSendMessages: a test send and a signature's confirmation carry no
// open pixel and no link that names a send: campaign links go straight to
// their targets, and the unsubscribe, preferences, view and action links,
// the one-click header included, go to the page that says it is a test.
func TestNoSendMessages(t *testing.T) {
	in, compiler := message20KB(t)
	in.HTML += `<p><a href="{{ action_link "northfork" }}">Add your name</a> <a href="{{ .PreferencesURL }}">Settings</a></p>`
	c, err := compiler.Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	links := track.NewLinks("https://act.example.org", track.NewSigner(strings.Repeat("k", 32)))
	w := NewWorker(nil, nil, nil, links, "unsubscribe@example.org", 5, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m, err := w.testMessage(c, render.Recipient{Email: "staff@example.org"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var listUnsubscribe string
	for _, h := range m.Headers {
		if h.Name == "List-Unsubscribe" {
			listUnsubscribe = h.Value
		}
		if deadLink.MatchString(h.Value) {
			t.Errorf("header %s names a send: %q", h.Name, h.Value)
		}
	}
	if listUnsubscribe != "<https://act.example.org/t/test/unsubscribe>" {
		t.Errorf("List-Unsubscribe = %q; want the test page", listUnsubscribe)
	}
	for name, part := range map[string]string{"html": m.HTML, "text": m.Text} {
		if loc := deadLink.FindStringIndex(part); loc != nil {
			t.Errorf("%s part of the test has a link that names a send: %q", name, part[loc[0]:min(loc[1]+40, len(part))])
		}
		for _, want := range []string{"https://example.org/story/", "https://act.example.org/t/test/unsubscribe", "https://act.example.org/t/test/preferences",
			"https://act.example.org/t/test/action?slug=northfork"} {
			if !strings.Contains(part, want) {
				t.Errorf("%s part of the test lacks %q", name, want)
			}
		}
	}
	if strings.Contains(m.HTML, `width="1" height="1"`) {
		t.Error("the test has an open pixel")
	}

	conf := NewConfirmations(nil, "q", w, "Maya", "action@example.org", slog.New(slog.NewTextHandler(io.Discard, nil)))
	cc, err := compiler.Compile(conf.input(&store.Petition{Title: "Save the river"}, "https://act.example.org/a/northfork/confirm/tok"))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := w.testMessage(cc, render.Recipient{Email: "sam@example.net", FirstName: "Sam"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cm.HTML, "<img") || deadLink.MatchString(cm.HTML) || deadLink.MatchString(cm.Text) {
		t.Errorf("the confirmation has a pixel or a link that names a send:\n%s", cm.HTML)
	}
}
