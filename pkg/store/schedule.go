package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones by name wherever the binary runs

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// ScheduleCampaign makes a draft (or an already scheduled) campaign start by
// itself at at, for every recipient at once. Any other status is a conflict.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time) error {
	return s.ScheduleCampaignAt(ctx, id, Schedule{At: at.UTC(), Zone: "UTC"})
}

// Schedule is when a scheduled campaign sends.
type Schedule struct {
	// At is the time chosen, in its zone: the campaign starts at this
	// instant, unless Local.
	At time.Time
	// Zone is the IANA name of At's zone, kept with the campaign.
	Zone string
	// Local delivers at At's wall clock in each recipient's own zone
	// (contacts.time_zone; Zone for a contact without a valid one).
	Local bool
}

// localLayout writes a Schedule's wall clock in campaigns.local_time.
const localLayout = "2006-01-02T15:04:05"

// aheadmost is the zone furthest ahead of UTC (Pacific/Kiribati): a campaign
// delivered at local time starts when its wall clock comes there, and each
// ledger row waits for its recipient's own (not_before).
var aheadmost = time.FixedZone("UTC+14", 14*3600)

// scheduleInput is how an organizer writes a time: date and time of day,
// as an HTML datetime-local field sends them.
const scheduleInput = "2006-01-02T15:04"

// ParseSchedule reads a time of day typed as 2006-01-02T15:04 (seconds
// allowed) in the IANA zone named zone; local asks for delivery at that
// time in each recipient's own zone. Errors name the field at fault:
// send_at or time_zone.
func ParseSchedule(wall, zone string, local bool) (Schedule, error) {
	zone = strings.TrimSpace(zone)
	loc, err := LoadZone(zone)
	if err != nil {
		return Schedule{}, err
	}
	wall = strings.TrimSpace(wall)
	layout := scheduleInput
	if len(wall) > len(scheduleInput) {
		layout = localLayout
	}
	at, err := time.ParseInLocation(layout, wall, loc)
	if err != nil {
		return Schedule{}, errs.Field("send_at", "%q is not a date and time like 2026-05-01T09:00", wall)
	}
	return Schedule{At: at, Zone: zone, Local: local}, nil
}

// LoadZone returns the IANA time zone named name; a name it does not know
// (or "Local", which means this server's) is an error naming time_zone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, errs.Field("time_zone", "%q is not an IANA time zone like America/New_York", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errs.Field("time_zone", "%q is not an IANA time zone like America/New_York", name)
	}
	return loc, nil
}

// Start is the instant a campaign scheduled with sc starts: At, or for
// local delivery, when At's wall clock comes anywhere on Earth.
func (sc Schedule) Start() time.Time {
	if !sc.Local {
		return sc.At.UTC()
	}
	w := sc.At
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, aheadmost).UTC()
}

// ScheduleCampaignAt makes a draft (or an already scheduled) campaign start
// by itself as sc says. Any other status is a conflict.
func (s *Store) ScheduleCampaignAt(ctx context.Context, id int64, sc Schedule) error {
	if _, err := LoadZone(sc.Zone); err != nil {
		return err
	}
	local := ""
	if sc.Local {
		local = sc.At.Format(localLayout)
	}
	return s.moveCampaignSet(ctx, s.db, id, CampaignScheduled, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("send_at = ?", sc.Start()).Set("time_zone = ?", sc.Zone).Set("local_time = ?", local)
	}, CampaignDraft, CampaignScheduled)
}

// UnscheduleCampaign takes a scheduled campaign back to draft. Any other
// status is a conflict: a campaign the sweep started already sends.
func (s *Store) UnscheduleCampaign(ctx context.Context, id int64) error {
	return s.moveCampaignSet(ctx, s.db, id, CampaignDraft, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("send_at = NULL").Set("local_time = ''")
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

// holdUntilLocal sets when each ledger row of c copied after contact cursor
// may go: c's wall clock in its contact's time zone, or in c's own zone
// for a contact without a valid one. One statement per distinct zone of
// the page, so a page costs a few statements whatever its size.
func (s *Store) holdUntilLocal(ctx context.Context, tx bun.Tx, c *Campaign, cursor int64) error {
	wall, err := time.Parse(localLayout, c.LocalTime)
	if err != nil {
		return fmt.Errorf("campaign %d: local time %q: %w", c.ID, c.LocalTime, err)
	}
	fallback, err := LoadZone(c.TimeZone)
	if err != nil {
		fallback = time.UTC
	}
	var zones []string
	if err := tx.NewSelect().TableExpr("sends AS s").Join("JOIN contacts AS c ON c.id = s.contact_id").
		ColumnExpr("DISTINCT c.time_zone").Where("s.campaign_id = ? AND s.contact_id > ? AND s.not_before IS NULL", c.ID, cursor).
		Scan(ctx, &zones); err != nil {
		return fmt.Errorf("time zones of campaign %d: %w", c.ID, err)
	}
	for _, zone := range zones {
		loc, err := LoadZone(zone)
		if err != nil {
			loc = fallback
		}
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc).UTC()
		if _, err := tx.NewUpdate().Model((*Send)(nil)).Set("not_before = ?", at).
			Where("campaign_id = ? AND contact_id > ? AND not_before IS NULL", c.ID, cursor).
			Where("contact_id IN (?)", tx.NewSelect().Model((*Contact)(nil)).Column("id").Where("time_zone = ?", zone)).
			Exec(ctx); err != nil {
			return fmt.Errorf("local times of campaign %d in %q: %w", c.ID, zone, err)
		}
	}
	return nil
}
