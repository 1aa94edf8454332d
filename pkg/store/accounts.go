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

// PasswordReset is a link an admin made for a user to set a new password.
// TokenHash is the SHA-256 of the link's token, never the token itself.
type PasswordReset struct {
	bun.BaseModel `bun:"table:password_resets"`
	TokenHash     string     `bun:"token_hash,pk"`
	UserID        int64      `bun:"user_id"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	UsedAt        *time.Time `bun:"used_at"`
}

// GetUser returns the user with id.
func (s *Store) GetUser(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.db.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "user", id)
	}
	return &u, nil
}

// SetUserRole gives user id the role (one of Roles; callers check it).
// Demoting the last admin who can sign in is a conflict on "role".
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) (*User, error) {
	return s.changeUser(ctx, id, func(u *User) (string, error) {
		u.Role = role
		return "role", nil
	}, nil)
}

// SetUserDisabled disables user id at now, ending its sessions, or enables
// it again. Disabling the last admin who can sign in is a conflict on
// "disabled".
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool, now time.Time) (*User, error) {
	return s.changeUser(ctx, id, func(u *User) (string, error) {
		u.DisabledAt = nil
		if disabled {
			at := now.UTC()
			u.DisabledAt = &at
		}
		return "disabled", nil
	}, func(ctx context.Context, tx bun.Tx, u *User) error {
		if u.DisabledAt == nil {
			return nil
		}
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("end sessions of user %d: %w", u.ID, err)
		}
		return nil
	})
}

// changeUser applies change to user id in one transaction and refuses it,
// naming the field change returns, when no enabled admin would be left.
// The enabled admins are locked first, so two admins demoting each other at
// once cannot both succeed. after runs in the transaction once u is saved.
func (s *Store) changeUser(ctx context.Context, id int64, change func(*User) (string, error),
	after func(context.Context, bun.Tx, *User) error) (*User, error) {
	var out User
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var admins []int64
		q := tx.NewSelect().Model((*User)(nil)).Column("id").Where("role = ? AND disabled_at IS NULL", RoleAdmin).Order("id")
		if s.dialect == "pg" {
			q = q.For("UPDATE") // SQLite's write transactions are already exclusive
		}
		if err := q.Scan(ctx, &admins); err != nil {
			return fmt.Errorf("read admins: %w", err)
		}
		if err := tx.NewSelect().Model(&out).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "user", id)
		}
		wasAdmin := out.Role == RoleAdmin && out.DisabledAt == nil
		field, err := change(&out)
		if err != nil {
			return err
		}
		if wasAdmin && (out.Role != RoleAdmin || out.DisabledAt != nil) && len(admins) <= 1 {
			return &errs.Error{Code: errs.Conflict, Field: field,
				Message: fmt.Sprintf("the last admin who can sign in is %s: make another user an admin first", out.Email)}
		}
		if _, err := tx.NewUpdate().Model(&out).Column("role", "disabled_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user %d: %w", id, err)
		}
		if after != nil {
			return after(ctx, tx, &out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetPassword stores a new bcrypt hash for user id and ends every session
// of the user but keep (the session that changed it; "" ends them all).
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keep string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return setPassword(ctx, tx, id, hash, keep)
	})
}

func setPassword(ctx context.Context, tx bun.Tx, id int64, hash, keep string) error {
	res, err := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	if err := oneRow(res, "user", id); err != nil {
		return err
	}
	if _, err := tx.NewDelete().Model((*Session)(nil)).Where("user_id = ? AND id_hash <> ?", id, keep).Exec(ctx); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", id, err)
	}
	return nil
}

// CreatePasswordReset stores a reset link for r.UserID; the user's links
// not yet used stop working, so only the newest one an admin handed out does.
func (s *Store) CreatePasswordReset(ctx context.Context, r *PasswordReset) error {
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*PasswordReset)(nil)).Where("user_id = ? AND used_at IS NULL", r.UserID).Exec(ctx); err != nil {
			return fmt.Errorf("drop older reset links: %w", err)
		}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("insert reset link: %w", err)
		}
		return nil
	})
}

// errResetGone is the one answer to a reset link unknown, used or expired.
func errResetGone() error {
	return &errs.Error{Code: errs.NotFound, Message: "this link has expired or was already used: ask an admin for a new one", Err: ErrNotFound}
}

// PasswordResetUser returns the user whose reset link has tokenHash, if
// the link works at now; otherwise a not-found error.
func (s *Store) PasswordResetUser(ctx context.Context, tokenHash string, now time.Time) (*User, error) {
	var r PasswordReset
	err := s.db.NewSelect().Model(&r).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", tokenHash, now.UTC()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errResetGone()
	}
	if err != nil {
		return nil, fmt.Errorf("read reset link: %w", err)
	}
	return s.GetUser(ctx, r.UserID)
}

// UsePasswordReset sets the password (hash) of the user whose reset link has
// tokenHash, marks the link used and ends the user's sessions, in one
// transaction. A link unknown, used or expired at now is a not-found error
// and changes nothing.
func (s *Store) UsePasswordReset(ctx context.Context, tokenHash, hash string, now time.Time) (*User, error) {
	var u User
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var userID int64
		err := tx.NewUpdate().Model((*PasswordReset)(nil)).Set("used_at = ?", now.UTC()).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", tokenHash, now.UTC()).Returning("user_id").Scan(ctx, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return errResetGone()
		}
		if err != nil {
			return fmt.Errorf("use reset link: %w", err)
		}
		if err := setPassword(ctx, tx, userID, hash, ""); err != nil {
			return err
		}
		return tx.NewSelect().Model(&u).Where("id = ?", userID).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
