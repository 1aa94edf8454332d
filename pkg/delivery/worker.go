package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Sender delivers one message and says how the relay answered.
type Sender interface {
	Send(ctx context.Context, m *mailer.Message) mailer.Result
}

var _ Sender = (*mailer.Pool)(nil)

// Links gives the per-send URLs and tokens the headers need.
type Links interface {
	render.URLs
	UnsubscribeToken(sendID int64) string
	BounceToken(sendID int64) string
	TestLink(what, slug string) string // a test email's page in place of a per-send URL
}

// WorkerOption adjusts NewWorker.
type WorkerOption func(*Worker)

// WithBounceDomain turns on VERP: the envelope sender of each message is
// bounce+<token>@domain, the token naming the send, so that a bounce can be
// traced to it. Without it the envelope sender is the From address.
func WithBounceDomain(domain string) WorkerOption {
	return func(w *Worker) { w.bounceDomain = domain }
}

// WithOrgShortName sets the organization's field of the Feedback-ID header
// ("org" without it).
func WithOrgShortName(name string) WorkerOption {
	return func(w *Worker) {
		if name != "" {
			w.orgShortName = name
		}
	}
}

// Notifier is told of each hard bounce (outgoing webhooks).
type Notifier interface {
	Notify(ctx context.Context, event string, data map[string]any) error
}

// WithBounceNotifier tells n of every hard bounce, after it is recorded.
func WithBounceNotifier(n Notifier) WorkerOption {
	return func(w *Worker) { w.notifier = n }
}

// Chain enqueues the batch that follows a finished one (Dispatcher.Next).
type Chain interface {
	// Next enqueues the campaign's next batch; more reports that it did,
	// so rows still wait and the campaign is not done.
	Next(ctx context.Context, campaignID int64) (more bool, err error)
}

var _ Chain = (*Dispatcher)(nil)

// WithChain makes each batch, when done, enqueue the next batch of its
// campaign through c. Without it a worker sends only the batches it is given.
func WithChain(c Chain) WorkerOption {
	return func(w *Worker) { w.chain = c }
}

// statusTTL is how long a worker trusts the status of a campaign it read: a
// pause stops new recipients within about this time.
const statusTTL = 500 * time.Millisecond

// statusCache remembers campaign statuses for statusTTL, per process.
type statusCache struct {
	mu   sync.Mutex
	seen map[int64]cachedStatus
}

// cachedStatus is a campaign's status and rate, as read at a time.
type cachedStatus struct {
	store.CampaignControl
	at time.Time
}

// get returns the status of campaign id, reading it again when older than statusTTL.
func (c *statusCache) get(ctx context.Context, st *store.Store, id int64, now time.Time) (string, error) {
	cc, err := c.control(ctx, st, id, now)
	return cc.Status, err
}

// control returns the status and rate of campaign id, reading them again
// when older than statusTTL: a rate changed mid-send applies within it.
func (c *statusCache) control(ctx context.Context, st *store.Store, id int64, now time.Time) (store.CampaignControl, error) {
	c.mu.Lock()
	cs, ok := c.seen[id]
	c.mu.Unlock()
	if ok && now.Sub(cs.at) < statusTTL {
		return cs.CampaignControl, nil
	}
	cc, err := st.CampaignControl(ctx, id)
	if err != nil {
		return cc, err
	}
	c.mu.Lock()
	if c.seen == nil || len(c.seen) > 1000 { // a few campaigns send at once; forget the old ones
		c.seen = map[int64]cachedStatus{}
	}
	c.seen[id] = cachedStatus{CampaignControl: cc, at: now}
	c.mu.Unlock()
	return cc, nil
}

