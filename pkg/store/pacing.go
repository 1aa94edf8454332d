package store

import (
	"context"
	"fmt"
	"math"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// MaxCampaignRate is the highest rate a campaign may be given, in messages
// per second.
const MaxCampaignRate = 1_000_000

// CheckCampaignRate says what is wrong with a campaign rate, naming field.
func CheckCampaignRate(field string, perSecond float64) error {
	if math.IsNaN(perSecond) || perSecond < 0 || perSecond > MaxCampaignRate {
		return errs.Field(field, "must be a number of messages per second from 0 (no limit) to %d, got %v", MaxCampaignRate, perSecond)
	}
	return nil
}

// CampaignControl is what a worker rereads of a campaign while it sends.
type CampaignControl struct {
	Status        string  `bun:"status"`
	RatePerSecond float64 `bun:"rate_per_second"`
}

// CampaignControl returns the status and rate of a campaign.
func (s *Store) CampaignControl(ctx context.Context, id int64) (CampaignControl, error) {
	var c CampaignControl
	if err := s.db.NewSelect().Model((*Campaign)(nil)).Column("status", "rate_per_second").Where("id = ?", id).Scan(ctx, &c); err != nil {
		return c, notFound(err, "campaign", id)
	}
	return c, nil
}

// SetCampaignRate changes a campaign's rate, in messages per second (0: no
// limit); workers pick it up within a second, sending or not.
func (s *Store) SetCampaignRate(ctx context.Context, id int64, perSecond float64) error {
	if err := CheckCampaignRate("per_second", perSecond); err != nil {
		return err
	}
	res, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("rate_per_second = ?", perSecond).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set rate of campaign %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.New(errs.NotFound, "campaign %d not found", id)
	}
	return nil
}

// RecordThrottled writes an attempt that met a throttling relay: the row
// stays deferred, the attempt is counted, and so is the throttling, which
// does not count toward the attempts allowed.
func (s *Store) RecordThrottled(ctx context.Context, sendID int64, reply string) error {
	_, err := s.RecordOutcomes(ctx, []Outcome{{SendID: sendID, Status: SendDeferred, Reply: reply, Throttled: true}})
	return err
}
