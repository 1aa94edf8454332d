package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// suppressedQuery is "SELECT 1 FROM suppressions" matching the email key in
// column keyCol (a constant of the caller, never input; it holds EmailKey
// values) or its whole domain: a suppression whose email is "@example.com"
// covers every address there. Keys on both sides, so case never matters;
// both lookups use the unique index on suppressions.email_key.
func (s *Store) suppressedQuery(db bun.IDB, keyCol string) *bun.SelectQuery {
	pos := "strpos"
	if s.dialect == "sqlite" {
		pos = "instr"
	}
	return db.NewSelect().TableExpr("suppressions AS sp").ColumnExpr("1").
		Where("sp.email_key IN (" + keyCol + ", substr(" + keyCol + ", " + pos + "(" + keyCol + ", '@')))")
}

// AddSuppressions adds entries (addresses, or domains written "@example.com")
// and returns how many were new; entries already present in any letter case
// keep their reason.
func (s *Store) AddSuppressions(ctx context.Context, sups []Suppression) (int64, error) {
	if len(sups) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	var added int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for start := 0; start < len(sups); start += 1000 {
			chunk := sups[start:min(start+1000, len(sups))]
			for i := range chunk {
				chunk[i].CreatedAt = now
			}
			res, err := tx.NewInsert().Model(&chunk).On("CONFLICT (email_key) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("insert suppressions: %w", err)
			}
			n, _ := res.RowsAffected()
			added += n
		}
		return nil
	})
	return added, err
}

// ListSuppressions returns up to limit entries with id greater than after, in id order.
func (s *Store) ListSuppressions(ctx context.Context, after int64, limit int) ([]Suppression, error) {
	var out []Suppression
	if err := s.db.NewSelect().Model(&out).Where("id > ?", after).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	return out, nil
}

// DeleteSuppression removes the entry with id.
func (s *Store) DeleteSuppression(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*Suppression)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete suppression: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "suppression", id)
	}
	return nil
}