// Worker handles send batch tasks.
type Worker struct {
	store       *store.Store
	messages    *Messages
	sender      Sender
	links       Links
	mailto      string // address of the mailto List-Unsubscribe
	maxAttempts int

	bounceDomain string   // VERP; empty: the From address is the envelope sender
	orgShortName string   // Feedback-ID's organization field
	deployment   string   // in every Message-ID (WithDeploymentID)
	notifier     Notifier // nil: nobody is told of bounces
	chain        Chain    // nil: a finished batch enqueues nothing
	statuses     statusCache
	limiter      mailer.RateWaiter // nil: campaign rates are not enforced
	maxRetryAge  time.Duration     // 0: retries are bounded by attempts only
	lease        time.Duration     // how long a claim holds its rows (lease.go)
	check        *checker          // nil: nothing watches a campaign's outcomes (check.go)
	now          func() time.Time
	clock        *dbClock // the database's time, which leases are in (clock.go)
	log          *slog.Logger
	// life ends with Close: outcome writes stop retrying (commit.go).
	life    context.Context
	stop    context.CancelFunc
	commits *committer // writes the outcomes of this process's senders
	// draining ends with Drain: batches take no new recipient and are
	// handed back to the queue.
	draining context.Context
	drain    context.CancelFunc
	active   sync.WaitGroup // batches running (Wait)
}

// NewWorker returns the batch handler.
func NewWorker(st *store.Store, messages *Messages, sender Sender, links Links, unsubscribeMailto string, maxAttempts int, log *slog.Logger, opts ...WorkerOption) *Worker {
	w := &Worker{store: st, messages: messages, sender: sender, links: links, mailto: unsubscribeMailto,
		maxAttempts: maxAttempts, now: time.Now, log: log, orgShortName: "org", lease: DefaultLease}
	w.life, w.stop = context.WithCancel(context.Background())
	w.draining, w.drain = context.WithCancel(context.Background())
	w.commits = newCommitter(st, log, w.life)
	w.clock = &dbClock{db: st, local: func() time.Time { return w.now() }}
	for _, opt := range opts {
		opt(w)
	}
	return w
}

// Close makes outcome writes still being retried give up: call it when the
// process ends, before the store closes.
func (w *Worker) Close() { w.stop() }

// Drain is the start of a graceful stop (SIGTERM): every batch running takes
// no new recipient; it waits for the relay's answer to the message on its
// connection, commits the outcomes, gives its other claimed rows back, and
// hands its task back to the queue (errHandedBack), for another worker to
// take within a second. Nothing is lost and nothing is sent twice.
func (w *Worker) Drain() { w.drain() }

