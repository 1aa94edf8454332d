package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Dispatcher starts campaigns: snapshot, then batch tasks.
type Dispatcher struct {
	store     *store.Store
	client    *asynq.Client
	queue     string
	batchSize int
	depth     int // batches of one campaign kept waiting in Redis
	firstPage int // contacts copied before the first batch (copy.go)
	copyPage  int // contacts of each later page
	check     func(ctx context.Context, campaignID int64) error
	clock     *dbClock // sweeps look for expired leases on the database's clock
	log       *slog.Logger
}

// DefaultDepth is how many batches of one campaign wait in Redis when
// NewDispatcher is not given a depth.
const DefaultDepth = 16

// DispatcherOption adjusts NewDispatcher.
type DispatcherOption func(*Dispatcher)

// WithDepth keeps at most about k batches of one campaign waiting in Redis
// (2 × the workers is enough to keep them busy). k below 1 is taken as 1.
func WithDepth(k int) DispatcherOption {
	return func(d *Dispatcher) { d.depth = max(k, 1) }
}

// WithStartCheck runs check before a campaign starts; its error refuses the
// start, nothing written. Messages.Check compiles what would be sent, so a
// message the compiler now refuses (a From address the DKIM signature does
// not align with) is named before anyone is mailed.
func WithStartCheck(check func(ctx context.Context, campaignID int64) error) DispatcherOption {
	return func(d *Dispatcher) { d.check = check }
}

// NewDispatcher returns a dispatcher enqueueing on queue through client.
func NewDispatcher(st *store.Store, client *asynq.Client, queue string, batchSize int, log *slog.Logger, opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{store: st, client: client, queue: queue, batchSize: batchSize, depth: DefaultDepth, log: log,
		firstPage: DefaultFirstPage, copyPage: DefaultCopyPage, clock: &dbClock{db: st, local: time.Now}}
	for _, opt := range opts {
		opt(d)
	}
	return d
}

// Send snapshots a draft campaign's audience into the ledger and enqueues its
// first batches; each batch, when done, enqueues the next (Next), so the
// batches waiting in Redis stay bounded whatever the audience's size. Only
// the audience's first page is copied before the first batches are
// enqueued; a copy task copies the rest meanwhile (copy.go). It returns the
// recipients in the ledger so far. A campaign already sent is a conflict
// and nothing is enqueued.
func (d *Dispatcher) Send(ctx context.Context, campaignID int64) (int64, error) {
	if d.check != nil {
		if err := d.check(ctx, campaignID); err != nil {
			return 0, err
		}
	}
	total, more, err := d.store.StartCampaignCopy(ctx, campaignID, d.firstPage)
	if err != nil {
		return 0, err
	}
	d.log.Info("campaign started", "campaign_id", campaignID, "recipients", total, "copying", more)
	if err := d.enqueue(ctx, campaignID); err != nil {
		return total, err
	}
	if more {
		if err := d.enqueueCopy(ctx, campaignID); err != nil {
			return total, err
		}
	}
	if err := d.checkABTest(ctx, campaignID); err != nil { // schedules the winner of an A/B test
		return total, err
	}
	if total == 0 && !more {
		_, err = d.store.FinishIfDone(ctx, campaignID)
	}
	return total, err
}

// Resume enqueues the waiting ledger rows of every campaign left sending: after
// a restart of the embedded mode, whose Redis forgot everything, or after a
// production Redis lost its data. Batches still in the queue keep their ids and
// are not enqueued twice.
func (d *Dispatcher) Resume(ctx context.Context) error {
	copying, err := d.store.CampaignsCopying(ctx)
	if err != nil {
		return err
	}
	for _, id := range copying { // a copy its process did not finish goes on
		if err := d.enqueueCopy(ctx, id); err != nil {
			return err
		}
	}
	ids, err := d.store.CampaignsSending(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.enqueue(ctx, id); err != nil {
			return fmt.Errorf("resume campaign %d: %w", id, err)
		}
		// A winner whose task Redis forgot is scheduled again, or chosen when due.
		if err := d.checkABTest(ctx, id); err != nil {
			return err
		}
		if _, err := d.store.FinishIfDone(ctx, id); err != nil {
			return err
		}
		d.log.Debug("campaign resumed", "campaign_id", id)
	}
	return nil
}

