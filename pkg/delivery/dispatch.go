package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Dispatcher starts campaigns: snapshot, then batch tasks.
type Dispatcher struct {
	store     *store.Store
	client    *asynq.Client
	queue     string
	batchSize int
	log       *slog.Logger
}

// NewDispatcher returns a dispatcher enqueueing on queue through client.
func NewDispatcher(st *store.Store, client *asynq.Client, queue string, batchSize int, log *slog.Logger) *Dispatcher {
	return &Dispatcher{store: st, client: client, queue: queue, batchSize: batchSize, log: log}
}

// Send snapshots a draft campaign's audience into the ledger and enqueues its
// batches. A campaign already sent is a conflict and nothing is enqueued.
func (d *Dispatcher) Send(ctx context.Context, campaignID int64) (int64, error) {
	total, err := d.store.StartCampaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	d.log.Info("campaign started", "campaign_id", campaignID, "recipients", total)
	if err := d.enqueue(ctx, campaignID); err != nil {
		return total, err
	}
	if total == 0 {
		_, err = d.store.FinishIfDone(ctx, campaignID)
	}
	return total, err
}

// Resume enqueues the waiting ledger rows of every campaign left sending: after
// a restart of the embedded mode, whose Redis forgot everything, or after a
// production Redis lost its data. Batches still in the queue keep their ids and
// are not enqueued twice.
func (d *Dispatcher) Resume(ctx context.Context) error {
	ids, err := d.store.CampaignsSending(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.enqueue(ctx, id); err != nil {
			return fmt.Errorf("resume campaign %d: %w", id, err)
		}
		if _, err := d.store.FinishIfDone(ctx, id); err != nil {
			return err
		}
		d.log.Info("campaign resumed", "campaign_id", id)
	}
	return nil
}

func (d *Dispatcher) enqueue(ctx context.Context, campaignID int64) error {
	var after int64
	for {
		lo, hi, ok, err := d.store.NextBatch(ctx, campaignID, after, d.batchSize)
		if err != nil || !ok {
			return err
		}
		task, err := NewSendBatchTask(SendBatchPayload{CampaignID: campaignID, From: lo, To: hi}, d.queue)
		if err != nil {
			return err
		}
		if _, err := d.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue batch %d-%d: %w", lo, hi, err)
		}
		after = hi
	}
}