// Wait waits until every batch running has returned, its outcomes durable
// and its rows given back, or until ctx is done: asynq stops waiting for a
// handler at its ShutdownTimeout, this is the rest of that handler.
func (w *Worker) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { w.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errHandedBack makes asynq give a batch of a stopping worker to another
// one (RetryDelay: a second).
var errHandedBack = errors.New("handed back by a stopping worker")

// errDeferred makes asynq retry a batch later; only the still-waiting rows are sent again.
var errDeferred = errors.New("recipients deferred by the relay")

// errCopying makes asynq retry a batch whose range the audience copy had not filled yet.
var errCopying = errors.New("range not yet copied whole")

// ProcessTask sends the waiting rows of one batch. It is idempotent: rows
// already sent are not in the waiting set, so a redelivered task sends nobody twice.
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) (err error) {
	w.active.Add(1)
	defer w.active.Done()
	var p SendBatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID <= 0 || p.To < p.From {
		return fmt.Errorf("bad send batch payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	camp, err := w.store.GetCampaign(ctx, p.CampaignID)
	if err != nil {
		return err
	}
	if camp.Status != store.CampaignSending {
		return nil
	}
	compiled, err := w.messages.ForCampaign(ctx, p.CampaignID)
	if err != nil {
		return fmt.Errorf("compile campaign %d: %w", p.CampaignID, err)
	}
	// Rows are claimed under a lease as the batch goes (lease.go): a batch
	// overlapping this one, or enqueued again after Redis lost it, takes
	// other rows, never these.
	held := w.newHolder(p)
	defer func() {
		if err := held.release(); err != nil {
			w.log.Error("release leases", "campaign_id", p.CampaignID, "err", err)
		}
	}()
	// The batch's outcomes go to the process's committer (commit.go); the
	// task ends when they are all durable, even when it is being stopped.
	out := w.commits.join()
	defer func() {
		if lerr := out.leave(); lerr != nil && err == nil {
			err = lerr
		}
	}()
	// Messages go to the relay through the sender's lane (lane.go): the
	// one left open there is sent before the outcomes are waited for
	// (out.leave, above), whatever ends the batch.
	bs := &batchSend{w: w, out: out, camp: camp, lane: w.lane()}
	defer bs.flush(ctx)
	// A drain cuts a wait for the rate short, not a message under way.
	paceCtx, stopPace := context.WithCancel(ctx)
	defer context.AfterFunc(w.draining, stopPace)()
	handBack := func() error {
		w.log.Info("batch handed back", "campaign_id", p.CampaignID, "from", p.From, "to", p.To)
		return fmt.Errorf("campaign %d batch %d-%d: %w", p.CampaignID, p.From, p.To, errHandedBack)
	}
	// copying is whether the audience copy was still going when the range
	// ran out of rows before its end (asked once, copyChecked).
	copying, copyChecked := false, false
	for {
		// Paced before a row is taken, so the wait does not eat its lease;
		// the message open in the lane goes out before a wait.
		if err := w.pace(paceCtx, p.CampaignID, func() { bs.flush(ctx) }); err != nil {
			if w.draining.Err() != nil && ctx.Err() == nil {
				return handBack()
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.draining.Err() != nil {
			return handBack()
		}
		// Paused or cancelled: take no new recipient. The rows left wait
		// in the ledger, and the claimed ones not handed out are given back
		// (release); resuming dispatches them again. Checked before a row is
		// handed out, so that a row handed out is always sent.
		if status, err := w.statuses.get(ctx, w.store, p.CampaignID, time.Now()); err != nil {
			return err
		} else if status != store.CampaignSending {
			w.log.Info("batch stopped", "campaign_id", p.CampaignID, "status", status, "from", p.From, "to", p.To)
			return nil
		}
		// The two-back rule: the relay gets the next message only once the
		// outcome of the one two before it is durable. Waited for before
		// the row is taken, so that the wait does not eat its lease. The
		// lane writes the data of the message open in it when it is handed
		// the next one: that is when the relay gets it.
		if err := out.settle(maxUndurable); err != nil {
			return err
		}
		r, ok, err := held.next(ctx)
		if err != nil {
			return err
		} else if !ok && held.after < p.To && !copyChecked {
			// The range is not spent: its end may still be being copied
			// (copy.go). Asked once: if the copy is still going, the batch
			// runs again after a retry's pause; if it ended, perhaps after
			// the claim just made, one more claim finds the rows it added.
			copyChecked = true
			if copying, err = w.store.Copying(ctx, p.CampaignID); err != nil {
				return err
			} else if !copying {
				continue
			}
			break
		} else if !ok {
			break
		}
		if !r.Mailable() {
			reason := "contact is " + r.ContactStatus
			if r.Suppressed {
				reason = "address is suppressed"
			}
			out.hand(store.Outcome{SendID: r.SendID, Status: store.SendSkipped, Reply: reason}, nil)
			continue
		}
		c := compiled
		if r.VariantID != 0 { // an A/B variant: its own subject or body, compiled once per process
			if c, err = w.messages.ForVariant(ctx, p.CampaignID, r.VariantID); err != nil {
				return fmt.Errorf("compile campaign %d variant %d: %w", p.CampaignID, r.VariantID, err)
			}
		}
		bs.send(ctx, c, r)
	}
	bs.flush(ctx)
	deferred, urgent := bs.deferred, bs.urgent
	// The batch's outcomes, durable before it counts what is left; it
	// hands over no more, so the committer stops counting it as a sender.
	if err := out.leave(); err != nil {
		return err
	}
	w.checkOutcomes(ctx, p.CampaignID, urgent)
	more := false // a batch enqueued: rows wait, the campaign is not done
	if w.chain != nil {
		if more, err = w.chain.Next(ctx, p.CampaignID); err != nil {
			return fmt.Errorf("campaign %d: next batch: %w", p.CampaignID, err)
		}
	}
	if deferred > 0 {
		return fmt.Errorf("campaign %d batch %d-%d: %d %w", p.CampaignID, p.From, p.To, deferred, errDeferred)
	}
	// A batch at the end of an audience still being copied (copy.go) may
	// have run before the rest of its range was in the ledger: it runs
	// again after a retry's pause, and takes the rows copied meanwhile.
	if copying {
		return fmt.Errorf("campaign %d batch %d-%d: %w", p.CampaignID, p.From, p.To, errCopying)
	}
	if more {
		return nil
	}
	if done, err := w.store.FinishIfDone(ctx, p.CampaignID); err != nil {
		return err
	} else if done {
		w.log.Info("campaign finished", "campaign_id", p.CampaignID)
	}
	return nil
}

// recorded runs once an outcome is durable: a hard bounce is told to the
// notifier (outgoing webhooks).
func (w *Worker) recorded(ctx context.Context, camp *store.Campaign, r store.Recipient, o store.Outcome) {
	if o.Status == store.SendBounced && w.notifier != nil {
		data := map[string]any{"email": r.Email, "contact_id": r.ContactID, "campaign_id": camp.ID, "reply": o.Reply, "at": w.now().UTC()}
		if nerr := w.notifier.Notify(ctx, "bounce", data); nerr != nil {
			w.log.Error("queue bounce webhook", "send_id", r.SendID, "err", nerr)
		}
	}
}

// ledgerStatus is the ledger's word for a relay's answer.
func ledgerStatus(ctx context.Context, res mailer.Result) string {
	switch {
	case res.Status == mailer.StatusDeferred && res.Throttled():
		return sendThrottled
	case res.Status == mailer.StatusDeferred && ctx.Err() != nil:
		return sendUntried
	}
	switch res.Status {
	case mailer.StatusSent:
		return store.SendSent
	case mailer.StatusBounced:
		return store.SendBounced
	case mailer.StatusFailed:
		return store.SendFailed
	case mailer.StatusBlocked:
		return store.SendBlocked
	case mailer.StatusUnknown:
		return store.SendUnknown
	default:
		return store.SendDeferred
	}
}

// message assembles the envelope and headers of one recipient's email:
// Message-ID c<campaign>.s<send>.<deployment>@<From domain>, so that a reply or a
// complaint names its send; List-Unsubscribe with the one-click HTTPS URL
// (RFC 8058) and a mailto; List-Id per campaign; Feedback-ID in Gmail's
// format, <campaign>:<list or 0>:<organization>:dearfriend, so the postmaster
// tools report complaints per campaign; and, with a bounce domain, a VERP
// envelope sender.
func (w *Worker) message(camp *store.Campaign, c *render.Compiled, r store.Recipient, out render.Rendered) *mailer.Message {
	domain := "localhost"
	if _, d, ok := strings.Cut(c.FromEmail, "@"); ok {
		domain = d
	}
	campaign := strconv.FormatInt(camp.ID, 10)
	unsub := "<" + w.links.Unsubscribe(r.SendID) + ">"
	if w.mailto != "" {
		unsub += ", <mailto:" + w.mailto + "?subject=unsubscribe-" + w.links.UnsubscribeToken(r.SendID) + ">"
	}
	var list int64
	if len(camp.Audience.Lists) == 1 {
		list = camp.Audience.Lists[0]
	}
	var envelopeFrom string
	if w.bounceDomain != "" {
		envelopeFrom = "bounce+" + w.links.BounceToken(r.SendID) + "@" + w.bounceDomain
	}
	return &mailer.Message{
		FromName:  c.FromName,
		FromEmail: c.FromEmail,
		ReplyTo:   c.ReplyTo,
		ToName:    strings.TrimSpace(r.FirstName + " " + r.LastName),
		ToEmail:   r.Email,
		Subject:   out.Subject,
		MessageID: w.campaignMessageID(camp.ID, r.SendID, c.FromEmail),
		Date:      w.now(),
		Headers: []mailer.Header{
			{Name: "List-Unsubscribe", Value: unsub},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "List-Id", Value: "<campaign-" + campaign + "." + domain + ">"},
			{Name: "Feedback-ID", Value: campaign + ":" + strconv.FormatInt(list, 10) + ":" + w.orgShortName + ":dearfriend"},
			{Name: "X-Campaign-ID", Value: campaign},
		},
		HTML:         out.HTML,
		Text:         out.Text,
		EnvelopeFrom: envelopeFrom,
	}
}
