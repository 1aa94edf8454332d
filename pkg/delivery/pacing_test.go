package delivery

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/templates"
)

// replySender answers every message with the same result, and after
// lateAfter messages (0: never) moves the clock two hours on.
type replySender struct {
	res       mailer.Result
	lateAfter int
	calls     atomic.Int64
	late      atomic.Bool
}

func (r *replySender) Send(context.Context, *mailer.Message) mailer.Result {
	if n := r.calls.Add(1); r.lateAfter > 0 && n >= int64(r.lateAfter) {
		r.late.Store(true)
	}
	return r.res
}

func (r *replySender) now() time.Time {
	if r.late.Load() {
		return time.Now().Add(2 * time.Hour)
	}
	return time.Now()
}

// mustOneRecipientBatch starts a campaign to one contact, email, and returns
// its batch task, its ledger row id and the contact.
func mustOneRecipientBatch(t *testing.T, st *store.Store, email string) (*asynq.Task, int64, *store.Contact) {
	t.Helper()
	task, ids, cs := mustBatch(t, st, email)
	return task, ids[0], cs[0]
}

// mustBatch starts a campaign to one contact per address and returns the
// task of its one batch, the ledger ids in order and the contacts.
func mustBatch(t *testing.T, st *store.Store, emails ...string) (*asynq.Task, []int64, []*store.Contact) {
	t.Helper()
	ctx := t.Context()
	l := &store.List{Name: "l"}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
	for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var cs []*store.Contact
	var ids []int64
	for _, e := range emails {
		c := &store.Contact{Email: e}
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		cs, ids = append(cs, c), append(ids, c.ID)
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		t.Fatal(err)
	}
	camp := &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, camp.ID); err != nil {
		t.Fatal(err)
	}
	lo, hi, _, err := st.SendRange(ctx, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.LedgerPage(ctx, camp.ID, 0, len(emails))
	if err != nil {
		t.Fatal(err)
	}
	sendIDs := make([]int64, len(rows))
	for i, r := range rows {
		sendIDs[i] = r.ID
	}
	payload, _ := json.Marshal(SendBatchPayload{CampaignID: camp.ID, From: lo, To: hi})
	return asynq.NewTask(TypeSendBatch, payload), sendIDs, cs
}

func newTestWorker(t *testing.T, st *store.Store, sender Sender, maxAttempts int, opts ...WorkerOption) *Worker {
	t.Helper()
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	links := track.NewLinks("https://t.example.org", track.NewSigner(strings.Repeat("k", 32)))
	return NewWorker(st, NewMessages(st, render.NewCompiler(layouts, render.Org{Name: "Org", PostalAddress: "1 Main St"}), links),
		sender, links, "", maxAttempts, slog.New(slog.DiscardHandler), opts...)
}

// Throttling replies never use up attempts, however many; the retry age
// still ends them, with a reply that says why. Ordinary deferrals end when
// the attempts or the age run out. Every attempt is in the ledger.
func TestRetriesEndByAttemptsOrAge(t *testing.T) {
	throttled := mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.7.0", Reply: "slow down"}
	deferred := mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.3.0", Reply: "try later"}
	for _, tt := range []struct {
		name          string
		reply         mailer.Result
		maxAttempts   int
		lateAfter     int
		wantAttempts  int
		wantThrottled int
		byAge         bool
	}{
		{"throttled past the attempts, then the age", throttled, 3, 6, 6, 5, true},
		{"deferred until the attempts", deferred, 3, 0, 3, 0, false},
		{"deferred until the age", deferred, 100, 2, 2, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testenv.EachDatabase(t, func(t *testing.T, dsn string) {
				st := testenv.Store(t, dsn)
				task, sendID, _ := mustOneRecipientBatch(t, st, "slow@example.org")
				sender := &replySender{res: tt.reply, lateAfter: tt.lateAfter}
				w := newTestWorker(t, st, sender, tt.maxAttempts, WithMaxRetryAge(time.Hour))
				w.now = sender.now
				var s *store.Send
				for range 10 { // the batch is retried until its row is done
					w.ProcessTask(t.Context(), task)
					var err error
					if s, err = st.GetSend(t.Context(), sendID); err != nil {
						t.Fatal(err)
					}
					if s.Status != store.SendDeferred {
						break
					}
				}
				if s.Status != store.SendFailed || s.Attempts != tt.wantAttempts || s.Throttled != tt.wantThrottled || s.FirstAttemptAt == nil {
					t.Fatalf("row: %s, %d attempts, %d throttled, first at %v; want failed after %d attempts, %d throttled",
						s.Status, s.Attempts, s.Throttled, s.FirstAttemptAt, tt.wantAttempts, tt.wantThrottled)
				}
				if got := strings.Contains(s.LastReply, "DEARFRIEND_MAX_RETRY_AGE"); got != tt.byAge || !strings.Contains(s.LastReply, tt.reply.Reply) {
					t.Errorf("reply %q; want the relay's last reply, naming the retry age: %v", s.LastReply, tt.byAge)
				}
			})
		})
	}
}
