package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// waiting are the ledger statuses of rows still to be sent.
var waiting = bun.List([]string{SendQueued, SendDeferred})

// unfinished are the ledger statuses of rows a campaign still owes: waiting,
// or held for an A/B test's winner.
var unfinished = bun.List([]string{SendQueued, SendDeferred, SendHeld})

// NextDispatch takes the next batch of a campaign to enqueue: the range of
// size ids, aligned on multiples of size, that holds the first waiting ledger
// row after the campaign's dispatch cursor, and moves the cursor to its end.
// Ranges are aligned so that a batch always has the same bounds, hence the
// same task id, however often dispatch is rewound. It is one statement: the
// cursor moves in the UPDATE that finds the row, so two workers asking at
// once get two different batches (PostgreSQL re-reads the cursor of a row
// another transaction just updated before it updates it again). ok is
// false when no waiting row is after the cursor.
//
// The row is looked for with a scalar subquery, not EXISTS: PostgreSQL
// turns an EXISTS into a join, and when the campaign row was updated
// meanwhile it checks the new cursor against the ledger row the join found
// before, which is now behind it, and updates nothing. A worker then found
// no next batch while rows waited, and its chain of batches ended (62 of 90
// concurrent calls, TestNextDispatchNeverShort). A subquery is run again
// with the new cursor.
//
// The cursor is always the end of an aligned range, or 0; only a batch size
// changed in the middle of a campaign leaves it inside one, and then the
// next range overlaps the last one: harmless, as two batches whose ranges
// overlap never claim the same row (ClaimRecipients).
func (s *Store) NextDispatch(ctx context.Context, campaignID int64, size int) (lo, hi int64, ok bool, err error) {
	if size <= 0 {
		return 0, 0, false, fmt.Errorf("next dispatch: batch size %d must be positive", size)
	}
	n := int64(size)
	// The first by id, not min(id): an ordered scan of sends_waiting that
	// stops at the first row whatever the planner's statistics say (min()
	// read every waiting row of a campaign whose rows it had not seen yet:
	// 250 ms a batch at 1,000,000 recipients). Rows waiting for their
	// recipient's local time are left to the sweep's dispatch once it has
	// come.
	first := `SELECT s.id FROM sends AS s WHERE s.campaign_id = campaigns.id AND s.id > campaigns.dispatched_to
		AND s.status IN (?) AND (s.not_before IS NULL OR s.not_before <= ?) ORDER BY s.id LIMIT 1`
	now := time.Now().UTC()
	// On PostgreSQL the statement's commit does not wait for the disk
	// (synchronous_commit off for its own transaction, the function form
	// of SET LOCAL). The cursor is a place to look from, not a record:
	// lost in a database crash, it is behind, and a range dispatched again
	// finds its rows sent or leased; a restart rewinds it anyway. Waiting
	// for the disk held the campaign's row while the WAL of every outcome
	// write was flushed, and the senders asking for their next batch
	// queued behind one another on it (Lock:tuple in pg_stat_activity).
	// Without the wait a call took 1.9 ms on average after the copy of a
	// 300,000-recipient campaign.
	async := ""
	if s.dialect == "pg" {
		async = " AND set_config('synchronous_commit', 'off', true) = 'off'"
	}
	var ends []int64
	if err := s.db.NewRaw(`UPDATE campaigns SET dispatched_to = ((`+first+`) - 1) / ? * ? + ?
		WHERE id = ? AND (`+first+`) IS NOT NULL`+async+` RETURNING dispatched_to`,
		waiting, now, n, n, n, campaignID, waiting, now).Scan(ctx, &ends); err != nil {
		return 0, 0, false, fmt.Errorf("next dispatch of campaign %d: %w", campaignID, err)
	}
	if len(ends) == 0 {
		return 0, 0, false, nil
	}
	return ends[0] - n + 1, ends[0], true, nil
}

