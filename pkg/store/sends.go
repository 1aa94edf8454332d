package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Recipient is a ledger row waiting to be sent, with the contact's current data.
type Recipient struct {
	SendID        int64  `bun:"send_id"`
	ContactID     int64  `bun:"contact_id"`
	Email         string `bun:"email"`
	FirstName     string `bun:"first_name"`
	LastName      string `bun:"last_name"`
	Attempts      int    `bun:"attempts"`
	ContactStatus string `bun:"contact_status"`
	Suppressed    bool   `bun:"suppressed"`
	VariantID     int64  `bun:"variant_id"` // the A/B variant to send; 0 for none
	// Throttled counts the attempts that met a throttling relay; they do
	// not count toward the attempts allowed.
	Throttled int `bun:"throttled"`
	// FirstAttemptAt is when the row was first tried; nil before that.
	FirstAttemptAt *time.Time `bun:"first_attempt_at"`
}

// Mailable reports whether the contact may still be mailed: subscribed and not suppressed.
func (r Recipient) Mailable() bool { return r.ContactStatus == ContactSubscribed && !r.Suppressed }

// PendingRecipients returns the ledger rows of a campaign with ids in [lo, hi]
// that still wait (queued or deferred), in id order.
func (s *Store) PendingRecipients(ctx context.Context, campaignID, lo, hi int64) ([]Recipient, error) {
	var rs []Recipient
	err := s.recipientsQuery().
		Where("s.campaign_id = ? AND s.id BETWEEN ? AND ?", campaignID, lo, hi).
		Where("s.status IN (?)", waiting).
		OrderExpr("s.id").Scan(ctx, &rs)
	if err != nil {
		return nil, fmt.Errorf("pending recipients: %w", err)
	}
	return rs, nil
}

// recipientsQuery selects ledger rows as Recipients, with their contacts' data.
func (s *Store) recipientsQuery() *bun.SelectQuery {
	return s.recipientsFrom(s.db.NewSelect(), "sends AS s")
}

// recipientsFrom selects the rows of table (ledger rows, or rows with the
// ledger's columns, named s) as Recipients, joined with their contacts.
func (s *Store) recipientsFrom(q *bun.SelectQuery, table string) *bun.SelectQuery {
	return q.TableExpr(table).
		Join("JOIN contacts AS c ON c.id = s.contact_id").
		ColumnExpr("s.id AS send_id, s.contact_id, s.email, c.first_name, c.last_name, s.attempts, c.status AS contact_status").
		ColumnExpr("coalesce(s.variant_id, 0) AS variant_id, s.throttled, s.first_attempt_at").
		ColumnExpr("EXISTS (?) AS suppressed", s.suppressedQuery(s.db, "c.email_key"))
}

// RecordOutcome writes what happened to one ledger row: its new status, the
// relay's reply, and, when countAttempt, one more attempt. sent_at is set
// when status is SendSent. The row's lease is cleared: a deferred row may be
// claimed again.
func (s *Store) RecordOutcome(ctx context.Context, sendID int64, status, reply string, countAttempt bool) error {
	_, err := s.RecordOutcomes(ctx, []Outcome{{SendID: sendID, Status: status, Reply: reply, Attempt: countAttempt}})
	return err
}

// Bounce records a permanent refusal: the ledger row bounced, the contact marked
// bounced and its address suppressed, in one transaction.
func (s *Store) Bounce(ctx context.Context, sendID int64, reply string) error {
	n, err := s.RecordOutcomes(ctx, []Outcome{{SendID: sendID, Status: SendBounced, Reply: reply, Attempt: true}})
	if err == nil && n == 0 {
		return notFound(sql.ErrNoRows, "send", sendID)
	}
	return err
}

// GetSend returns the ledger row with id.
func (s *Store) GetSend(ctx context.Context, id int64) (*Send, error) {
	var snd Send
	if err := s.db.NewSelect().Model(&snd).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "send", id)
	}
	return &snd, nil
}

// EnsureLinks registers the URLs of a campaign's message and returns their ids
// in the same order. Safe to call from several workers at once.
func (s *Store) EnsureLinks(ctx context.Context, campaignID int64, urls []string) ([]int64, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	links := make([]Link, len(urls))
	for i, u := range urls {
		links[i] = Link{CampaignID: campaignID, URL: u}
	}
	if _, err := s.db.NewInsert().Model(&links).On("CONFLICT (campaign_id, url) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert links: %w", err)
	}
	var got []Link
	if err := s.db.NewSelect().Model(&got).Where("campaign_id = ?", campaignID).Scan(ctx); err != nil {
		return nil, err
	}
	byURL := make(map[string]int64, len(got))
	for _, l := range got {
		byURL[l.URL] = l.ID
	}
	ids := make([]int64, len(urls))
	for i, u := range urls {
		ids[i] = byURL[u]
	}
	return ids, nil
}

// GetLink returns the link with id.
func (s *Store) GetLink(ctx context.Context, id int64) (*Link, error) {
	var l Link
	if err := s.db.NewSelect().Model(&l).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "link", id)
	}
	return &l, nil
}

// InsertEvent records an open, click or other event.
func (s *Store) InsertEvent(ctx context.Context, e *Event) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	if _, err := s.db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

// IsSuppressed reports whether an address, or its domain, is on the
// suppression list, in any letter case.
func (s *Store) IsSuppressed(ctx context.Context, email string) (bool, error) {
	email = EmailKey(email)
	domain := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		domain = email[i:]
	}
	return s.db.NewSelect().Model((*Suppression)(nil)).Where("email_key IN (?, ?)", email, domain).Exists(ctx)
}

// NextBatch returns the id range of the next batch of up to size ledger rows of
// a campaign that still wait, starting after id after; ok is false at the end.
func (s *Store) NextBatch(ctx context.Context, campaignID, after int64, size int) (lo, hi int64, ok bool, err error) {
	var ids []int64
	err = s.db.NewSelect().Model((*Send)(nil)).Column("id").
		Where("campaign_id = ? AND id > ? AND status IN (?)", campaignID, after, waiting).
		Order("id").Limit(int64(size)).Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return 0, 0, false, err
	}
	return ids[0], ids[len(ids)-1], true, nil
}
