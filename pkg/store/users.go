package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Roles of the admin UI's users, from least to most trusted.
const (
	RoleViewer    = "viewer"    // reads everything, changes nothing
	RoleOrganizer = "organizer" // edits contacts and content, sends campaigns
	RoleAdmin     = "admin"     // also manages users, settings and the queue
)

// Roles lists the roles from least to most trusted.
var Roles = []string{RoleViewer, RoleOrganizer, RoleAdmin}

// User is a person who signs in to the admin UI. PasswordHash is a bcrypt
// hash; the store never sees a password.
type User struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Email         string    `bun:"email" json:"email"`
	PasswordHash  string    `bun:"password_hash" json:"-"`
	Role          string    `bun:"role" json:"role"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	// DisabledAt is set while an admin has disabled the user: no sign-in,
	// no session works.
	DisabledAt *time.Time `bun:"disabled_at" json:"disabled_at,omitempty"`
}

// Session is a signed-in browser. IDHash is the SHA-256 of the cookie's
// value, never the value itself.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`
	IDHash        string    `bun:"id_hash,pk"`
	UserID        int64     `bun:"user_id"`
	CSRFToken     string    `bun:"csrf_token"`
	CreatedAt     time.Time `bun:"created_at"`
	ExpiresAt     time.Time `bun:"expires_at"`
}

// SigninFailure is one failed sign-in, kept for rate limiting.
type SigninFailure struct {
	bun.BaseModel `bun:"table:signin_failures"`
	ID            int64     `bun:"id,pk,autoincrement"`
	Email         string    `bun:"email"`
	Address       string    `bun:"address"`
	CreatedAt     time.Time `bun:"created_at"`
}

// CreateUser inserts u; an email already taken is a conflict on "email".
// Callers check the email, role and password (pkg/admin does).
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.CreatedAt = time.Now().UTC()
	if _, err := s.db.NewInsert().Model(u).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "email", Message: fmt.Sprintf("a user with email %s already exists", u.Email), Err: err}
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UserByEmail returns the user with email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.db.NewSelect().Model(&u).Where("email = ?", email).Scan(ctx); err != nil {
		return nil, notFound(err, "user", email)
	}
	return &u, nil
}

// ListUsers returns every user in email order.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.db.NewSelect().Model(&us).Order("email").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// CountUsers counts the users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	n, err := s.db.NewSelect().Model((*User)(nil)).Count(ctx)
	return int64(n), err
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss *Session) error {
	ss.CreatedAt = ss.CreatedAt.UTC()
	ss.ExpiresAt = ss.ExpiresAt.UTC()
	if _, err := s.db.NewInsert().Model(ss).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser returns the session with idHash and its user, if the session
// has not expired at now and the user is not disabled; otherwise ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, idHash string, now time.Time) (*Session, *User, error) {
	var ss Session
	if err := s.db.NewSelect().Model(&ss).Where("id_hash = ? AND expires_at > ?", idHash, now.UTC()).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "session", "")
	}
	var u User
	if err := s.db.NewSelect().Model(&u).Where("id = ? AND disabled_at IS NULL", ss.UserID).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "user", ss.UserID)
	}
	return &ss, &u, nil
}

// ExtendSession moves a session's expiry to until.
func (s *Store) ExtendSession(ctx context.Context, idHash string, until time.Time) error {
	if _, err := s.db.NewUpdate().Model((*Session)(nil)).Set("expires_at = ?", until.UTC()).
		Where("id_hash = ?", idHash).Exec(ctx); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// DeleteSession ends a session, and with it any expired session: signing out
// is a good moment to sweep.
func (s *Store) DeleteSession(ctx context.Context, idHash string, now time.Time) error {
	if _, err := s.db.NewDelete().Model((*Session)(nil)).
		Where("id_hash = ? OR expires_at <= ?", idHash, now.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// RecordSigninFailure notes a failed sign-in for email from address.
func (s *Store) RecordSigninFailure(ctx context.Context, email, address string, at time.Time) error {
	if _, err := s.db.NewInsert().Model(&SigninFailure{Email: email, Address: address, CreatedAt: at.UTC()}).Exec(ctx); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	return nil
}

// SigninFailures counts the failed sign-ins since a time for the account
// email and from address.
func (s *Store) SigninFailures(ctx context.Context, email, address string, since time.Time) (byEmail, byAddress int64, err error) {
	q := func(col, v string) (int64, error) {
		n, err := s.db.NewSelect().Model((*SigninFailure)(nil)).Where("? = ? AND created_at > ?", bun.Ident(col), v, since.UTC()).Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count sign-in failures: %w", err)
		}
		return int64(n), nil
	}
	if byEmail, err = q("email", email); err != nil {
		return 0, 0, err
	}
	byAddress, err = q("address", address)
	return byEmail, byAddress, err
}

// ClearSigninFailures forgets the failures of an account, after it signed in,
// and every failure older than before.
func (s *Store) ClearSigninFailures(ctx context.Context, email string, before time.Time) error {
	if _, err := s.db.NewDelete().Model((*SigninFailure)(nil)).
		Where("email = ? OR created_at <= ?", email, before.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

// SetUserPassword replaces the password hash of the user with email and ends
// that user's sessions, in one transaction: whoever had the old password is
// signed out. An unknown email is a not-found error.
func (s *Store) SetUserPassword(ctx context.Context, email, hash string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		if err := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Where("email = ?", email).
			Returning("id").Scan(ctx, &id); err != nil {
			return notFound(err, "user", email)
		}
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("user_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("end the sessions of user %s: %w", email, err)
		}
		return nil
	})
}
