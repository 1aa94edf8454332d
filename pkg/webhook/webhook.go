// Package webhook owns outgoing webhooks: it turns a domain event
// (unsubscribe, bounce, later signature) into one queued delivery per
// subscribed URL, and delivers each as a JSON POST signed with the webhook's
// secret, retried by the queue until the receiver answers 2xx. It must not
// decide what happened: callers tell it.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Events a webhook can subscribe to.
const (
	EventUnsubscribe = "unsubscribe"
	EventBounce      = "bounce"
	EventSignature   = "signature"
	// EventComplaint: a recipient marked a message as spam (a feedback loop).
	EventComplaint = "complaint"
	// EventCampaignPaused: the reputation guard paused a sending campaign.
	EventCampaignPaused = "campaign.paused"
)

// Events lists every event a webhook may name.
var Events = []string{EventUnsubscribe, EventBounce, EventSignature, EventComplaint, EventCampaignPaused}

// Headers of every delivery. The signature is "sha256=" and the hex HMAC-SHA256,
// keyed by the webhook's secret, of the timestamp, a dot and the body: a
// receiver recomputes it and refuses a timestamp more than a few minutes old.
const (
	HeaderEvent     = "X-Dearfriend-Event"
	HeaderDelivery  = "X-Dearfriend-Delivery"
	HeaderTimestamp = "X-Dearfriend-Timestamp"
	HeaderSignature = "X-Dearfriend-Signature"
)

// TypeDeliver is the task that posts one event to one webhook.
const TypeDeliver = "webhook:deliver"

// DeliverPayload is one delivery: the body is fixed when the event happens,
// so every retry posts the same bytes.
type DeliverPayload struct {
	WebhookID int64           `json:"webhook_id"`
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Body      json.RawMessage `json:"body"`
}

// NewDeliverTask makes the task of p on queue; its id makes enqueueing it twice harmless.
func NewDeliverTask(p DeliverPayload, queue string) (*asynq.Task, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeDeliver, b,
		asynq.TaskID(fmt.Sprintf("webhook:%d:%s", p.WebhookID, p.ID)),
		asynq.Queue(queue),
		asynq.MaxRetry(12),
		asynq.Timeout(30*time.Second),
	), nil
}

// Sign returns the signature header value of body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Store is what webhooks need of the database.
type Store interface {
	WebhooksFor(ctx context.Context, event string) ([]store.Webhook, error)
	GetWebhook(ctx context.Context, id int64) (*store.Webhook, error)
}

var _ Store = (*store.Store)(nil)

// Enqueuer queues tasks; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Notifier queues one delivery per webhook subscribed to an event.
type Notifier struct {
	store Store
	queue Enqueuer
	name  string // queue name
	now   func() time.Time
}

// NewNotifier returns a notifier queueing on queue.
func NewNotifier(st Store, q Enqueuer, queue string) *Notifier {
	return &Notifier{store: st, queue: q, name: queue, now: time.Now}
}

// Notify queues event with data for every webhook subscribed to it.
func (n *Notifier) Notify(ctx context.Context, event string, data map[string]any) error {
	hooks, err := n.store.WebhooksFor(ctx, event)
	if err != nil || len(hooks) == 0 {
		return err
	}
	id := newID()
	body, err := json.Marshal(map[string]any{"id": id, "event": event, "created_at": n.now().UTC(), "data": data})
	if err != nil {
		return err
	}
	for _, h := range hooks {
		t, err := NewDeliverTask(DeliverPayload{WebhookID: h.ID, ID: id, Event: event, Body: body}, n.name)
		if err != nil {
			return err
		}
		if _, err := n.queue.EnqueueContext(ctx, t); err != nil {
			return fmt.Errorf("queue webhook %d: %w", h.ID, err)
		}
	}
	return nil
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Deliverer handles delivery tasks.
type Deliverer struct {
	store  Store
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
}

// NewDeliverer returns the task handler; client nil means a 10-second-timeout client.
func NewDeliverer(st Store, client *http.Client, log *slog.Logger) *Deliverer {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Deliverer{store: st, client: client, now: time.Now, log: log}
}

// ProcessTask posts one delivery; anything but a 2xx answer is retried by the queue.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p DeliverPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.WebhookID <= 0 || len(p.Body) == 0 {
		return fmt.Errorf("bad webhook payload: %w", asynq.SkipRetry)
	}
	hook, err := d.store.GetWebhook(ctx, p.WebhookID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // deleted since: nobody to tell
	}
	if err != nil {
		return err
	}
	ts := d.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(p.Body))
	if err != nil {
		return fmt.Errorf("webhook %d: %v: %w", hook.ID, err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dearfriend-webhook/1")
	req.Header.Set(HeaderEvent, p.Event)
	req.Header.Set(HeaderDelivery, p.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(hook.Secret, ts, p.Body))
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %d: %w", hook.ID, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %d: %s answered %d", hook.ID, hook.URL, resp.StatusCode)
	}
	return nil
}
