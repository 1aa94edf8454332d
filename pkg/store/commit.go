package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Outcome is what happened to one ledger row, as a worker records it: the
// row's new status and the relay's reply. Every recorded outcome clears the
// row's lease.
type Outcome struct {
	SendID int64
	Status string // SendSent, SendDeferred, SendBounced, SendFailed, SendBlocked, SendUnknown, SendSkipped
	Reply  string
	// Attempt counts one more attempt (and sets first_attempt_at the first
	// time); a row skipped, or deferred before it was tried, counts none.
	Attempt bool
	// Throttled counts one more attempt that met a throttling relay (it
	// does not count toward the attempts allowed); the status is deferred.
	Throttled bool
	// Relay names the relay that answered (SendSent, SendBlocked,
	// SendBounced): a block reported later is counted against it.
	Relay string
}

// RecordOutcomes writes the outcomes of many ledger rows in one statement
// (a group commit): each row gets its status, reply, attempts and lease
// cleared, a sent row its sent_at, a sent, blocked or bounced row its relay. A bounced row's
// contact is marked bounced and its address suppressed, in the same
// transaction. When it returns nil every outcome is durable. A row that is no
// longer there (its campaign deleted) is passed over; it returns how many
// rows were written.
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) (int64, error) {
	if len(outs) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	var bounced []int64
	for _, o := range outs {
		if o.Status == SendBounced {
			bounced = append(bounced, o.SendID)
		}
	}
	var n int64
	write := func(ctx context.Context, db bun.IDB) error {
		res, err := s.outcomesUpdate(db, outs, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("record %d outcomes: %w", len(outs), err)
		}
		n, _ = res.RowsAffected()
		if len(bounced) == 0 {
			return nil
		}
		return suppressBounced(ctx, db, bounced, outs, now)
	}
	if len(bounced) == 0 {
		// One statement is its own transaction: no BEGIN and COMMIT round trips.
		return n, write(ctx, s.db)
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return write(ctx, tx) })
	return n, err
}

// outcomesUpdate is the one UPDATE of RecordOutcomes: the rows' new values
// come in a VALUES list joined on the id (UPDATE ... FROM, which SQLite has
// since 3.33), in the same words for both databases (both name the columns
// of VALUES column1, column2, ...).
func (s *Store) outcomesUpdate(db bun.IDB, outs []Outcome, now time.Time) *bun.RawQuery {
	var b strings.Builder
	args := make([]any, 0, 5+6*len(outs))
	b.WriteString(`UPDATE sends AS s SET status = v.status, last_reply = v.reply, updated_at = ?, lease_until = NULL,
	attempts = s.attempts + v.attempt, throttled = s.throttled + v.throttled,
	first_attempt_at = CASE WHEN v.attempt = 1 THEN coalesce(s.first_attempt_at, ?) ELSE s.first_attempt_at END,
	sent_at = CASE WHEN v.status = ? THEN ? ELSE s.sent_at END,
	relay = CASE WHEN v.status IN (?, ?, ?) THEN v.relay ELSE s.relay END
FROM (SELECT column1 AS id, column2 AS status, column3 AS reply, column4 AS attempt, column5 AS throttled, column6 AS relay
	FROM (VALUES `)
	args = append(args, now, now, SendSent, now, SendSent, SendBlocked, SendBounced)
	for i, o := range outs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, o.SendID, o.Status, o.Reply, b2i(o.Attempt || o.Throttled), b2i(o.Throttled), o.Relay)
	}
	b.WriteString(`) AS x) AS v
WHERE s.id = v.id`)
	return db.NewRaw(b.String(), args...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// suppressBounced marks the contacts of the bounced rows bounced and
// suppresses their addresses, each with the relay's reply as its reason.
func suppressBounced(ctx context.Context, db bun.IDB, ids []int64, outs []Outcome, now time.Time) error {
	var rows []Send
	if err := db.NewSelect().Model(&rows).Column("id", "contact_id", "email").Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("bounced rows: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	reply := make(map[int64]string, len(outs))
	for _, o := range outs {
		reply[o.SendID] = o.Reply
	}
	contacts := make([]int64, len(rows))
	sups := make([]Suppression, 0, len(rows))
	seen := map[string]bool{}
	for i, r := range rows {
		contacts[i] = r.ContactID
		if key := EmailKey(r.Email); key != "" && !seen[key] { // "": an erased person, suppressed already // one address bounced twice in a batch: one suppression
			seen[key] = true
			sups = append(sups, Suppression{Email: r.Email, EmailKey: key, Reason: bouncedReason + reply[r.ID], CreatedAt: now})
		}
	}
	if _, err := db.NewUpdate().Model((*Contact)(nil)).Set("status = ?", ContactBounced).Set("updated_at = ?", now).
		Where("id IN (?) AND status NOT IN (?)", bun.List(contacts), bun.List([]string{ContactComplained, ContactErased})).Exec(ctx); err != nil { // a complaint stays the stronger word
		return fmt.Errorf("mark bounced contacts: %w", err)
	}
	if len(sups) == 0 {
		return nil
	}
	if _, err := db.NewInsert().Model(&sups).On("CONFLICT (email_key) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("suppress bounced addresses: %w", err)
	}
	return nil
}
