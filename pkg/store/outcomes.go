package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// ExtendLease moves the lease of a ledger row still waiting to until: a
// worker keeps the row it is sending, or whose outcome it is still trying to
// write, out of every other worker's reach. It reports whether the row was
// still waiting (false once its outcome is recorded).
func (s *Store) ExtendLease(ctx context.Context, sendID int64, until time.Time) (bool, error) {
	res, err := s.db.NewUpdate().Model((*Send)(nil)).Set("lease_until = ?", leaseTime(until)).
		Where("id = ? AND status IN (?)", sendID, waiting).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("extend lease of send %d: %w", sendID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordBlocked writes a refusal that blamed the sender: the row blocked,
// with the relay's reply and the relay's name, one more attempt; the
// contact and its address are left alone.
func (s *Store) RecordBlocked(ctx context.Context, sendID int64, reply, relay string) error {
	_, err := s.RecordOutcomes(ctx, []Outcome{{SendID: sendID, Status: SendBlocked, Reply: reply, Attempt: true, Relay: relay}})
	return err
}

// blockedByRelay counts a campaign's blocked rows per relay.
func (s *Store) blockedByRelay(ctx context.Context, campaignID int64) (map[string]int64, error) {
	var rows []struct {
		Relay string `bun:"relay"`
		N     int64  `bun:"n"`
	}
	if err := s.db.NewSelect().Model((*Send)(nil)).ColumnExpr("relay, count(*) AS n").
		Where("campaign_id = ? AND status = ?", campaignID, SendBlocked).GroupExpr("relay").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count blocked messages per relay: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Relay] = r.N
	}
	return out, nil
}

// ResendUnknown puts the rows of a campaign whose outcome is unknown (the
// message went out, no reply came) back to waiting, and makes a finished
// campaign sending again so that they are dispatched. An organizer asks for
// it, knowing some may get the message twice. It returns how many rows wait
// again; a draft, scheduled or cancelled campaign is a conflict.
func (s *Store) ResendUnknown(ctx context.Context, campaignID int64) (int64, error) {
	var n int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Campaign
		if err := tx.NewSelect().Model(&c).Column("status").Where("id = ?", campaignID).Scan(ctx); err != nil {
			return notFound(err, "campaign", campaignID)
		}
		switch c.Status {
		case CampaignSent:
			if err := s.moveCampaignSet(ctx, tx, campaignID, CampaignSending, func(q *bun.UpdateQuery) *bun.UpdateQuery {
				return q.Set("finished_at = NULL")
			}, CampaignSent); err != nil {
				return err
			}
		case CampaignSending, CampaignPaused:
		default:
			return errs.New(errs.Conflict, "campaign %d is %s: only a sending, paused or sent campaign can send again", campaignID, c.Status)
		}
		res, err := tx.NewUpdate().Model((*Send)(nil)).Set("status = ?", SendDeferred).Set("lease_until = NULL").
			Set("updated_at = ?", time.Now().UTC()).Where("campaign_id = ? AND status = ?", campaignID, SendUnknown).Exec(ctx)
		if err != nil {
			return fmt.Errorf("resend unknown rows of campaign %d: %w", campaignID, err)
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		// The rows wait again, below where dispatch's rewind starts
		// (RewindDispatch): it starts from the first row again.
		if _, err := tx.NewUpdate().Model((*Campaign)(nil)).Set("waiting_from = 0").Where("id = ?", campaignID).Exec(ctx); err != nil {
			return fmt.Errorf("resend unknown rows of campaign %d: %w", campaignID, err)
		}
		return nil
	})
	return n, err
}

// bouncedReason starts the reason of every suppression a bounce made.
const bouncedReason = "bounced: "

// LiftBounce undoes what a bounce did to a contact, when an organizer knows
// the address works: the contact is subscribed again, the suppression the
// bounce made is removed, and an event records it. A contact that is not
// bounced is a conflict; a suppression of another kind (an unsubscribe, a
// complaint, an import) is never touched.
func (s *Store) LiftBounce(ctx context.Context, contactID int64) error {
	now := time.Now().UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Contact
		if err := tx.NewSelect().Model(&c).Where("id = ?", contactID).Scan(ctx); err != nil {
			return notFound(err, "contact", contactID)
		}
		if c.Status != ContactBounced {
			return errs.New(errs.Conflict, "contact %d is %s, not bounced", contactID, c.Status)
		}
		var sup []Suppression
		if err := tx.NewSelect().Model(&sup).Where("email_key = ?", EmailKey(c.Email)).Scan(ctx); err != nil {
			return fmt.Errorf("suppressions of contact %d: %w", contactID, err)
		}
		var reasons []string
		for _, x := range sup {
			if !strings.HasPrefix(x.Reason, bouncedReason) {
				return errs.New(errs.Conflict, "contact %d's address is suppressed for another reason (%s); a bounce lift does not undo it", contactID, x.Reason)
			}
			reasons = append(reasons, x.Reason)
		}
		if _, err := tx.NewDelete().Model((*Suppression)(nil)).Where("email_key = ?", EmailKey(c.Email)).Exec(ctx); err != nil {
			return fmt.Errorf("remove the bounce suppression of contact %d: %w", contactID, err)
		}
		if _, err := tx.NewUpdate().Model((*Contact)(nil)).Set("status = ?", ContactSubscribed).Set("updated_at = ?", now).
			Where("id = ?", contactID).Exec(ctx); err != nil {
			return fmt.Errorf("subscribe contact %d again: %w", contactID, err)
		}
		// The event names the send that bounced, when the ledger has one.
		var last Send
		err := tx.NewSelect().Model(&last).Column("id", "campaign_id").
			Where("contact_id = ? AND status = ?", contactID, SendBounced).OrderExpr("id DESC").Limit(1).Scan(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("last bounce of contact %d: %w", contactID, err)
		}
		e := &Event{Kind: EventBounceLifted, CampaignID: last.CampaignID, SendID: last.ID, ContactID: contactID,
			Reason: strings.Join(reasons, "; "), CreatedAt: now}
		if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
			return fmt.Errorf("record the lifted bounce of contact %d: %w", contactID, err)
		}
		return nil
	})
}
