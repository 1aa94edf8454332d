package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TypeConfirmSignature is the task that thanks a signer by email.
const TypeConfirmSignature = "signature:confirm"

// ConfirmPayload names the signature to confirm and, when the signer was not
// recognized and asked to change a contact we know, the link that applies
// the changes (pkg/action seals them into it).
type ConfirmPayload struct {
	SignatureID int64  `json:"signature_id"`
	Link        string `json:"link,omitempty"`
}

// confirmRetention keeps a done confirmation task's id taken, so a second
// enqueue for the same signature within it is refused, not mailed twice.
const confirmRetention = 7 * 24 * time.Hour

// NewConfirmTask makes the task for p on queue. Its id is the signature's:
// enqueueing the confirmation of one signature twice sends it once.
func NewConfirmTask(p ConfirmPayload, queue string) (*asynq.Task, error) {
	if p.SignatureID <= 0 {
		return nil, fmt.Errorf("confirm signature: bad payload %+v", p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeConfirmSignature, b, asynq.Queue(queue), asynq.TaskID("signature-confirm-"+strconv.FormatInt(p.SignatureID, 10)),
		asynq.Retention(confirmRetention), asynq.MaxRetry(5), asynq.Timeout(time.Minute)), nil
}

// Confirmations queues and sends the email that thanks a signer. It is a
// transactional message: rendered and sent like a test send, with no ledger
// row and no campaign, and never to a suppressed address.
type Confirmations struct {
	client              *asynq.Client
	queue               string
	worker              *Worker // renders and sends; nil in a process that only enqueues
	fromName, fromEmail string
	log                 *slog.Logger
	// sender, when set, gives the sender at each send instead (SenderFrom).
	sender func(ctx context.Context) (name, email string, err error)
}

// SenderFrom makes each confirmation come from the sender sender gives at
// its send (the organization's default sender, which an admin may change)
// rather than the one given to NewConfirmations.
func (c *Confirmations) SenderFrom(sender func(ctx context.Context) (name, email string, err error)) {
	c.sender = sender
}

// NewConfirmations returns the confirmations queued on queue through client
// and, when worker is not nil, sent through it from fromName <fromEmail>.
func NewConfirmations(client *asynq.Client, queue string, worker *Worker, fromName, fromEmail string, log *slog.Logger) *Confirmations {
	return &Confirmations{client: client, queue: queue, worker: worker, fromName: fromName, fromEmail: fromEmail, log: log}
}

// Confirm queues the confirmation of signature signatureID; asking again
// for the same signature is not an error and sends nothing more.
func (c *Confirmations) Confirm(ctx context.Context, signatureID int64) error {
	return c.ConfirmChanges(ctx, signatureID, "")
}

// ConfirmChanges is Confirm with link, which the email offers to apply the
// changes the signer asked for; "" offers none.
func (c *Confirmations) ConfirmChanges(ctx context.Context, signatureID int64, link string) error {
	task, err := NewConfirmTask(ConfirmPayload{SignatureID: signatureID, Link: link}, c.queue)
	if err != nil {
		return err
	}
	if _, err := c.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("enqueue signature confirmation: %w", err)
	}
	return nil
}

