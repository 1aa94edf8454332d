package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// A campaign starts sending before its audience is in the ledger: Send
// copies the first page (firstPage contacts) and enqueues its batches, and a
// copy task copies the rest, page after page (store.CopyAudience). A restart
// finds the copy unfinished and enqueues the task again (Resume).
const (
	// DefaultFirstPage is the contacts Send copies before the first batch
	// is enqueued: an audience this small is copied whole, in one go. It
	// fills a worker's eight senders (8 batches of 250) and takes tens of
	// milliseconds, so the first message leaves soon after send.
	DefaultFirstPage = 2000
	// DefaultCopyPage is the contacts of each page the copy task adds.
	DefaultCopyPage = 10000
)

// TypeCopyAudience is the task that copies the rest of a campaign's audience.
const TypeCopyAudience = "campaign:copy_audience"

// CopyAudiencePayload names the campaign whose audience is copied.
type CopyAudiencePayload struct {
	CampaignID int64 `json:"campaign_id"`
}

// NewCopyAudienceTask makes the copy task of a campaign on queue; its id
// names the campaign, so a copy is enqueued once while it runs.
func NewCopyAudienceTask(p CopyAudiencePayload, queue string) (*asynq.Task, error) {
	if p.CampaignID <= 0 {
		return nil, fmt.Errorf("copy audience: bad campaign %d", p.CampaignID)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeCopyAudience, b, asynq.TaskID(fmt.Sprintf("copy:%d", p.CampaignID)),
		asynq.Queue(queue), asynq.MaxRetry(20), asynq.Timeout(time.Hour)), nil
}

// WithCopyPages sets the contacts copied before the first batch is
// enqueued and in each later page (DefaultFirstPage, DefaultCopyPage).
func WithCopyPages(first, page int) DispatcherOption {
	return func(d *Dispatcher) {
		if first > 0 {
			d.firstPage = first
		}
		if page > 0 {
			d.copyPage = page
		}
	}
}

// enqueueCopy enqueues the copy task of a campaign unless it is there already.
func (d *Dispatcher) enqueueCopy(ctx context.Context, campaignID int64) error {
	task, err := NewCopyAudienceTask(CopyAudiencePayload{CampaignID: campaignID}, d.queue)
	if err != nil {
		return err
	}
	if _, err := d.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("campaign %d: enqueue the copy of its audience: %w", campaignID, err)
	}
	return nil
}

// ProcessCopyAudience handles TypeCopyAudience: it copies the campaign's
// audience page after page until it is all in the ledger. Whenever dispatch
// had run out of rows before a page (its cursor past the last row then),
// dispatch is rewound and filled again, as Resume does; otherwise the
// batches in Redis chain to the page's rows (Next). Stopped, it is retried,
// and goes on from the ledger.
func (d *Dispatcher) ProcessCopyAudience(ctx context.Context, t *asynq.Task) error {
	var p CopyAudiencePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID <= 0 {
		return fmt.Errorf("bad copy audience payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	var analyzed int64 // the campaign's rows in the ledger at the last ANALYZE
	for {
		page, err := d.store.CopyAudience(ctx, p.CampaignID, d.copyPage)
		if err != nil {
			return err
		}
		camp, err := d.store.GetCampaign(ctx, p.CampaignID)
		if err != nil {
			return err
		}
		if page.More && camp.Total >= 2*analyzed {
			// The statistics follow the ledger as it doubles (6 times in the
			// copy of 1,000,000 rows, a quarter of a second each). Planned for
			// the rows of the last ANALYZE, dispatch read every waiting row
			// after its cursor through a bitmap scan and sorted them to find
			// the first: 500 ms a call, while the batches waited, through
			// the whole copy of a 300,000-recipient campaign.
			d.store.AnalyzeSends(ctx, camp.Total)
			analyzed = camp.Total
		}
		if page.Copied > 0 && camp.Status == store.CampaignSending && camp.DispatchedTo >= page.Before {
			// Rewound: the batch whose range the previous page ended in
			// ran before the page's rows of that range were there.
			if err := d.enqueue(ctx, p.CampaignID); err != nil {
				return err
			}
		}
		if !page.More {
			d.store.AnalyzeSends(ctx, camp.Total)
			d.log.Info("campaign audience copied", "campaign_id", p.CampaignID, "recipients", camp.Total)
			_, err := d.store.FinishIfDone(ctx, p.CampaignID)
			return err
		}
	}
}
