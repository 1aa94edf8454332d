package store

import (
	"context"
	"fmt"
	"time"
)

// HistoryItem is one thing that happened to a contact: a message sent, an
// open, a click, an unsubscribe or a signature, newest first in a History.
type HistoryItem struct {
	At      time.Time `bun:"at"`
	Kind    string    `bun:"kind"`    // "message", an event kind, or "signature"
	Subject string    `bun:"subject"` // the campaign's or the petition's name
	Detail  string    `bun:"detail"`  // a send's status, a clicked URL, a comment
	Machine bool      `bun:"machine"` // activity of a proxy or scanner, not a person
}

// ContactHistory returns up to limit items of a contact's history, newest
// first: its messages, opens, clicks, unsubscribes, complaints, bounce
// reports ("bounce_hard", "bounce_soft", "bounce_block") and signatures.
func (s *Store) ContactHistory(ctx context.Context, contactID int64, limit int) ([]HistoryItem, error) {
	sends := s.db.NewSelect().TableExpr("sends AS s").Join("JOIN campaigns AS c ON c.id = s.campaign_id").
		ColumnExpr("coalesce(s.sent_at, s.updated_at) AS at, 'message' AS kind, c.name AS subject, s.status AS detail, FALSE AS machine").
		Where("s.contact_id = ?", contactID)
	events := s.db.NewSelect().TableExpr("events AS e").Join("JOIN campaigns AS c ON c.id = e.campaign_id").
		Join("LEFT JOIN links AS l ON l.id = e.link_id").
		ColumnExpr("e.created_at AS at, e.kind, c.name AS subject, coalesce(l.url, e.reason) AS detail, e.machine").
		Where("e.contact_id = ?", contactID)
	// Reports of the mail system, in their own words; a complaint is an event already.
	reports := s.db.NewSelect().TableExpr("bounce_events AS b").Join("JOIN campaigns AS c ON c.id = b.campaign_id").
		ColumnExpr("b.reported_at AS at, 'bounce_' || b.kind AS kind, c.name AS subject, b.source || ': ' || b.diagnostic AS detail, FALSE AS machine").
		Where("b.contact_id = ? AND b.kind <> ?", contactID, ReportComplaint)
	signatures := s.db.NewSelect().TableExpr("signatures AS g").Join("JOIN petitions AS p ON p.id = g.petition_id").
		ColumnExpr("g.created_at AS at, 'signature' AS kind, p.title AS subject, g.comment AS detail, FALSE AS machine").
		Where("g.contact_id = ?", contactID)
	out := []HistoryItem{}
	if err := s.db.NewSelect().TableExpr("(?) AS h", sends.UnionAll(events).UnionAll(reports).UnionAll(signatures)).ColumnExpr("h.*").
		OrderExpr("h.at DESC").Limit(int64(limit)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("contact history: %w", err)
	}
	return out, nil
}

// CampaignSignatures counts the signatures a campaign brought, on any petition.
func (s *Store) CampaignSignatures(ctx context.Context, campaignID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*Signature)(nil)).Where("campaign_id = ?", campaignID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count campaign signatures: %w", err)
	}
	return int64(n), nil
}

// RecentCampaigns returns the limit newest campaigns.
func (s *Store) RecentCampaigns(ctx context.Context, limit int) ([]Campaign, error) {
	var cs []Campaign
	if err := s.db.NewSelect().Model(&cs).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("recent campaigns: %w", err)
	}
	return cs, nil
}
