package store

import (
	"context"
	"fmt"
	"time"
)

// PetitionReport is where a petition's signatures came from.
type PetitionReport struct {
	PetitionID int64            `json:"petition_id"`
	Total      int64            `json:"total_signatures"`
	ByDay      []DayCount       `json:"by_day"`
	ByCampaign []CampaignCount  `json:"by_campaign"`
	Referred   int64            `json:"referred"` // signatures that came through a signer's share link
	Referrers  []ReferrerCount  `json:"top_referrers"`
	Direct     int64            `json:"direct"` // neither from an email nor from a share link
	Orgs       map[string]int64 `json:"organizations,omitempty"`
	// OrgsByDay counts a letter's organizations by the UTC day they signed
	// on, whatever became of them; a letter has no people's signatures.
	OrgsByDay []DayCount `json:"organizations_by_day,omitempty"`
}

// DayCount is the signatures of one UTC day.
type DayCount struct {
	Day        string `bun:"day" json:"day"` // 2006-01-02
	Signatures int64  `bun:"n" json:"signatures"`
}

// CampaignCount is the signatures a campaign brought.
type CampaignCount struct {
	CampaignID int64  `bun:"campaign_id" json:"campaign_id"`
	Name       string `bun:"name" json:"name"`
	Signatures int64  `bun:"n" json:"signatures"`
}

// ReferrerCount is the signatures one signer's share link brought.
type ReferrerCount struct {
	ContactID  int64 `bun:"contact_id" json:"contact_id"`
	Signatures int64 `bun:"n" json:"signatures"`
}

// maxReferrers bounds the referrers a report lists.
const maxReferrers = 20

// dayExpr truncates a timestamp column to its UTC day, as text the same in both dialects.
func (s *Store) dayExpr(col string) string {
	if s.dialect == "pg" {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "strftime('%Y-%m-%d', " + col + ")"
}

// PetitionReport counts petitionID's signatures in total, by day, by source
// campaign and by referral.
func (s *Store) PetitionReport(ctx context.Context, petitionID int64) (*PetitionReport, error) {
	p, err := s.GetPetition(ctx, petitionID)
	if err != nil {
		return nil, err
	}
	r := &PetitionReport{PetitionID: p.ID, ByDay: []DayCount{}, ByCampaign: []CampaignCount{}, Referrers: []ReferrerCount{}}
	var totals struct {
		Total    int64 `bun:"total"`
		Referred int64 `bun:"referred"`
		Direct   int64 `bun:"direct"`
	}
	if err := s.db.NewSelect().Model((*Signature)(nil)).ColumnExpr("count(*) AS total").
		ColumnExpr("count(referrer_contact_id) AS referred").
		ColumnExpr("coalesce(sum(CASE WHEN campaign_id IS NULL AND referrer_contact_id IS NULL THEN 1 ELSE 0 END), 0) AS direct").
		Where("petition_id = ?", p.ID).Scan(ctx, &totals); err != nil {
		return nil, fmt.Errorf("count signatures: %w", err)
	}
	r.Total, r.Referred, r.Direct = totals.Total, totals.Referred, totals.Direct
	if err := s.db.NewSelect().Model((*Signature)(nil)).ColumnExpr(s.dayExpr("created_at")+" AS day, count(*) AS n").
		Where("petition_id = ?", p.ID).GroupExpr("1").OrderExpr("1").Scan(ctx, &r.ByDay); err != nil {
		return nil, fmt.Errorf("signatures by day: %w", err)
	}
	if err := s.db.NewSelect().TableExpr("signatures AS sg").Join("JOIN campaigns AS cp ON cp.id = sg.campaign_id").
		ColumnExpr("sg.campaign_id, cp.name, count(*) AS n").Where("sg.petition_id = ?", p.ID).
		GroupExpr("sg.campaign_id, cp.name").OrderExpr("n DESC, sg.campaign_id").Scan(ctx, &r.ByCampaign); err != nil {
		return nil, fmt.Errorf("signatures by campaign: %w", err)
	}
	if err := s.db.NewSelect().Model((*Signature)(nil)).ColumnExpr("referrer_contact_id AS contact_id, count(*) AS n").
		Where("petition_id = ? AND referrer_contact_id IS NOT NULL", p.ID).GroupExpr("referrer_contact_id").
		OrderExpr("n DESC, referrer_contact_id").Limit(maxReferrers).Scan(ctx, &r.Referrers); err != nil {
		return nil, fmt.Errorf("signatures by referrer: %w", err)
	}
	if p.Kind == PetitionKindLetter {
		var rows []struct {
			Status string `bun:"status"`
			N      int64  `bun:"n"`
		}
		if err := s.db.NewSelect().Model((*OrganizationSignature)(nil)).ColumnExpr("status, count(*) AS n").
			Where("petition_id = ?", p.ID).GroupExpr("status").Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("count organizations: %w", err)
		}
		r.Orgs = map[string]int64{OrgPending: 0, OrgApproved: 0, OrgRejected: 0}
		for _, row := range rows {
			r.Orgs[row.Status] = row.N
		}
		r.OrgsByDay = []DayCount{}
		if err := s.db.NewSelect().Model((*OrganizationSignature)(nil)).ColumnExpr(s.dayExpr("created_at")+" AS day, count(*) AS n").
			Where("petition_id = ?", p.ID).GroupExpr("1").OrderExpr("1").Scan(ctx, &r.OrgsByDay); err != nil {
			return nil, fmt.Errorf("organizations by day: %w", err)
		}
	}
	return r, nil
}

// SignatureRow is one signature as delivered to the target: who, where, what
// they wrote, when. No email address: the target gets names, not a list.
type SignatureRow struct {
	ID         int64     `bun:"id"`
	FirstName  string    `bun:"first_name"`
	LastName   string    `bun:"last_name"`
	City       string    `bun:"city"`
	Region     string    `bun:"region"`
	PostalCode string    `bun:"postal_code"`
	Comment    string    `bun:"comment"`
	CreatedAt  time.Time `bun:"created_at"`
}

// SignaturePage returns up to limit signatures of petitionID with an id
// above after, in id order: an export reads page after page in flat memory.
// An erased person's signature is counted but not delivered.
func (s *Store) SignaturePage(ctx context.Context, petitionID, after int64, limit int) ([]SignatureRow, error) {
	var out []SignatureRow
	if err := s.db.NewSelect().TableExpr("signatures AS sg").Join("JOIN contacts AS c ON c.id = sg.contact_id").
		ColumnExpr("sg.id, c.first_name, c.last_name, sg.city, c.region, c.postal_code, sg.comment, sg.created_at").
		Where("sg.petition_id = ? AND sg.id > ? AND c.status <> ?", petitionID, after, ContactErased).OrderExpr("sg.id").Limit(int64(limit)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("read signatures: %w", err)
	}
	return out, nil
}

// CampaignActions counts the signatures, on any petition, a campaign brought.
func (s *Store) CampaignActions(ctx context.Context, campaignID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*Signature)(nil)).Where("campaign_id = ?", campaignID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count campaign actions: %w", err)
	}
	return int64(n), nil
}
