package store

import (
	"context"
	"fmt"
	"time"
)

// Engagement counts one kind of event: every event and distinct sends, each
// in total and for people only (machine activity left out).
type Engagement struct {
	Total       int64 `json:"total" bun:"total"`
	Unique      int64 `json:"unique" bun:"uniq"`
	HumanTotal  int64 `json:"human_total" bun:"human_total"`
	HumanUnique int64 `json:"human_unique" bun:"human_uniq"`
}

// LinkEngagement is the clicks of one link.
type LinkEngagement struct {
	LinkID int64  `json:"link_id" bun:"link_id"`
	URL    string `json:"url" bun:"url"`
	Engagement
}

// Report is what a campaign did.
type Report struct {
	CampaignID int64 `json:"campaign_id"`
	Recipients int64 `json:"recipients"`
	Sent       int64 `json:"sent"`
	Failed     int64 `json:"failed"`
	Bounced    int64 `json:"bounced"`
	Skipped    int64 `json:"skipped"`
	Blocked    int64 `json:"blocked"` // refused for the sender's sake; the addresses are fine
	// BlockedByRelay splits Blocked by the relay that refused: a blocklist
	// is about one relay's address and reputation.
	BlockedByRelay map[string]int64 `json:"blocked_by_relay"`
	Unknown        int64            `json:"unknown"` // went out with no reply from the relay
	Waiting        int64            `json:"waiting"`
	Opens          Engagement       `json:"opens"`
	Clicks         Engagement       `json:"clicks"`
	Links          []LinkEngagement `json:"links"`
	Unsubscribes   int64            `json:"unsubscribes"`
	Complaints     int64            `json:"complaints"`
	Actions        int64            `json:"actions"` // signatures the campaign brought
	// Rates are over the messages delivered (sent): messages a person (not
	// a privacy proxy or link scanner) opened, clicked, and signatures; each
	// from 0 to 1, zero before anything is sent.
	OpenRate   float64 `json:"open_rate"`
	ClickRate  float64 `json:"click_rate"`
	ActionRate float64 `json:"action_rate"`
	// Bounces counts failures by kind, at send time and reported later.
	Bounces *Bounces `json:"bounces"`
}

// engagementColumns aggregate events into an Engagement.
const engagementColumns = "count(*) AS total, count(DISTINCT send_id) AS uniq, " +
	"coalesce(sum(CASE WHEN machine THEN 0 ELSE 1 END), 0) AS human_total, " +
	"count(DISTINCT CASE WHEN machine THEN NULL ELSE send_id END) AS human_uniq"

