package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// DefaultSweepInterval is how often the process that dispatches sweeps when
// not told otherwise (DEARFRIEND_SWEEP_INTERVAL).
const DefaultSweepInterval = 30 * time.Second

// orphanLimit bounds the lost ranges one sweep sends again per campaign; the
// next sweep takes the rest.
const orphanLimit = 100

// Sweep makes the ledger, not Redis, the truth of what is left to send. It
// starts the scheduled campaigns whose time has come, enqueues again the
// waiting rows of every campaign sending (Resume: after a restart, or after
// Redis lost its data), and gives the rows a dead worker held, whose lease
// ran out, to new batches. Every step is idempotent: task ids refuse a batch
// already in Redis, leases keep two batches off the same row, and starting a
// campaign is a guarded status change, so several processes may sweep at once.
func (d *Dispatcher) Sweep(ctx context.Context, now time.Time) error {
	due, err := d.store.DueCampaigns(ctx, now)
	if err != nil {
		return err
	}
	for _, id := range due {
		if _, err := d.Send(ctx, id); errs.CodeOf(err) == errs.Conflict {
			continue // another dispatcher started it, or it was unscheduled
		} else if errs.CodeOf(err) == errs.Invalid {
			// Its message cannot be sent as it is (WithStartCheck): back to
			// draft, where the organizer sees it, rather than refused again
			// at every sweep, and the sweep goes on for the others.
			d.log.Error("scheduled campaign not started, back to draft", "campaign_id", id, "err", err)
			if uerr := d.store.UnscheduleCampaign(ctx, id); uerr != nil && errs.CodeOf(uerr) != errs.Conflict {
				return uerr
			}
			continue
		} else if err != nil {
			return fmt.Errorf("start scheduled campaign %d: %w", id, err)
		}
		d.log.Info("scheduled campaign started", "campaign_id", id)
	}
	if err := d.Resume(ctx); err != nil {
		return err
	}
	ids, err := d.store.CampaignsSending(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		orphans, err := d.store.OrphanedRanges(ctx, id, d.batchSize, now, orphanLimit)
		if err != nil {
			return err
		}
		for _, o := range orphans {
			task, err := NewRecoveryTask(o, id, d.queue)
			if err != nil {
				return err
			}
			if _, err := d.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return fmt.Errorf("campaign %d: send lost rows %d-%d again: %w", id, o.From, o.To, err)
			} else if err == nil {
				d.log.Warn("rows of a stopped worker sent again", "campaign_id", id, "from", o.From, "to", o.To, "lease_ended", o.Since)
			}
		}
	}
	return nil
}

// RunSweeps sweeps at once, then every interval until ctx is done. A failed
// sweep is logged and tried again at the next tick.
func (d *Dispatcher) RunSweeps(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := d.Sweep(ctx, d.clock.now(ctx)); err != nil && ctx.Err() == nil {
			d.log.Error("sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
