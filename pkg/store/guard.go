package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// GuardCounts are what the reputation guard watches of a campaign: the
// ledger's answers at send time and the reports that came later, together.
type GuardCounts struct {
	// Attempted counts the messages a receiving server answered for good
	// (sent, bounced or blocked): the base of the hard-bounce and block rates.
	Attempted int64 `bun:"attempted" json:"attempted"`
	// Sent counts the messages accepted: the base of the complaint rate.
	Sent int64 `bun:"sent" json:"sent"`
	// Hard counts refusals of the address: 5xx at send time, and hard
	// bounces reported later of messages the ledger has as sent.
	Hard int64 `bun:"hard" json:"hard"`
	// Blocked counts refusals of the sender, at send time and reported later.
	Blocked int64 `bun:"blocked" json:"blocked"`
	// Complaints counts the sends a recipient reported as spam.
	Complaints int64 `bun:"complaints" json:"complaints"`
}

// Minus is c less what base counted (an acknowledged resume).
func (c GuardCounts) Minus(base GuardCounts) GuardCounts {
	return GuardCounts{Attempted: c.Attempted - base.Attempted, Sent: c.Sent - base.Sent, Hard: c.Hard - base.Hard,
		Blocked: c.Blocked - base.Blocked, Complaints: c.Complaints - base.Complaints}
}

// CampaignGuard returns a campaign's status, its guard counts now, and the
// counts its last acknowledged resume left behind.
func (s *Store) CampaignGuard(ctx context.Context, id int64) (status string, now, base GuardCounts, err error) {
	var c Campaign
	if err := s.db.NewSelect().Model(&c).Column("status", "guard_attempted", "guard_sent", "guard_hard", "guard_blocked", "guard_complaints").
		Where("id = ?", id).Scan(ctx); err != nil {
		return "", now, base, notFound(err, "campaign", id)
	}
	now, err = s.guardCounts(ctx, s.db, id)
	return c.Status, now, c.Guard, err
}

// guardCounts counts the ledger by status and the reports by kind. A
// report about a send the ledger already has as bounced or blocked is the
// same failure told twice, and is not counted again.
func (s *Store) guardCounts(ctx context.Context, db bun.IDB, id int64) (GuardCounts, error) {
	var g GuardCounts
	var rows []struct {
		Key string `bun:"key"`
		N   int64  `bun:"n"`
	}
	if err := db.NewSelect().Model((*Send)(nil)).ColumnExpr("status AS key, count(*) AS n").
		Where("campaign_id = ? AND status IN (?)", id, bun.List([]string{SendSent, SendBounced, SendBlocked})).
		GroupExpr("status").Scan(ctx, &rows); err != nil {
		return g, fmt.Errorf("count the ledger of campaign %d: %w", id, err)
	}
	for _, r := range rows {
		g.Attempted += r.N
		switch r.Key {
		case SendSent:
			g.Sent = r.N
		case SendBounced:
			g.Hard = r.N
		case SendBlocked:
			g.Blocked = r.N
		}
	}
	rows = rows[:0]
	if err := db.NewSelect().TableExpr("bounce_events AS b").Join("JOIN sends AS s ON s.id = b.send_id").
		ColumnExpr("b.kind AS key, count(DISTINCT b.send_id) AS n").
		Where("b.campaign_id = ? AND (b.kind = ? OR s.status = ?)", id, ReportComplaint, SendSent).
		GroupExpr("b.kind").Scan(ctx, &rows); err != nil {
		return g, fmt.Errorf("count the reports of campaign %d: %w", id, err)
	}
	for _, r := range rows {
		switch r.Key {
		case ReportHard:
			g.Hard += r.N
		case ReportBlock:
			g.Blocked += r.N
		case ReportComplaint:
			g.Complaints = r.N
		}
	}
	return g, nil
}

// GuardPause pauses a sending campaign for the reputation guard, with the
// reason it gives; it reports whether it did (false: the campaign was no
// longer sending).
func (s *Store) GuardPause(ctx context.Context, id int64, reason string) (bool, error) {
	res, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("status = ?", CampaignPaused).Set("pause_reason = ?", reason).
		Where("id = ? AND status = ?", id, CampaignSending).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("pause campaign %d for the guard: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
