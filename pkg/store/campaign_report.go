package store

import (
	"context"
	"fmt"
	"time"
)

// HourCount is a count in one UTC hour.
type HourCount struct {
	Hour time.Time
	N    int64
}

// HourlyActions returns, hour by hour in UTC, the signatures a campaign
// brought; hours with none are left out. It completes HourlyStats, which
// counts what the tracking recorded.
func (s *Store) HourlyActions(ctx context.Context, campaignID int64) ([]HourCount, error) {
	var rows []struct {
		Hour string `bun:"hour"`
		N    int64  `bun:"n"`
	}
	if err := s.db.NewSelect().Model((*Signature)(nil)).ColumnExpr(s.hourExpr("created_at")+" AS hour, count(*) AS n").
		Where("campaign_id = ?", campaignID).GroupExpr("1").OrderExpr("1").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("signatures by hour: %w", err)
	}
	out := make([]HourCount, len(rows))
	for i, r := range rows {
		h, err := time.Parse(time.RFC3339, r.Hour)
		if err != nil {
			return nil, fmt.Errorf("signatures by hour: hour %q: %w", r.Hour, err)
		}
		out[i] = HourCount{Hour: h, N: r.N}
	}
	return out, nil
}

// ReasonCount is how many unsubscribes gave one reason ("" when none was given).
type ReasonCount struct {
	Reason string `bun:"reason"`
	N      int64  `bun:"n"`
}

// UnsubscribeReasons counts a campaign's unsubscribes by the reason given,
// the most frequent first.
func (s *Store) UnsubscribeReasons(ctx context.Context, campaignID int64) ([]ReasonCount, error) {
	out := []ReasonCount{}
	if err := s.db.NewSelect().Model((*Event)(nil)).ColumnExpr("reason, count(*) AS n").
		Where("campaign_id = ? AND kind = ?", campaignID, EventUnsubscribe).
		GroupExpr("reason").OrderExpr("n DESC, reason").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("unsubscribe reasons: %w", err)
	}
	return out, nil
}

// Bounce is a message a relay refused for good, with its answer.
type Bounce struct {
	SendID    int64     `bun:"id"`
	Email     string    `bun:"email"`
	Reply     string    `bun:"last_reply"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// CampaignBounces returns up to limit of a campaign's bounced messages, the
// latest first.
func (s *Store) CampaignBounces(ctx context.Context, campaignID int64, limit int) ([]Bounce, error) {
	out := []Bounce{}
	if err := s.db.NewSelect().Model((*Send)(nil)).Column("id", "email", "last_reply", "updated_at").
		Where("campaign_id = ? AND status = ?", campaignID, SendBounced).
		OrderExpr("updated_at DESC, id DESC").Limit(int64(limit)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("bounces of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
