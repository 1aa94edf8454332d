package store

import (
	"context"
	"fmt"
	"time"
)

// CreateMessage inserts m. Validation of its templates is the caller's (pkg/render).
func (s *Store) CreateMessage(ctx context.Context, m *Message) error {
	now := time.Now().UTC()
	m.CreatedAt, m.UpdatedAt = now, now
	// A new message is never archived, and one written as HTML has no
	// blocks: those columns are left to their defaults, so the insert also
	// runs on a database migrated before them (as a migration test does).
	q := s.db.NewInsert().Model(m).ExcludeColumn("archived_at")
	if m.Blocks == "" {
		q = q.ExcludeColumn("blocks")
	}
	if _, err := q.Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

// GetMessage returns the message with id.
func (s *Store) GetMessage(ctx context.Context, id int64) (*Message, error) {
	var m Message
	if err := s.db.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "message", id)
	}
	return &m, nil
}

// ListMessages returns every message, newest first, without bodies.
func (s *Store) ListMessages(ctx context.Context) ([]Message, error) {
	var ms []Message
	err := s.db.NewSelect().Model(&ms).ExcludeColumn("html", "text", "blocks").Order("id DESC").Scan(ctx)
	return ms, err
}