// RewindDispatch moves a campaign's dispatch cursor back to just before its
// first unfinished ledger row, so that dispatch takes its batches from the
// ledger again (resume, restart, the sweep). The row is looked for from the
// campaign's waiting_from on, which then moves up to it: below it no row is
// unfinished, and no row becomes unfinished again except by ResendUnknown,
// which moves it back to the start. Looked for from the first row, the
// search read every row already sent (0.4 s at 560,000, more the further
// a campaign got), and the sweep rewinds every 30 seconds; each sender
// asking for its next batch meanwhile read them all again.
//
// The move is conditional on the waiting_from it started from: a
// ResendUnknown committed between the search and the update has set it
// back, and a search that did not see its rows must not move it past them.
func (s *Store) RewindDispatch(ctx context.Context, campaignID int64) error {
	var c Campaign
	if err := s.db.NewSelect().Model(&c).Column("waiting_from").Where("id = ?", campaignID).Scan(ctx); err != nil {
		return notFound(err, "campaign", campaignID)
	}
	var first []int64
	if err := s.db.NewSelect().Model((*Send)(nil)).Column("id").
		Where("campaign_id = ? AND id >= ? AND status IN (?)", campaignID, c.WaitingFrom, unfinished).
		OrderExpr("id").Limit(1).Scan(ctx, &first); err != nil {
		return fmt.Errorf("rewind dispatch of campaign %d: %w", campaignID, err)
	}
	from := c.WaitingFrom
	if len(first) == 1 {
		from = first[0]
	}
	res, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("waiting_from = ?", from).Set("dispatched_to = ?", max(from-1, 0)).
		Where("id = ? AND waiting_from = ?", campaignID, c.WaitingFrom).Exec(ctx)
	if err != nil {
		return fmt.Errorf("rewind dispatch of campaign %d: %w", campaignID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	// waiting_from moved meanwhile: rewind to where it is now.
	if _, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("dispatched_to = CASE WHEN waiting_from > 0 THEN waiting_from - 1 ELSE 0 END").
		Where("id = ?", campaignID).Exec(ctx); err != nil {
		return fmt.Errorf("rewind dispatch of campaign %d: %w", campaignID, err)
	}
	return nil
}

// CampaignStatus returns the status of a campaign.
func (s *Store) CampaignStatus(ctx context.Context, id int64) (string, error) {
	var status string
	if err := s.db.NewSelect().Model((*Campaign)(nil)).Column("status").Where("id = ?", id).Scan(ctx, &status); err != nil {
		return "", notFound(err, "campaign", id)
	}
	return status, nil
}

// PauseCampaign moves a sending campaign to paused; any other status is a conflict.
func (s *Store) PauseCampaign(ctx context.Context, id int64) error {
	return s.moveCampaign(ctx, s.db, id, CampaignPaused, CampaignSending)
}

// ResumeCampaign moves a paused campaign back to sending; any other status
// is a conflict. After a pause of the reputation guard, its reason is
// cleared and the counts it paused on are acknowledged (guard.go): the
// guard judges only what comes next.
func (s *Store) ResumeCampaign(ctx context.Context, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Campaign
		if err := tx.NewSelect().Model(&c).Column("pause_reason").Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "campaign", id)
		}
		if c.PauseReason == "" { // an organizer's own pause: nothing to acknowledge
			return s.moveCampaign(ctx, tx, id, CampaignSending, CampaignPaused)
		}
		g, err := s.guardCounts(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.moveCampaignSet(ctx, tx, id, CampaignSending, func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Set("pause_reason = ''").Set("guard_attempted = ?", g.Attempted).Set("guard_sent = ?", g.Sent).
				Set("guard_hard = ?", g.Hard).Set("guard_blocked = ?", g.Blocked).Set("guard_complaints = ?", g.Complaints)
		}, CampaignPaused)
	})
}

// CancelCampaign moves a sending or paused campaign to cancelled and marks its
// waiting ledger rows, and those held for an A/B winner, skipped, in one transaction. It returns the number of
// rows skipped. Any other status is a conflict.
func (s *Store) CancelCampaign(ctx context.Context, id int64) (int64, error) {
	var skipped int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.moveCampaign(ctx, tx, id, CampaignCancelled, CampaignSending, CampaignPaused); err != nil {
			return err
		}
		// A copy of its audience still going stops here (it waits for the
		// page being copied, whose rows are skipped below).
		if err := unmarkCopying(ctx, tx, id); err != nil {
			return err
		}
		now := time.Now().UTC()
		res, err := tx.NewUpdate().Model((*Send)(nil)).Set("status = ?", SendSkipped).Set("last_reply = ?", "campaign cancelled").
			Set("updated_at = ?", now).Where("campaign_id = ? AND status IN (?)", id, unfinished).Exec(ctx)
		if err != nil {
			return fmt.Errorf("skip waiting rows: %w", err)
		}
		skipped, _ = res.RowsAffected()
		_, err = tx.NewUpdate().Model((*Campaign)(nil)).Set("finished_at = ?", now).Where("id = ?", id).Exec(ctx)
		return err
	})
	return skipped, err
}

