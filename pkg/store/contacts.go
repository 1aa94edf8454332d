package store

import (
	"context"
	"fmt"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// CreateContact inserts c; an email already present is a conflict.
func (s *Store) CreateContact(ctx context.Context, c *Contact) error {
	if c.Status == "" {
		c.Status = ContactSubscribed
	}
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if _, err := s.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "email", Message: fmt.Sprintf("a contact with email %s already exists", c.Email), Err: err}
		}
		return fmt.Errorf("insert contact: %w", err)
	}
	return nil
}

// InsertContacts inserts many contacts in one statement, skipping emails already
// present, and returns how many were new. Used for seeding and bulk loads.
func (s *Store) InsertContacts(ctx context.Context, cs []Contact) (int64, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	for i := range cs {
		if cs[i].Status == "" {
			cs[i].Status = ContactSubscribed
		}
		cs[i].CreatedAt, cs[i].UpdatedAt = now, now
	}
	res, err := s.db.NewInsert().Model(&cs).On("CONFLICT (email) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert contacts: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// GetContact returns the contact with id.
func (s *Store) GetContact(ctx context.Context, id int64) (*Contact, error) {
	var c Contact
	if err := s.db.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "contact", id)
	}
	return &c, nil
}

// ContactByEmail returns the contact with email.
func (s *Store) ContactByEmail(ctx context.Context, email string) (*Contact, error) {
	var c Contact
	if err := s.db.NewSelect().Model(&c).Where("email = ?", email).Scan(ctx); err != nil {
		return nil, notFound(err, "contact", email)
	}
	return &c, nil
}

// ListContacts returns up to limit contacts with id greater than after, in id order (keyset pagination).
func (s *Store) ListContacts(ctx context.Context, after int64, limit int) ([]Contact, error) {
	var cs []Contact
	err := s.db.NewSelect().Model(&cs).Where("id > ?", after).Order("id").Limit(int64(limit)).Scan(ctx)
	return cs, err
}

// CountContacts counts every contact.
func (s *Store) CountContacts(ctx context.Context) (int64, error) {
	return s.db.NewSelect().Model((*Contact)(nil)).Count(ctx)
}
