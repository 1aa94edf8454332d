package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// KeptUpload is a file a form was refused with, kept so that the form can
// be sent again without choosing the file again. KeyHash is the SHA-256 of
// the token the form carries (hex); only the user who uploaded it takes it.
type KeptUpload struct {
	bun.BaseModel `bun:"table:kept_uploads"`
	KeyHash       string    `bun:"key_hash,pk"`
	UserID        int64     `bun:"user_id"`
	Filename      string    `bun:"filename"`
	Data          []byte    `bun:"data"`
	CreatedAt     time.Time `bun:"created_at"`
}

// KeepUpload stores u and deletes the uploads kept since before
// expireBefore, so that none stays longer than the time it is kept for.
func (s *Store) KeepUpload(ctx context.Context, u *KeptUpload, expireBefore time.Time) error {
	u.CreatedAt = u.CreatedAt.UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*KeptUpload)(nil)).Where("created_at < ?", expireBefore.UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("delete expired uploads: %w", err)
		}
		if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
			return fmt.Errorf("keep upload: %w", err)
		}
		return nil
	})
}

// KeptUploadOf returns the upload kept under keyHash for user userID, kept
// at or after notBefore; ErrNotFound when there is none (expired, used, or
// another user's).
func (s *Store) KeptUploadOf(ctx context.Context, keyHash string, userID int64, notBefore time.Time) (*KeptUpload, error) {
	u := new(KeptUpload)
	err := s.db.NewSelect().Model(u).Where("key_hash = ? AND user_id = ? AND created_at >= ?", keyHash, userID, notBefore.UTC()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &errs.Error{Code: errs.NotFound, Message: "the uploaded file is no longer kept", Err: ErrNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("read kept upload: %w", err)
	}
	return u, nil
}

// DeleteKeptUpload deletes the upload kept under keyHash, if any.
func (s *Store) DeleteKeptUpload(ctx context.Context, keyHash string) error {
	if _, err := s.db.NewDelete().Model((*KeptUpload)(nil)).Where("key_hash = ?", keyHash).Exec(ctx); err != nil {
		return fmt.Errorf("delete kept upload: %w", err)
	}
	return nil
}

// DeleteKeptUploadsBefore deletes the uploads kept since before t and
// returns how many.
func (s *Store) DeleteKeptUploadsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*KeptUpload)(nil)).Where("created_at < ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired uploads: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
