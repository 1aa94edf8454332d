package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// CreateCampaign inserts c as a draft after checking its message, lists and
// segments exist. With variants, c is an A/B test (c.AB): the variants are
// checked, labelled A, B, … in order and inserted with it, all or nothing.
func (s *Store) CreateCampaign(ctx context.Context, c *Campaign, variants ...Variant) error {
	// Only the id is read, so that this runs on a database migrated before
	// the message's later columns too (as a migration test does).
	if ok, err := s.db.NewSelect().Model((*Message)(nil)).Column("id").Where("id = ?", c.MessageID).Exists(ctx); err != nil {
		return fmt.Errorf("message %d: %w", c.MessageID, err)
	} else if !ok {
		return errs.Field("message_id", "message %d does not exist", c.MessageID)
	}
	if err := checkAudience(ctx, s.db, c.Audience); err != nil {
		return err
	}
	if err := s.checkTopic(ctx, c.TopicID); err != nil {
		return err
	}
	if err := s.checkABTest(ctx, c.AB, variants); err != nil {
		return err
	}
	c.Status = CampaignDraft
	c.CreatedAt = time.Now().UTC()
	c.AB.Phase, c.AB.WinnerID, c.AB.DecidedAt = "", nil, nil
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The guard's columns start at their defaults (guard.go).
		if _, err := tx.NewInsert().Model(c).ExcludeColumn("pause_reason", "guard_attempted", "guard_sent", "guard_hard",
			"guard_blocked", "guard_complaints", "archived_at").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		if len(variants) == 0 {
			return nil
		}
		return insertVariants(ctx, tx, c.ID, variants)
	})
}

// GetCampaign returns the campaign with id.
func (s *Store) GetCampaign(ctx context.Context, id int64) (*Campaign, error) {
	var c Campaign
	if err := s.db.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "campaign", id)
	}
	return &c, nil
}

// ListCampaigns returns every campaign, newest first.
func (s *Store) ListCampaigns(ctx context.Context) ([]Campaign, error) {
	var cs []Campaign
	err := s.db.NewSelect().Model(&cs).Order("id DESC").Scan(ctx)
	return cs, err
}

// CampaignsSending returns the ids of campaigns whose send has started and not finished.
func (s *Store) CampaignsSending(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Model((*Campaign)(nil)).Column("id").Where("status = ?", CampaignSending).Order("id").Scan(ctx, &ids)
	return ids, err
}

// StartCampaign moves a draft (or scheduled) campaign to sending and
// snapshots its whole audience into the ledger, in one transaction: the
// contacts audienceQuery selects, each once. A campaign that is neither is a
// conflict, so a second send adds nobody, and of two dispatchers starting a
// due scheduled campaign at once only one does. It returns the number of
// recipients.
func (s *Store) StartCampaign(ctx context.Context, id int64) (int64, error) {
	total, _, err := s.StartCampaignCopy(ctx, id, 0)
	return total, err
}

// StartCampaignCopy is StartCampaign that copies only the first page of
// the audience (up to firstPage contacts, in id order; firstPage <= 0 copies
// all of it) before it commits: the first batches can be sent at once, while
// CopyAudience copies the rest, page after page (copy.go). more reports that
// the audience may have more contacts to copy. An A/B test's audience is
// split as a whole, in one page. It returns the recipients in the ledger.
func (s *Store) StartCampaignCopy(ctx context.Context, id int64, firstPage int) (total int64, more bool, err error) {
	now := time.Now().UTC()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Campaign
		if err := tx.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "campaign", id)
		}
		res, err := tx.NewUpdate().Model((*Campaign)(nil)).
			Set("status = ?", CampaignSending).Set("started_at = ?", now).Set("total = 0").
			Where("id = ? AND status IN (?)", id, bun.List([]string{CampaignDraft, CampaignScheduled})).Exec(ctx)
		if err != nil {
			return fmt.Errorf("start campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "campaign %d was already sent (status %s)", id, c.Status)
		}
		c.StartedAt = &now
		if c.AB.Share > 0 {
			// The test share is queued with its variants, the rest held for the winner.
			phase := ABTesting
			if c.AB.Share == 100 {
				phase = ABSplit
			}
			// The same query CountAudience counts (segments.go): suppressions,
			// statuses and preferences are applied there.
			audience, err := s.audienceQuery(ctx, tx, c.Audience, c.TopicID, now)
			if err != nil {
				return err
			}
			if err := snapshotSplit(ctx, tx, &c, audience, now); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model((*Campaign)(nil)).Set("ab_phase = ?", phase).Where("id = ?", id).Exec(ctx); err != nil {
				return fmt.Errorf("start A/B test: %w", err)
			}
			total, err = tx.NewSelect().Model((*Send)(nil)).Where("campaign_id = ?", id).Count(ctx)
			if err != nil {
				return err
			}
			_, err = tx.NewUpdate().Model((*Campaign)(nil)).Set("total = ?", total).Where("id = ?", id).Exec(ctx)
			return err
		}
		total, err = s.copyPage(ctx, tx, &c, 0, firstPage)
		if err != nil {
			return err
		}
		if more = firstPage > 0 && total >= int64(firstPage); more {
			return markCopying(ctx, tx, id)
		}
		return nil
	})
	if err == nil && !more {
		s.AnalyzeSends(ctx, total)
	}
	return total, more, err
}