// CampaignReport counts the outcomes and the engagement of a campaign.
func (s *Store) CampaignReport(ctx context.Context, campaignID int64) (*Report, error) {
	if _, err := s.GetCampaign(ctx, campaignID); err != nil {
		return nil, err
	}
	st, err := s.Stats(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	r := &Report{CampaignID: campaignID, Links: []LinkEngagement{}}
	for status, n := range st.Sends {
		r.Recipients += n
		switch status {
		case SendSent:
			r.Sent = n
		case SendFailed:
			r.Failed = n
		case SendBounced:
			r.Bounced = n
		case SendSkipped:
			r.Skipped = n
		case SendBlocked:
			r.Blocked = n
		case SendUnknown:
			r.Unknown = n
		default:
			r.Waiting += n
		}
	}
	if r.BlockedByRelay, err = s.blockedByRelay(ctx, campaignID); err != nil {
		return nil, err
	}
	r.Unsubscribes = st.Events[EventUnsubscribe]
	r.Complaints = st.Events[EventComplaint]
	for kind, e := range map[string]*Engagement{EventOpen: &r.Opens, EventClick: &r.Clicks} {
		if err := s.db.NewSelect().Model((*Event)(nil)).ColumnExpr(engagementColumns).
			Where("campaign_id = ? AND kind = ?", campaignID, kind).Scan(ctx, e); err != nil {
			return nil, fmt.Errorf("count %s events: %w", kind, err)
		}
	}
	if err := s.db.NewSelect().TableExpr("links AS l").
		Join("LEFT JOIN events AS e ON e.link_id = l.id AND e.kind = ?", EventClick).
		ColumnExpr("l.id AS link_id, l.url").
		ColumnExpr("count(e.id) AS total, count(DISTINCT e.send_id) AS uniq").
		ColumnExpr("coalesce(sum(CASE WHEN e.machine THEN 0 WHEN e.id IS NULL THEN 0 ELSE 1 END), 0) AS human_total").
		ColumnExpr("count(DISTINCT CASE WHEN e.machine THEN NULL ELSE e.send_id END) AS human_uniq").
		Where("l.campaign_id = ?", campaignID).GroupExpr("l.id, l.url").OrderExpr("l.id").Scan(ctx, &r.Links); err != nil {
		return nil, fmt.Errorf("count clicks per link: %w", err)
	}
	if r.Actions, err = s.CampaignActions(ctx, campaignID); err != nil {
		return nil, err
	}
	if r.Bounces, err = s.CampaignBounceKinds(ctx, campaignID); err != nil {
		return nil, err
	}
	if r.Sent > 0 {
		r.OpenRate = float64(r.Opens.HumanUnique) / float64(r.Sent)
		r.ClickRate = float64(r.Clicks.HumanUnique) / float64(r.Sent)
		r.ActionRate = float64(r.Actions) / float64(r.Sent)
	}
	return r, nil
}

// HourStats is one hour of a campaign.
type HourStats struct {
	Hour         time.Time `json:"hour"`
	Sent         int64     `json:"sent"`
	Opens        int64     `json:"opens"`
	HumanOpens   int64     `json:"human_opens"`
	Clicks       int64     `json:"clicks"`
	HumanClicks  int64     `json:"human_clicks"`
	Unsubscribes int64     `json:"unsubscribes"`
}

// hourExpr truncates a timestamp column to its hour, as text the same in both dialects.
func (s *Store) hourExpr(col string) string {
	if s.dialect == "pg" {
		return "to_char(date_trunc('hour', " + col + " AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:00:00Z')"
	}
	return "strftime('%Y-%m-%dT%H:00:00Z', " + col + ")"
}

// HourlyStats returns, hour by hour in UTC, what a campaign sent and what came
// back; hours with nothing are left out.
func (s *Store) HourlyStats(ctx context.Context, campaignID int64) ([]HourStats, error) {
	if _, err := s.GetCampaign(ctx, campaignID); err != nil {
		return nil, err
	}
	var rows []struct {
		Hour  string `bun:"hour"`
		Kind  string `bun:"kind"`
		Human bool   `bun:"human"`
		N     int64  `bun:"n"`
	}
	events := s.db.NewSelect().Model((*Event)(nil)).
		ColumnExpr(s.hourExpr("created_at")+" AS hour, kind, NOT machine AS human, count(*) AS n").
		Where("campaign_id = ?", campaignID).GroupExpr("1, 2, 3")
	sends := s.db.NewSelect().Model((*Send)(nil)).
		ColumnExpr(s.hourExpr("sent_at")+" AS hour, 'sent' AS kind, TRUE AS human, count(*) AS n").
		Where("campaign_id = ? AND sent_at IS NOT NULL", campaignID).GroupExpr("1")
	if err := s.db.NewSelect().TableExpr("(?) AS x", events.UnionAll(sends)).ColumnExpr("x.*").
		OrderExpr("x.hour").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("hourly stats: %w", err)
	}
	out := []HourStats{}
	for _, r := range rows {
		h, err := time.Parse(time.RFC3339, r.Hour)
		if err != nil {
			return nil, fmt.Errorf("hourly stats: hour %q: %w", r.Hour, err)
		}
		if len(out) == 0 || !out[len(out)-1].Hour.Equal(h) {
			out = append(out, HourStats{Hour: h})
		}
		cur := &out[len(out)-1]
		switch r.Kind {
		case "sent":
			cur.Sent += r.N
		case EventOpen:
			cur.Opens += r.N
			if r.Human {
				cur.HumanOpens += r.N
			}
		case EventClick:
			cur.Clicks += r.N
			if r.Human {
				cur.HumanClicks += r.N
			}
		case EventUnsubscribe:
			cur.Unsubscribes += r.N
		}
	}
	return out, nil
}

// RecipientOutcome is one row of a campaign's per-recipient export.
type RecipientOutcome struct {
	SendID       int64      `bun:"send_id"`
	Email        string     `bun:"email"`
	Status       string     `bun:"status"`
	SentAt       *time.Time `bun:"sent_at"`
	LastReply    string     `bun:"last_reply"`
	Opens        int64      `bun:"opens"`
	HumanOpens   int64      `bun:"human_opens"`
	Clicks       int64      `bun:"clicks"`
	HumanClicks  int64      `bun:"human_clicks"`
	Unsubscribed bool       `bun:"unsubscribed"`
}

// RecipientOutcomes returns up to limit ledger rows of a campaign with id
// greater than after, in id order, each with its engagement (keyset pagination,
// so an export streams in pages of bounded memory).
func (s *Store) RecipientOutcomes(ctx context.Context, campaignID, after int64, limit int) ([]RecipientOutcome, error) {
	count := func(kind string, humanOnly bool) string {
		q := "(SELECT count(*) FROM events AS e WHERE e.send_id = s.id AND e.kind = '" + kind + "'"
		if humanOnly {
			q += " AND e.machine = FALSE"
		}
		return q + ")"
	}
	var out []RecipientOutcome
	err := s.db.NewSelect().TableExpr("sends AS s").
		ColumnExpr("s.id AS send_id, s.email, s.status, s.sent_at, s.last_reply").
		ColumnExpr(count(EventOpen, false)+" AS opens").
		ColumnExpr(count(EventOpen, true)+" AS human_opens").
		ColumnExpr(count(EventClick, false)+" AS clicks").
		ColumnExpr(count(EventClick, true)+" AS human_clicks").
		ColumnExpr(count(EventUnsubscribe, false)+" > 0 AS unsubscribed").
		Where("s.campaign_id = ? AND s.id > ?", campaignID, after).
		OrderExpr("s.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("recipient outcomes: %w", err)
	}
	return out, nil
}
