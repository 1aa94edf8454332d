package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Webhook is a URL that receives signed JSON posts for the events it names.
type Webhook struct {
	bun.BaseModel `bun:"table:webhooks"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	URL           string    `bun:"url" json:"url"`
	Events        []string  `bun:"events,type:json" json:"events"`
	Secret        string    `bun:"secret" json:"-"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// CreateWebhook inserts w.
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook) error {
	w.CreatedAt = time.Now().UTC()
	if _, err := s.db.NewInsert().Model(w).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

// GetWebhook returns the webhook with id.
func (s *Store) GetWebhook(ctx context.Context, id int64) (*Webhook, error) {
	var w Webhook
	if err := s.db.NewSelect().Model(&w).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "webhook", id)
	}
	return &w, nil
}

// ListWebhooks returns every webhook in id order.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	ws := []Webhook{}
	err := s.db.NewSelect().Model(&ws).Order("id").Scan(ctx)
	return ws, err
}

// DeleteWebhook removes the webhook with id.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*Webhook)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "webhook", id)
	}
	return nil
}

// WebhooksFor returns the webhooks subscribed to event.
func (s *Store) WebhooksFor(ctx context.Context, event string) ([]Webhook, error) {
	all, err := s.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(w Webhook) bool { return !slices.Contains(w.Events, event) }), nil
}