// Pause stops a sending campaign: within the workers' status refresh
// (statusTTL) no worker takes a new recipient of it. Its batches still in
// Redis are dropped when they come up; Unpause dispatches again from the ledger.
func (d *Dispatcher) Pause(ctx context.Context, campaignID int64) error {
	if err := d.store.PauseCampaign(ctx, campaignID); err != nil {
		return err
	}
	d.log.Info("campaign paused", "campaign_id", campaignID)
	return nil
}

// Unpause makes a paused campaign sending again and dispatches its waiting
// ledger rows (queued or deferred) from the start of the ledger: rows sent
// before the pause are not waiting, so nobody gets the message twice.
func (d *Dispatcher) Unpause(ctx context.Context, campaignID int64) error {
	if err := d.store.ResumeCampaign(ctx, campaignID); err != nil {
		return err
	}
	if err := d.enqueue(ctx, campaignID); err != nil {
		return err
	}
	if err := d.checkABTest(ctx, campaignID); err != nil {
		return err
	}
	if _, err := d.store.FinishIfDone(ctx, campaignID); err != nil {
		return err
	}
	d.log.Info("campaign unpaused", "campaign_id", campaignID)
	return nil
}

// Cancel stops a sending or paused campaign for good: its waiting rows are
// skipped. It returns how many were.
func (d *Dispatcher) Cancel(ctx context.Context, campaignID int64) (int64, error) {
	n, err := d.store.CancelCampaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	d.log.Info("campaign cancelled", "campaign_id", campaignID, "skipped", n)
	return n, nil
}

// ResendUnknown puts back to waiting the rows of a campaign whose message
// went out without a reply from the relay (store.SendUnknown), and sends
// them again unless the campaign is paused. The organizer asks for it,
// accepting that some recipients may get the message twice. It returns how
// many rows wait again.
func (d *Dispatcher) ResendUnknown(ctx context.Context, campaignID int64) (int64, error) {
	n, err := d.store.ResendUnknown(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	d.log.Info("unknown outcomes sent again", "campaign_id", campaignID, "rows", n)
	status, err := d.store.CampaignControl(ctx, campaignID)
	if err != nil || status.Status != store.CampaignSending {
		return n, err
	}
	if err := d.enqueue(ctx, campaignID); err != nil {
		return n, err
	}
	_, err = d.store.FinishIfDone(ctx, campaignID)
	return n, err
}

// Next enqueues the next batch of a campaign after the dispatch cursor, if
// any: a batch task calls it when it is done.
func (d *Dispatcher) Next(ctx context.Context, campaignID int64) (bool, error) {
	// Batches already in Redis are passed over: after a sweep rewound the
	// cursor, the batch that follows is after those.
	added, err := d.fill(ctx, campaignID, 1, true)
	return added > 0, err
}

// enqueue rewinds the campaign's dispatch cursor and enqueues its first
// depth batches of waiting rows. Batches still in Redis keep their ids
// (aligned ranges, store.NextDispatch) and are not enqueued twice.
func (d *Dispatcher) enqueue(ctx context.Context, campaignID int64) error {
	if err := d.store.RewindDispatch(ctx, campaignID); err != nil {
		return err
	}
	_, err := d.fill(ctx, campaignID, d.depth, false)
	return err
}

// fill takes up to n batches from the dispatch cursor on and enqueues them. A
// batch already in Redis counts as one of the n, unless passTaken: then only
// batches newly enqueued count. It returns how many it counted.
func (d *Dispatcher) fill(ctx context.Context, campaignID int64, n int, passTaken bool) (added int, err error) {
	for added < n {
		lo, hi, ok, err := d.store.NextDispatch(ctx, campaignID, d.batchSize)
		if err != nil || !ok {
			return added, err
		}
		task, err := NewSendBatchTask(SendBatchPayload{CampaignID: campaignID, From: lo, To: hi}, d.queue)
		if err != nil {
			return added, err
		}
		_, err = d.client.EnqueueContext(ctx, task)
		if err == nil || !passTaken {
			added++
		}
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			// The cursor moved past a batch not enqueued: rewind it so the
			// next fill takes the batch again (ranges are aligned, so
			// batches already in Redis are not doubled).
			if rerr := d.store.RewindDispatch(context.WithoutCancel(ctx), campaignID); rerr != nil {
				d.log.Error("rewind dispatch", "campaign_id", campaignID, "err", rerr)
			}
			return added, fmt.Errorf("enqueue batch %d-%d: %w", lo, hi, err)
		}
	}
	return added, nil
}
