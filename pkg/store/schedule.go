package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ScheduleCampaign makes a draft (or an already scheduled) campaign start by
// itself at at. Any other status is a conflict.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time) error {
	return s.moveCampaignSet(ctx, s.db, id, CampaignScheduled, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("send_at = ?", at.UTC())
	}, CampaignDraft, CampaignScheduled)
}

// UnscheduleCampaign takes a scheduled campaign back to draft. Any other
// status is a conflict: a campaign the sweep started already sends.
func (s *Store) UnscheduleCampaign(ctx context.Context, id int64) error {
	return s.moveCampaignSet(ctx, s.db, id, CampaignDraft, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("send_at = NULL")
	}, CampaignScheduled)
}

// DueCampaigns returns the ids of scheduled campaigns whose time has come.
func (s *Store) DueCampaigns(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Model((*Campaign)(nil)).Column("id").
		Where("status = ? AND send_at <= ?", CampaignScheduled, now.UTC()).Order("id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("due campaigns: %w", err)
	}
	return ids, nil
}
