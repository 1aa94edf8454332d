package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// A lease is a worker's claim on waiting ledger rows: while lease_until is in
// the future no other batch takes them, so two batches whose ranges overlap
// (the batch size changed mid-campaign, or a batch enqueued again after Redis
// lost its data while the first still runs) never send a row twice. Every
// recorded outcome clears the lease; a worker that dies leaves rows whose
// lease runs out, and the recovery sweep (OrphanedRanges) sends them again.

// Claim is a set of ledger rows held by one worker until Until.
type Claim struct {
	Recipients []Recipient
	Until      time.Time // the lease value the rows carry; it identifies the claim
}

// leaseTime makes a lease value exact in both databases: PostgreSQL keeps
// microseconds, and a renewal or release matches the value it was given.
func leaseTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// ClaimRecipients leases up to limit waiting rows of a campaign with ids in
// [lo, hi] whose lease is unset or expired at now, until now+lease, and returns
// them with their contacts' data, in id order. Rows leased by another worker
// are left alone. On PostgreSQL the claim and the read are one statement
// (an UPDATE ... RETURNING in a CTE, joined with contacts); SQLite cannot put
// an UPDATE in a CTE, and reads the claimed rows in a second statement, in
// process and without a round trip.
func (s *Store) ClaimRecipients(ctx context.Context, campaignID, lo, hi int64, limit int, lease time.Duration, now time.Time) (*Claim, error) {
	now = leaseTime(now)
	until := leaseTime(now.Add(lease))
	candidates := s.db.NewSelect().Model((*Send)(nil)).Column("id").
		Where("campaign_id = ? AND id BETWEEN ? AND ? AND status IN (?)", campaignID, lo, hi, waiting).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("lease_until IS NULL").WhereOr("lease_until <= ?", now)
		}).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("not_before IS NULL").WhereOr("not_before <= ?", now) // its recipient's local time has come
		}).
		Order("id").Limit(int64(limit))
	inCandidates := "id IN (?)"
	if s.dialect == "pg" {
		// Rows another claim is taking right now are passed over, not waited
		// for: concurrent claims get different rows instead of none. ARRAY()
		// runs the subquery once; under IN, PostgreSQL may run it again per
		// row, and with SKIP LOCKED each run can pick other rows, past the limit.
		candidates = candidates.For("UPDATE SKIP LOCKED")
		inCandidates = "id = ANY(ARRAY(?))"
	}
	// The lease condition is checked again on the row itself: under
	// PostgreSQL's READ COMMITTED, an UPDATE that waited for another one's row
	// lock re-reads the row, and must then see it taken. SQLite runs one
	// writer at a time.
	claim := s.db.NewUpdate().Model((*Send)(nil)).Set("lease_until = ?", until).Where(inCandidates, candidates).
		Where("status IN (?)", waiting).WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("lease_until IS NULL").WhereOr("lease_until <= ?", now)
	})
	c := &Claim{Until: until}
	if s.dialect == "pg" {
		// The UPDATE returns the ledger's columns (the outer query would
		// read the rows as they were before it); contacts are joined to them.
		claim = claim.Returning("id, contact_id, email, attempts, variant_id, throttled, first_attempt_at")
		q := s.recipientsFrom(s.db.NewSelect().With("claimed", claim), "claimed AS s").OrderExpr("s.id")
		if err := q.Scan(ctx, &c.Recipients); err != nil {
			return nil, fmt.Errorf("claim recipients of campaign %d: %w", campaignID, err)
		}
		return c, nil
	}
	var ids []int64
	if err := claim.Returning("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("claim recipients of campaign %d: %w", campaignID, err)
	}
	if len(ids) == 0 {
		return c, nil
	}
	if err := s.recipientsQuery().Where("s.id IN (?)", bun.List(ids)).OrderExpr("s.id").Scan(ctx, &c.Recipients); err != nil {
		return nil, fmt.Errorf("claimed recipients: %w", err)
	}
	return c, nil
}

// ReleaseLeases gives back the rows of ids still held under c.Until (a
// paused campaign, a worker shutting down): another batch may take them at
// once rather than when the lease runs out.
func (s *Store) ReleaseLeases(ctx context.Context, c *Claim, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Model((*Send)(nil)).Set("lease_until = NULL").
		Where("id IN (?) AND lease_until = ?", bun.List(ids), c.Until).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}

// Orphan is a batch range holding waiting rows whose lease ran out: the
// worker that claimed them died before recording an outcome.
type Orphan struct {
	From, To int64
	// Since is the earliest expired lease in the range; it names this loss,
	// so a sweep that finds the same rows again makes the same task.
	Since time.Time
}

// OrphanedRanges returns up to limit ranges of size ids, aligned as
// NextDispatch aligns them, that hold waiting rows of a campaign whose lease
// expired before now.
func (s *Store) OrphanedRanges(ctx context.Context, campaignID int64, size int, now time.Time, limit int) ([]Orphan, error) {
	if size <= 0 {
		return nil, fmt.Errorf("orphaned ranges: batch size %d must be positive", size)
	}
	var rows []struct {
		Slot  int64     `bun:"slot"`
		Since time.Time `bun:"since"`
	}
	err := s.db.NewSelect().Model((*Send)(nil)).ColumnExpr("(id - 1) / ? AS slot, min(lease_until) AS since", size).
		Where("campaign_id = ? AND status IN (?) AND lease_until <= ?", campaignID, waiting, leaseTime(now)).
		GroupExpr("(id - 1) / ?", size).OrderExpr("slot").Limit(int64(limit)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("orphaned ranges of campaign %d: %w", campaignID, err)
	}
	out := make([]Orphan, len(rows))
	n := int64(size)
	for i, r := range rows {
		out[i] = Orphan{From: r.Slot*n + 1, To: r.Slot*n + n, Since: r.Since}
	}
	return out, nil
}
