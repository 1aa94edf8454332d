package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// A campaign's audience is copied into the ledger in keyset pages, in
// contact id order, so that its first batches go out while the rest is
// still being copied (StartCampaignCopy, then CopyAudience until it says
// no more). While a copy goes on, a setting marks the campaign
// (copyPrefix + id): the campaign does not finish, its progress says it is
// copying, and a process that starts again finds the copy to resume. The
// cursor is the ledger itself: the highest contact id the campaign's rows
// hold, each page committed whole. Every page is taken with the campaign's
// start time as now, as one snapshot would have been; contacts that join
// the audience during the copy are in it when their id is past the cursor.
const copyPrefix = "audience_copy:"

func copyKey(campaignID int64) string { return copyPrefix + strconv.FormatInt(campaignID, 10) }

func markCopying(ctx context.Context, db bun.IDB, campaignID int64) error {
	if _, err := db.NewInsert().Model(&Setting{Key: copyKey(campaignID), Value: "copying"}).
		On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("mark campaign %d copying: %w", campaignID, err)
	}
	return nil
}

func unmarkCopying(ctx context.Context, db bun.IDB, campaignID int64) error {
	if _, err := db.NewDelete().Model((*Setting)(nil)).Where("key = ?", copyKey(campaignID)).Exec(ctx); err != nil {
		return fmt.Errorf("campaign %d copied: %w", campaignID, err)
	}
	return nil
}

// Copying reports whether a campaign's audience is still being copied.
func (s *Store) Copying(ctx context.Context, campaignID int64) (bool, error) {
	ok, err := s.db.NewSelect().Model((*Setting)(nil)).Where("key = ?", copyKey(campaignID)).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("is campaign %d copying: %w", campaignID, err)
	}
	return ok, nil
}

// CampaignsCopying returns the ids of the campaigns whose audience copy is
// not finished: a restart resumes them.
func (s *Store) CampaignsCopying(ctx context.Context) ([]int64, error) {
	var keys []string
	if err := s.db.NewSelect().Model((*Setting)(nil)).Column("key").Where("key LIKE ?", copyPrefix+"%").
		Order("key").Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("campaigns copying: %w", err)
	}
	ids := make([]int64, 0, len(keys))
	for _, k := range keys {
		id, err := strconv.ParseInt(strings.TrimPrefix(k, copyPrefix), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("setting %q: %w", k, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// CopiedPage is what one CopyAudience did.
type CopiedPage struct {
	Copied int64 // contacts added to the ledger
	// More is false once the copy is finished: the page was the last, or
	// the campaign was cancelled (its uncopied contacts are never mailed)
	// or is not copying.
	More bool
	// Before is the highest ledger id of the campaign before the page: a
	// dispatch cursor at it or past it had nothing left to enqueue.
	Before int64
}

// CopyAudience copies the next page of up to page contacts of a campaign's
// audience into the ledger, in one transaction, and adds them to its total.
// Copies running at once (two processes resuming one) take their pages one
// after the other, each contact once.
func (s *Store) CopyAudience(ctx context.Context, campaignID int64, page int) (CopiedPage, error) {
	var out CopiedPage
	if page <= 0 {
		return out, fmt.Errorf("copy audience: page size %d must be positive", page)
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The mark is locked for the page: a cancel, which removes it in
		// its own transaction, comes before the page or after it, never
		// in between (it skips the page's rows, or the page sees no mark).
		mark := tx.NewSelect().Model((*Setting)(nil)).Column("key").Where("key = ?", copyKey(campaignID))
		if s.dialect == "pg" {
			mark = mark.For("UPDATE")
		}
		var key string
		if err := mark.Scan(ctx, &key); errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("copy audience of campaign %d: %w", campaignID, err)
		}
		var c Campaign
		if err := tx.NewSelect().Model(&c).Where("id = ?", campaignID).Scan(ctx); err != nil {
			return notFound(err, "campaign", campaignID)
		}
		if c.Status != CampaignSending && c.Status != CampaignPaused {
			return unmarkCopying(ctx, tx, campaignID)
		}
		var cursor struct {
			Contact int64 `bun:"contact"`
			Send    int64 `bun:"send"`
		}
		if err := tx.NewSelect().Model((*Send)(nil)).ColumnExpr("coalesce(max(contact_id), 0) AS contact, coalesce(max(id), 0) AS send").
			Where("campaign_id = ?", campaignID).Scan(ctx, &cursor); err != nil {
			return fmt.Errorf("copy cursor of campaign %d: %w", campaignID, err)
		}
		out.Before = cursor.Send
		var err error
		if out.Copied, err = s.copyPage(ctx, tx, &c, cursor.Contact, page); err != nil {
			return err
		}
		if out.More = out.Copied >= int64(page); !out.More {
			return unmarkCopying(ctx, tx, campaignID)
		}
		return nil
	})
	if err != nil {
		return CopiedPage{}, err
	}
	return out, nil
}

// copyPage inserts the campaign's audience with contact ids after cursor,
// up to limit of them (all when limit <= 0), as queued ledger rows, and adds
// them to the campaign's total.
func (s *Store) copyPage(ctx context.Context, tx bun.Tx, c *Campaign, cursor int64, limit int) (int64, error) {
	now := time.Now().UTC()
	if c.StartedAt != nil {
		now = *c.StartedAt
	}
	// The same query CountAudience counts (segments.go): suppressions,
	// statuses and preferences are applied there.
	audience, err := s.audienceQuery(ctx, tx, c.Audience, c.TopicID, now)
	if err != nil {
		return 0, err
	}
	audience = audience.ColumnExpr("?, c.id, c.email, ?, 0, '', ?", c.ID, SendQueued, time.Now().UTC()).
		Where("c.id > ?", cursor).OrderExpr("c.id")
	if limit > 0 {
		audience = audience.Limit(int64(limit))
	}
	res, err := tx.NewRaw(`INSERT INTO sends (campaign_id, contact_id, email, status, attempts, last_reply, updated_at) ? ON CONFLICT (campaign_id, contact_id) DO NOTHING`, audience).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy the audience of campaign %d: %w", c.ID, err)
	}
	n, _ := res.RowsAffected()
	if c.LocalTime != "" && n > 0 {
		if err := s.holdUntilLocal(ctx, tx, c, cursor); err != nil {
			return 0, err
		}
	}
	if _, err := tx.NewUpdate().Model((*Campaign)(nil)).Set("total = total + ?", n).Where("id = ?", c.ID).Exec(ctx); err != nil {
		return 0, fmt.Errorf("count the audience of campaign %d: %w", c.ID, err)
	}
	return n, nil
}
