package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// OutboxMessage is one message the SMTP capture of embedded mode accepted.
type OutboxMessage struct {
	bun.BaseModel `bun:"table:outbox_messages"`
	ID            int64     `bun:"id,pk,autoincrement"`
	ReceivedAt    time.Time `bun:"received_at"`
	MailFrom      string    `bun:"mail_from"`  // the envelope sender
	Recipients    string    `bun:"recipients"` // the envelope recipients, joined by ", "
	Subject       string    `bun:"subject"`    // decoded
	Size          int64     `bun:"size"`       // of Raw, in bytes
	Raw           []byte    `bun:"raw"`        // as received; not read by OutboxPage
}

// KeepOutboxMessages stores msgs in one statement.
func (s *Store) KeepOutboxMessages(ctx context.Context, msgs []OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	for i := range msgs {
		msgs[i].ReceivedAt = msgs[i].ReceivedAt.UTC()
		msgs[i].Size = int64(len(msgs[i].Raw))
	}
	// Placeholders, not bun's query builder: bun writes a []byte into the
	// statement as a hex literal, which doubles a 20 KB message and makes
	// the database parse it back; bound, the bytes go through as they are.
	var q strings.Builder
	q.WriteString("INSERT INTO outbox_messages (received_at, mail_from, recipients, subject, size, raw) VALUES ")
	args := make([]any, 0, 6*len(msgs))
	for i, m := range msgs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j := range 6 {
			if j > 0 {
				q.WriteString(", ")
			}
			if s.dialect == "pg" {
				fmt.Fprintf(&q, "$%d", len(args)+j+1)
			} else {
				q.WriteByte('?')
			}
		}
		q.WriteByte(')')
		args = append(args, m.ReceivedAt, m.MailFrom, m.Recipients, m.Subject, m.Size, m.Raw)
	}
	if _, err := s.db.DB.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("keep %d outbox messages: %w", len(msgs), err)
	}
	return nil
}

// OutboxQuery selects a page of the outbox, newest first.
type OutboxQuery struct {
	// Search matches part of the recipients or of the subject, whatever
	// the case (of ASCII letters on SQLite). Empty matches every message.
	Search string
	// Before and After are keyset bounds: the oldest id of the page shown,
	// for the older page; its newest id, for the newer page. Zero: unbounded.
	Before, After int64
	Limit         int
}

// OutboxPage returns a page of messages, newest first, without their raw
// bytes.
func (s *Store) OutboxPage(ctx context.Context, oq OutboxQuery) ([]OutboxMessage, error) {
	var msgs []OutboxMessage
	q := s.outboxSearch(s.db.NewSelect().Model(&msgs).ExcludeColumn("raw").Limit(int64(oq.Limit)), oq.Search)
	if oq.After > 0 {
		// The newer page: the nearest ids above After, turned newest first below.
		q = q.Where("id > ?", oq.After).Order("id ASC")
	} else {
		if oq.Before > 0 {
			q = q.Where("id < ?", oq.Before)
		}
		q = q.Order("id DESC")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("outbox page: %w", err)
	}
	if oq.After > 0 {
		slices.Reverse(msgs)
	}
	return msgs, nil
}

// OutboxSpan is what a search of the outbox matches: how many messages,
// and the ids of the newest and the oldest (0 when none), which tell a page
// whether there are newer or older ones beyond it.
type OutboxSpan struct {
	Count          int64
	Newest, Oldest int64
}

// OutboxSpan counts the messages search matches (OutboxQuery.Search).
func (s *Store) OutboxSpan(ctx context.Context, search string) (OutboxSpan, error) {
	var sp OutboxSpan
	err := s.outboxSearch(s.db.NewSelect().Model((*OutboxMessage)(nil)), search).
		ColumnExpr("COUNT(*), COALESCE(MAX(id), 0), COALESCE(MIN(id), 0)").Scan(ctx, &sp.Count, &sp.Newest, &sp.Oldest)
	if err != nil {
		return OutboxSpan{}, fmt.Errorf("count outbox: %w", err)
	}
	return sp, nil
}

func (s *Store) outboxSearch(q *bun.SelectQuery, search string) *bun.SelectQuery {
	p := strings.ToLower(strings.TrimSpace(search))
	if p == "" {
		return q
	}
	pattern := "%" + likeEscaper.Replace(p) + "%"
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where(`lower(recipients) LIKE ? ESCAPE '\'`, pattern).WhereOr(`lower(subject) LIKE ? ESCAPE '\'`, pattern)
	})
}

// OutboxMessageByID returns one message with its raw bytes.
func (s *Store) OutboxMessageByID(ctx context.Context, id int64) (*OutboxMessage, error) {
	var m OutboxMessage
	if err := s.db.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "outbox message", id)
	}
	return &m, nil
}
