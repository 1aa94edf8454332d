package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TypeDecideWinner is the task that ends a campaign's A/B test: it chooses
// the winner and sends it to the rest of the audience.
const TypeDecideWinner = "campaign:decide_winner"

// DecideWinnerPayload names the campaign whose winner is due.
type DecideWinnerPayload struct {
	CampaignID int64 `json:"campaign_id"`
}

// NewDecideWinnerTask makes the task for p on queue, to run at at. Its id is
// derived from the campaign, so scheduling it again (at start-up, on resume)
// while it waits in Redis adds nothing.
func NewDecideWinnerTask(p DecideWinnerPayload, queue string, at time.Time) (*asynq.Task, error) {
	if p.CampaignID <= 0 {
		return nil, fmt.Errorf("decide winner: bad campaign %d", p.CampaignID)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeDecideWinner, b,
		asynq.TaskID(fmt.Sprintf("winner:%d", p.CampaignID)),
		asynq.Queue(queue),
		asynq.ProcessAt(at),
		asynq.MaxRetry(20),
		asynq.Timeout(30*time.Minute),
	), nil
}

// releasePage is how many held ledger rows one UPDATE moves to the winner.
const releasePage = 1000

// ProcessDecideWinner handles TypeDecideWinner: the winner by the campaign's
// metric is chosen, unless one was already (by hand, or by an earlier run
// that stopped before the held rows were all released), and the rest of the
// audience is sent it.
func (d *Dispatcher) ProcessDecideWinner(ctx context.Context, t *asynq.Task) error {
	var p DecideWinnerPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID <= 0 {
		return fmt.Errorf("bad decide winner payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	c, err := d.store.GetCampaign(ctx, p.CampaignID)
	if errs.CodeOf(err) == errs.NotFound {
		return fmt.Errorf("decide winner: %w: %w", err, asynq.SkipRetry)
	} else if err != nil {
		return err
	}
	return d.settleABTest(ctx, c, time.Time{})
}

// ChooseWinner ends a campaign's test with the variant labelled label (by
// hand, before the wait is over), or with the best by its metric when label
// is empty, and sends the winner to the rest of the audience. A campaign not
// in its test phase is a conflict.
func (d *Dispatcher) ChooseWinner(ctx context.Context, campaignID int64, label string) (*store.Variant, error) {
	v, err := d.store.DecideWinner(ctx, campaignID, label)
	if err != nil {
		return nil, err
	}
	d.log.Info("A/B winner chosen", "campaign_id", campaignID, "variant", v.Label, "by_hand", label != "")
	return v, d.release(ctx, campaignID)
}

// settleABTest moves a campaign's A/B test on from wherever it stands: a test
// due (at or after now; a zero now means due whatever the time) gets its
// winner, one not yet due gets its decide task scheduled, and a decided one
// whose held rows were not all released is released. It is safe to run any
// number of times: at start-up, on resume, from the task.
func (d *Dispatcher) settleABTest(ctx context.Context, c *store.Campaign, now time.Time) error {
	if c.Status != store.CampaignSending && c.Status != store.CampaignPaused {
		return nil
	}
	switch c.AB.Phase {
	case store.ABTesting:
		if c.StartedAt == nil {
			return fmt.Errorf("campaign %d is testing but has no start time", c.ID)
		}
		if due := c.AB.DueAt(*c.StartedAt); !now.IsZero() && now.Before(due) {
			return d.scheduleWinner(ctx, c.ID, due)
		}
		_, err := d.ChooseWinner(ctx, c.ID, "")
		if errs.CodeOf(err) == errs.Conflict { // chosen meanwhile, by hand or by another process
			return nil
		}
		return err
	case store.ABDecided:
		return d.release(ctx, c.ID)
	}
	return nil
}

// scheduleWinner enqueues the decide task of a campaign for at; a task
// already waiting for it is kept.
func (d *Dispatcher) scheduleWinner(ctx context.Context, campaignID int64, at time.Time) error {
	task, err := NewDecideWinnerTask(DecideWinnerPayload{CampaignID: campaignID}, d.queue, at)
	if err != nil {
		return err
	}
	if _, err := d.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("schedule winner of campaign %d: %w", campaignID, err)
	}
	return nil
}

// release moves the held rows of a decided campaign to the winner and, when
// the campaign is sending, dispatches them (a paused one is dispatched when
// it is resumed). The first page is dispatched at once, so that the rest of
// the audience starts getting the winner while later pages are released; a
// last dispatch from the start of the ledger takes the rows the dispatch
// cursor passed before they were released.
func (d *Dispatcher) release(ctx context.Context, campaignID int64) error {
	var moved int64
	for _, pages := range []int{1, 0} {
		n, err := d.store.ReleaseHeld(ctx, campaignID, releasePage, pages)
		if err != nil {
			return err
		}
		moved += n
		status, err := d.store.CampaignStatus(ctx, campaignID)
		if err != nil {
			return err
		}
		if n > 0 && status == store.CampaignSending {
			if err := d.enqueue(ctx, campaignID); err != nil {
				return err
			}
		}
	}
	if moved > 0 {
		d.log.Info("A/B winner released to the rest", "campaign_id", campaignID, "recipients", moved)
	}
	_, err := d.store.FinishIfDone(ctx, campaignID) // a campaign not sending is left as it is
	return err
}

// checkABTest settles the A/B test of campaignID, if it has one, as of now.
func (d *Dispatcher) checkABTest(ctx context.Context, campaignID int64) error {
	c, err := d.store.GetCampaign(ctx, campaignID)
	if err != nil {
		return err
	}
	if err := d.settleABTest(ctx, c, time.Now()); err != nil {
		return fmt.Errorf("A/B test of campaign %d: %w", campaignID, err)
	}
	return nil
}
