package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// UpdateMessage saves m's fields over the message with m.ID. A message a
// campaign has started sending (or scheduled) is what its recipients got or
// will get, so it is a conflict to change it: copy it instead. Validation of
// its templates is the caller's (pkg/render).
func (s *Store) UpdateMessage(ctx context.Context, m *Message) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		used, err := sentWith(tx, m.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("campaigns of message %d: %w", m.ID, err)
		}
		if used > 0 {
			return errs.New(errs.Conflict, "message %d is used by a campaign that was sent or scheduled: copy it to change it", m.ID)
		}
		m.UpdatedAt = time.Now().UTC()
		res, err := tx.NewUpdate().Model(m).
			Column("name", "subject", "preheader", "from_name", "from_email", "reply_to", "layout", "html", "text", "blocks", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update message %d: %w", m.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &errs.Error{Code: errs.NotFound, Message: fmt.Sprintf("message %d not found", m.ID), Err: ErrNotFound}
		}
		return nil
	})
}