// moveCampaign changes a campaign's status to to when it is one of from.
func (s *Store) moveCampaign(ctx context.Context, db bun.IDB, id int64, to string, from ...string) error {
	return s.moveCampaignSet(ctx, db, id, to, nil, from...)
}

// moveCampaignSet is moveCampaign that also applies set (other columns) to
// the same guarded UPDATE; set may be nil.
func (s *Store) moveCampaignSet(ctx context.Context, db bun.IDB, id int64, to string, set func(*bun.UpdateQuery) *bun.UpdateQuery, from ...string) error {
	q := db.NewUpdate().Model((*Campaign)(nil)).Set("status = ?", to).Where("id = ? AND status IN (?)", id, bun.List(from))
	if set != nil {
		q = set(q)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("campaign %d to %s: %w", id, to, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var status string
	if err := db.NewSelect().Model((*Campaign)(nil)).Column("status").Where("id = ?", id).Scan(ctx, &status); err != nil {
		return notFound(err, "campaign", id)
	}
	return errs.New(errs.Conflict, "campaign %d is %s: it cannot be made %s", id, status, to)
}

// Progress is where a campaign's send stands.
type Progress struct {
	Status string `json:"status"`
	// PauseReason says why the reputation guard paused the campaign.
	PauseReason string `json:"pause_reason,omitempty"`
	Total       int64  `json:"total"`
	Sent        int64  `json:"sent"`
	Failed      int64  `json:"failed"`
	Bounced     int64  `json:"bounced"`
	Skipped     int64  `json:"skipped"`
	Blocked     int64  `json:"blocked"`   // refused for the sender's sake (5.7.x, blocklists, policy)
	Unknown     int64  `json:"unknown"`   // went out with no reply; resent only on request
	Remaining   int64  `json:"remaining"` // queued, deferred or held for an A/B winner
	// Copying says the audience is still being copied into the ledger:
	// Total and Remaining grow until it is done.
	Copying bool    `json:"copying"`
	Rate    float64 `json:"rate"` // messages per second accepted over the window
	// RateLimit is the campaign's configured rate, messages per second; 0 is none.
	RateLimit float64 `json:"rate_limit"`
	// ETASeconds is how long the remaining rows take at Rate; nil when
	// nothing is being sent or nothing remains.
	ETASeconds *float64 `json:"eta_seconds"`
	WindowSecs float64  `json:"window_seconds"`
}

// CampaignProgress counts a campaign's ledger by outcome and measures the rate
// of the last window from sends.sent_at.
func (s *Store) CampaignProgress(ctx context.Context, id int64, window time.Duration) (*Progress, error) {
	c, err := s.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := s.Stats(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Progress{Status: c.Status, PauseReason: c.PauseReason, Total: c.Total, Sent: st.Sends[SendSent], Failed: st.Sends[SendFailed],
		Bounced: st.Sends[SendBounced], Skipped: st.Sends[SendSkipped], Blocked: st.Sends[SendBlocked], Unknown: st.Sends[SendUnknown], RateLimit: c.RatePerSecond,
		Remaining: st.Sends[SendQueued] + st.Sends[SendDeferred] + st.Sends[SendHeld], WindowSecs: window.Seconds()}
	if p.Copying, err = s.Copying(ctx, id); err != nil {
		return nil, err
	}
	recent, err := s.db.NewSelect().Model((*Send)(nil)).
		Where("campaign_id = ? AND sent_at >= ?", id, time.Now().UTC().Add(-window)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count recent sends: %w", err)
	}
	p.Rate = float64(recent) / window.Seconds()
	if p.Rate > 0 && p.Remaining > 0 {
		eta := float64(p.Remaining) / p.Rate
		p.ETASeconds = &eta
	}
	return p, nil
}
