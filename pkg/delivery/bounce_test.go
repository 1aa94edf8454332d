package delivery

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/templates"
)

// refusingSender answers every message with a permanent refusal.
type refusingSender struct{}

func (refusingSender) Send(context.Context, *mailer.Message) mailer.Result {
	return mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "no such user"}
}

type notified struct {
	event string
	data  map[string]any
}

type recordingNotifier struct{ got []notified }

func (n *recordingNotifier) Notify(_ context.Context, event string, data map[string]any) error {
	n.got = append(n.got, notified{event, data})
	return nil
}

// TestBounceIsNotified: a hard bounce is recorded, then told to the notifier (webhooks).
func TestBounceIsNotified(t *testing.T) {
	ctx := context.Background()
	st := testenv.Store(t, testenv.SQLite(t))
	task, _, c := mustOneRecipientBatch(t, st, "gone@example.org")
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	links := track.NewLinks("https://t.example.org", track.NewSigner(strings.Repeat("k", 32)))
	n := &recordingNotifier{}
	w := NewWorker(st, NewMessages(st, render.NewCompiler(layouts, render.Org{Name: "Org", PostalAddress: "1 Main St"}), links),
		refusingSender{}, links, "", 3, slog.New(slog.NewTextHandler(io.Discard, nil)), WithBounceNotifier(n))
	if err := w.ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetContact(ctx, c.ID); got.Status != store.ContactBounced {
		t.Errorf("contact is %s after a hard bounce, want bounced", got.Status)
	}
	if len(n.got) != 1 || n.got[0].event != "bounce" || n.got[0].data["email"] != c.Email || !strings.Contains(n.got[0].data["reply"].(string), "550") {
		t.Errorf("notified %+v, want one bounce of %s with the relay's reply", n.got, c.Email)
	}
}
