package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TypeTestSend is the task that sends a message to a few staff addresses.
const TypeTestSend = "message:test_send"

// MaxTestRecipients bounds one test send.
const MaxTestRecipients = 10

// TestSendPayload names a message and the addresses its test goes to.
type TestSendPayload struct {
	MessageID int64    `json:"message_id"`
	Emails    []string `json:"emails"`
}

// NewTestSendTask makes the task for p on queue. Every test is a new send:
// asking twice mails twice, as the person asking expects.
func NewTestSendTask(p TestSendPayload, queue string) (*asynq.Task, error) {
	if p.MessageID <= 0 || len(p.Emails) == 0 || len(p.Emails) > MaxTestRecipients {
		return nil, fmt.Errorf("test send: bad payload %+v", p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeTestSend, b, asynq.Queue(queue), asynq.MaxRetry(3), asynq.Timeout(2*time.Minute)), nil
}

// testHeader marks a test message, for filters and for whoever reads it.
const testHeader = "X-Dearfriend-Test"

// Previews renders messages for one contact and queues test sends. A
// preview or a test names no ledger row: its links go to their targets or
// to a page that says it is a test, and nothing it causes reaches a
// campaign's figures.
type Previews struct {
	store    *store.Store
	compiler *render.Compiler
	headers  *Worker // assembles the headers as a campaign's; it sends nothing here
	client   *asynq.Client
	queue    string
}

// NewPreviews returns the previewer; tests are enqueued on queue through client.
// headerOpts are the worker's header options (bounce domain, org short name),
// so a preview carries the same headers as the campaign message.
func NewPreviews(st *store.Store, compiler *render.Compiler, links Links, unsubscribeMailto string, client *asynq.Client, queue string, log *slog.Logger, headerOpts ...WorkerOption) *Previews {
	return &Previews{store: st, compiler: compiler, client: client, queue: queue,
		headers: NewWorker(st, nil, nil, links, unsubscribeMailto, 1, log, headerOpts...)}
}

// SampleRecipient is who a preview is for when no contact is chosen: every optional field empty.
var SampleRecipient = render.Recipient{Email: "friend@example.org"}

// Preview renders message messageID for contact contactID (0: the sample
// recipient) and assembles the email as it would be sent.
func (p *Previews) Preview(ctx context.Context, messageID, contactID int64) (*mailer.Message, error) {
	msg, err := p.store.GetMessage(ctx, messageID)
	if err != nil {
		return nil, err
	}
	r := SampleRecipient
	if contactID != 0 {
		c, err := p.store.GetContact(ctx, contactID)
		if err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				return nil, errs.Field("contact_id", "contact %d does not exist", contactID)
			}
			return nil, err
		}
		r = render.Recipient{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName}
	}
	c, err := p.compiler.Compile(Input(msg))
	if err != nil {
		return nil, err
	}
	return p.headers.testMessage(c, r, false)
}

// EnqueueTest checks the addresses and queues a test send of message
// messageID to them, each person once, and returns the addresses queued.
func (p *Previews) EnqueueTest(ctx context.Context, messageID int64, emails []string) ([]string, error) {
	if len(emails) == 0 || len(emails) > MaxTestRecipients {
		return nil, errs.Field("emails", "name 1 to %d addresses", MaxTestRecipients)
	}
	// One message per person: the same address in another case is dropped.
	clean := make([]string, 0, len(emails))
	seen := make(map[string]bool, len(emails))
	for i, e := range emails {
		addr, err := audience.NormalizeEmail(fmt.Sprintf("emails[%d]", i), e)
		if err != nil {
			return nil, err
		}
		if k := store.EmailKey(addr); !seen[k] {
			seen[k] = true
			clean = append(clean, addr)
		}
	}
	if _, err := p.store.GetMessage(ctx, messageID); err != nil {
		return nil, err
	}
	task, err := NewTestSendTask(TestSendPayload{MessageID: messageID, Emails: clean}, p.queue)
	if err != nil {
		return nil, err
	}
	if _, err := p.client.EnqueueContext(ctx, task); err != nil {
		return nil, fmt.Errorf("enqueue test send: %w", err)
	}
	return clean, nil
}

// ProcessTestSend sends a test: the message compiled now, as it is saved,
// merged for each address with no contact data, subject marked "[Test] ".
// No ledger row is written. An address the relay defers is logged, not
// retried: retrying the task would mail the others twice.
func (w *Worker) ProcessTestSend(ctx context.Context, t *asynq.Task) error {
	var p TestSendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MessageID <= 0 || len(p.Emails) == 0 || len(p.Emails) > MaxTestRecipients {
		return fmt.Errorf("bad test send payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	msg, err := w.store.GetMessage(ctx, p.MessageID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return fmt.Errorf("test send: %w: %w", err, asynq.SkipRetry)
		}
		return err
	}
	c, err := w.messages.compiler.Compile(Input(msg))
	if err != nil {
		return fmt.Errorf("test send of message %d: %w: %w", p.MessageID, err, asynq.SkipRetry)
	}
	for _, email := range p.Emails {
		m, err := w.testMessage(c, render.Recipient{Email: email}, true)
		if err != nil {
			return fmt.Errorf("test send of message %d: %w: %w", p.MessageID, err, asynq.SkipRetry)
		}
		res := w.sender.Send(ctx, m)
		if res.Status != mailer.StatusSent {
			w.log.Warn("test send not delivered", "message_id", p.MessageID, "to", email, "code", res.Code, "reply", res.Reply)
			continue
		}
		w.log.Info("test sent", "message_id", p.MessageID, "to", email)
	}
	return nil
}

// testMessage merges c for r with no send behind it and assembles the
// email: no open pixel, links straight to their targets, and the links that
// would name a send (unsubscribe, preferences, view, action, the one-click
// header) to a page that says the email is a test (MergeUntracked). A test
// is marked in its subject and headers and gets a Message-ID of its own.
func (w *Worker) testMessage(c *render.Compiled, r render.Recipient, test bool) (*mailer.Message, error) {
	r.SendID = 0
	out, err := c.MergeUntracked(r, testURLs{w.links})
	if err != nil {
		return nil, err
	}
	m := w.message(&store.Campaign{}, c, store.Recipient{Email: r.Email, FirstName: r.FirstName, LastName: r.LastName}, out)
	for i, h := range m.Headers {
		if h.Name == "List-Unsubscribe" {
			m.Headers[i].Value = "<" + w.links.TestLink("unsubscribe", "") + ">"
		}
	}
	if test {
		m.Subject = "[Test] " + m.Subject
		m.Headers = append(m.Headers, mailer.Header{Name: testHeader, Value: "1"})
	}
	domain := "localhost"
	if _, d, ok := strings.Cut(c.FromEmail, "@"); ok {
		domain = d
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	m.MessageID = "test." + hex.EncodeToString(nonce) + "@" + domain
	return m, nil
}

// testURLs are the per-send URLs of an email no ledger row stands for: each
// a page that says the email is a test. MergeUntracked asks no Click or Open.
type testURLs struct{ links Links }

func (u testURLs) Click(int64, int64) string { return u.links.TestLink("view", "") }
func (u testURLs) Open(int64) string         { return "" }
func (u testURLs) Unsubscribe(int64) string  { return u.links.TestLink("unsubscribe", "") }
func (u testURLs) Preferences(int64) string  { return u.links.TestLink("preferences", "") }
func (u testURLs) View(int64) string         { return u.links.TestLink("view", "") }
func (u testURLs) Action(_, _ int64, slug string) string {
	return u.links.TestLink("action", slug)
}
