package delivery

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/templates"
)

// TestConfirmTask checks that a confirmation's task id is its signature's,
// so a second enqueue is refused, and that a bad payload is dropped for good.
func TestConfirmTask(t *testing.T) {
	a, err := NewConfirmTask(ConfirmPayload{SignatureID: 42}, "q")
	if err != nil {
		t.Fatal(err)
	}
	if a.Type() != TypeConfirmSignature {
		t.Errorf("type %q", a.Type())
	}
	if _, err := NewConfirmTask(ConfirmPayload{}, "q"); err == nil {
		t.Error("a confirmation of signature 0 was made")
	}
	c := NewConfirmations(nil, "q", NewWorker(nil, nil, nil, nil, "", 1, slog.New(slog.NewTextHandler(io.Discard, nil))), "Maya", "action@example.org", slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, raw := range []string{"{", `{"signature_id": 0}`, `{"signature_id": -3}`} {
		if err := c.ProcessTask(context.Background(), asynq.NewTask(TypeConfirmSignature, []byte(raw))); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("ProcessTask(%s) = %v, want SkipRetry", raw, err)
		}
	}
}

// TestConfirmationText checks that an organizer's words are text in the
// confirmation, never template code, and that it greets the signer.
func TestConfirmationText(t *testing.T) {
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	c := NewConfirmations(nil, "q", nil, "Maya", "action@example.org", slog.New(slog.NewTextHandler(io.Discard, nil)))
	p := &store.Petition{Title: `Stop {{ .Email }} now`, Target: "The <Council>", ThankYouText: "{{ unsubscribe_url }}"}
	compiled, err := render.NewCompiler(layouts, render.Org{Name: "River Alliance", PostalAddress: "1 Main St"}).Compile(c.input(p, "https://act.example.org/a/stop/confirm/eyJw.MAC_-"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := compiled.Merge(render.Recipient{Email: "sam@example.org", FirstName: "Sam"}, noURLs{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Subject != "Thank you for signing: Stop {{ .Email }} now" {
		t.Errorf("subject %q", out.Subject)
	}
	for _, want := range []string{"Dear Sam,", "Stop {{ .Email }} now", "The &lt;Council&gt;", "{{ unsubscribe_url }}", "River Alliance, 1 Main St",
		// The confirmation link goes out as it is: never through the click tracker.
		`href="https://act.example.org/a/stop/confirm/eyJw.MAC_-"`} {
		if !strings.Contains(out.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, out.HTML)
		}
	}
}

// noURLs answers every per-recipient URL with one placeholder.
type noURLs struct{}

func (noURLs) Click(int64, int64) string          { return "https://example.org/x" }
func (noURLs) Open(int64) string                  { return "https://example.org/x" }
func (noURLs) Unsubscribe(int64) string           { return "https://example.org/x" }
func (noURLs) Preferences(int64) string           { return "https://example.org/x" }
func (noURLs) View(int64) string                  { return "https://example.org/x" }
func (noURLs) Action(int64, int64, string) string { return "https://example.org/x" }
