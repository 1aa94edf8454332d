package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// SendRef is what an event needs of its ledger row.
type SendRef struct {
	ID         int64      `bun:"id"`
	CampaignID int64      `bun:"campaign_id"`
	ContactID  int64      `bun:"contact_id"`
	SentAt     *time.Time `bun:"sent_at"`
}

// SendRefs returns the ledger rows with the given ids, by id; ids naming no
// row are absent, and so are the rows of an erased person (EraseContact
// left them no address): their opens and clicks are not recorded.
func (s *Store) SendRefs(ctx context.Context, ids []int64) (map[int64]SendRef, error) {
	out := make(map[int64]SendRef, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []SendRef
	if err := s.db.NewSelect().Model((*Send)(nil)).Column("id", "campaign_id", "contact_id", "sent_at").
		Where("id IN (?) AND email <> ''", bun.List(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("look up sends of events: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// InsertEvents records many events in one multi-row statement: all or none.
func (s *Store) InsertEvents(ctx context.Context, es []Event) error {
	if len(es) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range es {
		if es[i].CreatedAt.IsZero() {
			es[i].CreatedAt = now
		}
	}
	if s.dialect == "pg" {
		return s.copyEvents(ctx, es)
	}
	// Returning nothing keeps ids out of es, so the same batch can be retried.
	if _, err := s.db.NewInsert().Model(&es).Returning("NULL").Exec(ctx); err != nil {
		return fmt.Errorf("insert %d events: %w", len(es), err)
	}
	return nil
}

// eventColumns are the columns COPY fills, in the order of copyEvents' rows.
var eventColumns = []string{"kind", "campaign_id", "send_id", "contact_id", "link_id", "user_agent", "created_at", "machine", "reason", "list_id"}

// copyEvents writes events with PostgreSQL's COPY, several times faster than
// a multi-row INSERT for the event stream; like it, all or none.
func (s *Store) copyEvents(ctx context.Context, es []Event) error {
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy events: driver connection is %T, not pgx", dc)
		}
		rows := make([][]any, len(es))
		for i, e := range es {
			rows[i] = []any{e.Kind, e.CampaignID, e.SendID, e.ContactID, e.LinkID, e.UserAgent, e.CreatedAt, e.Machine, e.Reason, e.ListID}
		}
		if _, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy %d events: %w", len(es), err)
		}
		return nil
	})
}

// CountEvents counts the events of a campaign (every kind, machine or not).
func (s *Store) CountEvents(ctx context.Context, campaignID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*Event)(nil)).Where("campaign_id = ?", campaignID).Count(ctx)
	return int64(n), err
}

// CampaignEvents returns up to limit events of a campaign with id greater than after, in id order.
func (s *Store) CampaignEvents(ctx context.Context, campaignID, after int64, limit int) ([]Event, error) {
	es := []Event{}
	err := s.db.NewSelect().Model(&es).Where("campaign_id = ? AND id > ?", campaignID, after).
		Order("id").Limit(int64(limit)).Scan(ctx)
	return es, err
}
