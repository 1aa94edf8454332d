package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// Bounces counts a campaign's failures by kind: refusals at send time and
// reports that came later together (a report of a send already refused at
// send time is not counted again).
type Bounces struct {
	Hard      int64 `json:"hard"`
	Soft      int64 `json:"soft"`  // reported later only: a 4xx at send time is retried, not a bounce
	Block     int64 `json:"block"` // refusals of the sender
	Complaint int64 `json:"complaint"`
	// BlockByRelay splits Block by the relay that sent the message.
	BlockByRelay map[string]int64 `json:"block_by_relay"`
	// Reported counts the reports that came later alone, by kind.
	Reported map[string]int64 `json:"reported"`
}

// CampaignBounceKinds counts campaign id's bounces by kind.
func (s *Store) CampaignBounceKinds(ctx context.Context, id int64) (*Bounces, error) {
	g, err := s.guardCounts(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	b := &Bounces{Hard: g.Hard, Block: g.Blocked, Complaint: g.Complaints, Reported: map[string]int64{}}
	var rows []struct {
		Kind string `bun:"kind"`
		N    int64  `bun:"n"`
	}
	if err := s.db.NewSelect().Model((*BounceEvent)(nil)).ColumnExpr("kind, count(*) AS n").Where("campaign_id = ?", id).
		GroupExpr("kind").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count the reports of campaign %d: %w", id, err)
	}
	for _, k := range ReportKinds {
		b.Reported[k] = 0
	}
	for _, r := range rows {
		b.Reported[r.Kind] = r.N
	}
	b.Soft = b.Reported[ReportSoft]
	if b.BlockByRelay, err = s.blockedByRelay(ctx, id); err != nil {
		return nil, err
	}
	var relays []struct {
		Relay string `bun:"relay"`
		N     int64  `bun:"n"`
	}
	if err := s.db.NewSelect().TableExpr("bounce_events AS b").Join("JOIN sends AS s ON s.id = b.send_id").
		ColumnExpr("b.relay, count(DISTINCT b.send_id) AS n").Where("b.campaign_id = ? AND b.kind = ? AND s.status = ?", id, ReportBlock, SendSent).
		GroupExpr("b.relay").Scan(ctx, &relays); err != nil {
		return nil, fmt.Errorf("count reported blocks per relay: %w", err)
	}
	for _, r := range relays {
		b.BlockByRelay[r.Relay] += r.N
	}
	return b, nil
}

// BounceDay is one UTC day of failures by kind: refusals at send time and
// reports that came later.
type BounceDay struct {
	Day       string `json:"day"` // YYYY-MM-DD
	Hard      int64  `json:"hard"`
	Soft      int64  `json:"soft"`
	Block     int64  `json:"block"`
	Complaint int64  `json:"complaint"`
}

// BouncesByDay returns failures by kind per UTC day since since, oldest
// first, of campaign id or of every campaign when id is 0; days with
// nothing are left out.
func (s *Store) BouncesByDay(ctx context.Context, id int64, since time.Time) ([]BounceDay, error) {
	var rows []struct {
		Day  string `bun:"day"`
		Kind string `bun:"kind"`
		N    int64  `bun:"n"`
	}
	reports := s.db.NewSelect().Model((*BounceEvent)(nil)).ColumnExpr(s.dayExpr("reported_at")+" AS day, kind, count(*) AS n").
		Where("reported_at >= ?", since.UTC()).GroupExpr("1, 2")
	refusals := s.db.NewSelect().Model((*Send)(nil)).
		ColumnExpr(s.dayExpr("updated_at")+" AS day, CASE WHEN status = ? THEN ? ELSE ? END AS kind, count(*) AS n", SendBounced, ReportHard, ReportBlock).
		Where("status IN (?) AND updated_at >= ?", bun.List([]string{SendBounced, SendBlocked}), since.UTC()).GroupExpr("1, 2")
	if id > 0 {
		reports, refusals = reports.Where("campaign_id = ?", id), refusals.Where("campaign_id = ?", id)
	}
	if err := s.db.NewSelect().TableExpr("(?) AS r", reports.UnionAll(refusals)).ColumnExpr("r.*").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count bounces by day: %w", err)
	}
	byDay := map[string]*BounceDay{}
	for _, r := range rows {
		d := byDay[r.Day]
		if d == nil {
			d = &BounceDay{Day: r.Day}
			byDay[r.Day] = d
		}
		switch r.Kind {
		case ReportHard:
			d.Hard += r.N
		case ReportSoft:
			d.Soft += r.N
		case ReportBlock:
			d.Block += r.N
		case ReportComplaint:
			d.Complaint += r.N
		}
	}
	out := make([]BounceDay, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}

// SentByDay counts the messages the relay accepted per UTC day since since, of campaign
// id or of every campaign when id is 0; days with none are left out.
func (s *Store) SentByDay(ctx context.Context, id int64, since time.Time) (map[string]int64, error) {
	var rows []struct {
		Day string `bun:"day"`
		N   int64  `bun:"n"`
	}
	q := s.db.NewSelect().Model((*Send)(nil)).ColumnExpr(s.dayExpr("sent_at")+" AS day, count(*) AS n").
		Where("sent_at >= ?", since.UTC()).GroupExpr("1") // sent_at stays when a report comes later
	if id > 0 {
		q = q.Where("campaign_id = ?", id)
	} else {
		// Only campaigns sending since since: each is then read by the
		// (campaign_id, sent_at) index instead of every send ever.
		q = q.Where("campaign_id IN (?)", s.db.NewSelect().Model((*Campaign)(nil)).Column("id").
			Where("started_at IS NOT NULL AND (finished_at IS NULL OR finished_at >= ?)", since.UTC()))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count messages sent by day: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Day] = r.N
	}
	return out, nil
}