// AnalyzeSends refreshes PostgreSQL's statistics of the ledger after a
// snapshot added n rows. Until autovacuum gets to it, the planner believes
// the fresh rows are not there and reads every waiting row of the campaign
// through the (campaign_id, status) index for each claim and dispatch (44 ms
// a claim at 1,000,000 recipients, against 0.1 ms along the primary key once
// the statistics are known). SQLite plans these queries without statistics.
// A failure is not the send's: the campaign has started, and autovacuum
// analyzes the table later anyway.
func (s *Store) AnalyzeSends(ctx context.Context, n int64) { s.analyze(ctx, n, "sends") }

// AnalyzeAudience refreshes PostgreSQL's statistics of contacts and list
// members after an import wrote n of them. A campaign sent right after a
// large import otherwise copies its audience with a plan made for the empty
// tables (a nested loop over every member: 2.5 s a page at 1,000,000
// contacts, against 3 ms with the statistics known).
func (s *Store) AnalyzeAudience(ctx context.Context, n int64) {
	s.analyze(ctx, n, "contacts", "list_members", "contact_tags")
}

// analyze runs ANALYZE on tables when n rows (10,000 or more) were just
// written to them, on PostgreSQL. A failure is ignored: autovacuum analyzes
// them later anyway.
func (s *Store) analyze(ctx context.Context, n int64, tables ...string) {
	if s.dialect != "pg" || n < 10000 {
		return
	}
	_, _ = s.db.ExecContext(ctx, "ANALYZE "+strings.Join(tables, ", "))
}

// SendRange returns the lowest and highest ledger ids of a campaign that still
// wait to be sent (queued or deferred); ok is false when none wait.
func (s *Store) SendRange(ctx context.Context, campaignID int64) (lo, hi int64, ok bool, err error) {
	var r struct {
		Lo *int64 `bun:"lo"`
		Hi *int64 `bun:"hi"`
	}
	err = s.db.NewSelect().Model((*Send)(nil)).ColumnExpr("min(id) AS lo, max(id) AS hi").
		Where("campaign_id = ? AND status IN (?)", campaignID, waiting).Scan(ctx, &r)
	if err != nil || r.Lo == nil {
		return 0, 0, false, err
	}
	return *r.Lo, *r.Hi, true, nil
}

// FinishIfDone marks a sending campaign sent when no ledger row waits any
// more and its audience is all copied; rows held for an A/B winner wait too.
// It reports whether the campaign is sent, by this call or an earlier one.
//
// One statement asks both and finishes: asked apart, a finish that waited
// for the last copied page's write (SQLite's lock) or read after its commit
// (PostgreSQL) found the copy over but had counted the waiting rows before
// the page was there, and finished a campaign with most of it unsent.
func (s *Store) FinishIfDone(ctx context.Context, campaignID int64) (bool, error) {
	waiting := s.db.NewSelect().Model((*Send)(nil)).ColumnExpr("1").
		Where("campaign_id = ? AND status IN (?)", campaignID, unfinished).Limit(1)
	copying := s.db.NewSelect().Model((*Setting)(nil)).ColumnExpr("1").Where("key = ?", copyKey(campaignID))
	res, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("status = ?", CampaignSent).Set("finished_at = ?", time.Now().UTC()).
		Where("id = ? AND status = ?", campaignID, CampaignSending).
		Where("NOT EXISTS (?) AND NOT EXISTS (?)", waiting, copying).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("finish campaign %d: %w", campaignID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	status, err := s.CampaignStatus(ctx, campaignID)
	return err == nil && status == CampaignSent, err
}

// CampaignStats counts a campaign's ledger rows by status and its events by kind
// (total and unique per send).
type CampaignStats struct {
	Sends        map[string]int64 `json:"sends"`
	Events       map[string]int64 `json:"events"`
	UniqueEvents map[string]int64 `json:"unique_events"`
}

// Stats returns the counts of a campaign.
func (s *Store) Stats(ctx context.Context, campaignID int64) (*CampaignStats, error) {
	st := &CampaignStats{Sends: map[string]int64{}, Events: map[string]int64{}, UniqueEvents: map[string]int64{}}
	var rows []struct {
		Key    string `bun:"key"`
		N      int64  `bun:"n"`
		Unique int64  `bun:"u"`
	}
	if err := s.db.NewSelect().Model((*Send)(nil)).ColumnExpr("status AS key, count(*) AS n, 0 AS u").
		Where("campaign_id = ?", campaignID).GroupExpr("status").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count sends: %w", err)
	}
	for _, r := range rows {
		st.Sends[r.Key] = r.N
	}
	rows = rows[:0]
	if err := s.db.NewSelect().Model((*Event)(nil)).ColumnExpr("kind AS key, count(*) AS n, count(DISTINCT send_id) AS u").
		Where("campaign_id = ?", campaignID).GroupExpr("kind").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	for _, r := range rows {
		st.Events[r.Key] = r.N
		st.UniqueEvents[r.Key] = r.Unique
	}
	return st, nil
}