// ProcessTask sends one confirmation. A signature or petition gone, or an
// address that must not be mailed, ends the task without a send.
func (c *Confirmations) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p ConfirmPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.SignatureID <= 0 {
		return fmt.Errorf("bad signature confirmation payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	if c.sender != nil {
		name, email, err := c.sender(ctx)
		if err != nil {
			return fmt.Errorf("signature confirmation sender: %w", err)
		}
		from := *c
		from.fromName, from.fromEmail, from.sender = name, email, nil
		return from.ProcessTask(ctx, t)
	}
	st := c.worker.store
	sig, err := st.GetSignature(ctx, p.SignatureID)
	if err != nil {
		return skipIfGone(err)
	}
	pet, err := st.GetPetition(ctx, sig.PetitionID)
	if err != nil {
		return skipIfGone(err)
	}
	contact, err := st.GetContact(ctx, sig.ContactID)
	if err != nil {
		return skipIfGone(err)
	}
	if contact.Status == store.ContactBounced || contact.Status == store.ContactComplained {
		c.log.Info("signature confirmation not sent: address undeliverable", "signature_id", sig.ID, "status", contact.Status)
		return nil
	}
	if suppressed, err := st.IsSuppressed(ctx, contact.Email); err != nil {
		return err
	} else if suppressed {
		c.log.Info("signature confirmation not sent: address suppressed", "signature_id", sig.ID)
		return nil
	}
	compiled, err := c.worker.messages.compiler.Compile(c.input(pet, p.Link))
	if err != nil {
		return fmt.Errorf("confirmation of signature %d: %w: %w", sig.ID, err, asynq.SkipRetry)
	}
	m, err := c.worker.testMessage(compiled, render.Recipient{Email: contact.Email, FirstName: contact.FirstName, LastName: contact.LastName}, false)
	if err != nil {
		return fmt.Errorf("confirmation of signature %d: %w: %w", sig.ID, err, asynq.SkipRetry)
	}
	// Transactional: no list headers (there is no list to leave), and a
	// Message-ID of the signature's own, the same on every retry.
	m.MessageID = c.worker.messageID("sig"+strconv.FormatInt(sig.ID, 10), c.fromEmail)
	m.Headers = []mailer.Header{{Name: "Auto-Submitted", Value: "auto-generated"}}
	res := c.worker.sender.Send(ctx, m)
	switch res.Status {
	case mailer.StatusSent:
		c.log.Info("signature confirmed", "signature_id", sig.ID, "petition_id", pet.ID)
		return nil
	case mailer.StatusDeferred:
		return fmt.Errorf("confirmation of signature %d deferred: %d %s", sig.ID, res.Code, res.Reply)
	case mailer.StatusUnknown: // it may have arrived: a retry could send it twice
		c.log.Warn("signature confirmation sent without a reply from the relay; not sent again", "signature_id", sig.ID, "reply", res.Reply)
		return nil
	default:
		c.log.Warn("signature confirmation refused", "signature_id", sig.ID, "code", res.Code, "reply", res.Reply)
		return nil
	}
}

// input is the confirmation of petition p as a message, offering link when
// there are changes to confirm. The petition's own words are escaped out of
// the template language: an organizer's "{{" is text.
func (c *Confirmations) input(p *store.Petition, link string) render.Input {
	text := func(s string) string { return strings.ReplaceAll(html.EscapeString(s), "{{", `{{"{{"}}`) }
	body := "<p>Dear {{ or .FirstName \"friend\" }},</p>\n<p>Thank you for signing “" + text(p.Title) + "”"
	if p.Target != "" {
		body += " to " + text(p.Target)
	}
	body += ".</p>\n"
	if p.ThankYouText != "" {
		body += "<p>" + text(p.ThankYouText) + "</p>\n"
	}
	if link != "" {
		// Not tracked: a transactional email, and the link is a secret.
		body += "<p>Whoever signed also asked us to update your details or to email you. " +
			"Nothing changes until you confirm: <a href=\"" + text(link) + "\" data-notrack>review and confirm the changes</a> " +
			"(the link works for 7 days). If it was not you, ignore this email.</p>\n"
	}
	body += "<p>This email confirms your signature; we send it once.</p>\n" +
		"<p>{{ .OrgName }}, {{ .PostalAddress }}</p>\n"
	return render.Input{Subject: "Thank you for signing: " + strings.ReplaceAll(p.Title, "{{", `{{"{{"}}`), FromName: c.fromName, FromEmail: c.fromEmail, Layout: "none",
		HTML: "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Thank you</title></head><body>\n" + body + "</body></html>"}
}

// skipIfGone ends a task whose record was deleted; other errors retry.
func skipIfGone(err error) error {
	if errs.CodeOf(err) == errs.NotFound {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
