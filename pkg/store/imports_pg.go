package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// copyFunc streams rows into a table with PostgreSQL's COPY.
type copyFunc func(ctx context.Context, table string, cols []string, rows [][]any) error

// copyImportBatch runs fn in a transaction on one connection, handing it a
// copyFunc that runs on the same connection, so what it copies is part of
// the transaction.
func (s *Store) copyImportBatch(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, copyRows copyFunc) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	copyRows := func(ctx context.Context, table string, cols []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("COPY needs the pgx driver, not %T", dc)
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, copyRows) })
}

var importRowColumns = []string{"email", "email_key", "first_name", "last_name", "postal_code", "region", "country", "time_zone", "consent_at", "attributes", "tags"}

// copyImportRows is upsertImportRows for PostgreSQL: rows (one per email) are
// copied into a temporary table, then contacts, list members and tags are
// written from it by a few INSERT ... SELECT statements, far faster than a
// large VALUES list.
func copyImportRows(ctx context.Context, tx bun.Tx, copyRows copyFunc, imp *Import, source string, rows []ImportRow) (ImportCounts, error) {
	var counts ImportCounts
	now := time.Now().UTC()
	// Created once per connection and emptied at each commit: no catalog
	// churn per batch.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_rows (email text, email_key text, first_name text, last_name text,
		postal_code text, region text, country text, time_zone text, consent_at timestamptz, attributes text, tags text[]) ON COMMIT DELETE ROWS`); err != nil {
		return counts, fmt.Errorf("create import_rows: %w", err)
	}
	data := make([][]any, len(rows))
	for i, r := range rows {
		attrs := "{}"
		if len(r.Attributes) > 0 {
			b, err := json.Marshal(r.Attributes)
			if err != nil {
				return counts, fmt.Errorf("attributes of line %d: %w", r.Line, err)
			}
			attrs = string(b)
		}
		tags := r.Tags
		if tags == nil {
			tags = []string{}
		}
		data[i] = []any{r.Email, EmailKey(r.Email), r.FirstName, r.LastName, r.PostalCode, r.Region, r.Country, r.TimeZone, r.ConsentAt, attrs, tags}
	}
	if err := copyRows(ctx, "import_rows", importRowColumns, data); err != nil {
		return counts, fmt.Errorf("copy import rows: %w", err)
	}
	// A fresh temp table has no statistics: without them the planner joins it
	// row by row against the upserted contacts.
	if _, err := tx.ExecContext(ctx, "ANALYZE import_rows"); err != nil {
		return counts, fmt.Errorf("analyze import rows: %w", err)
	}
	// Tags first, so the statement below finds every one.
	if _, err := tx.NewRaw(`INSERT INTO tags (name, created_at)
		SELECT DISTINCT unnest(tags), ?::timestamptz FROM import_rows ORDER BY 1
		ON CONFLICT (name) DO NOTHING`, now).Exec(ctx); err != nil {
		return counts, fmt.Errorf("insert tags: %w", err)
	}
	// One statement upserts the contacts and, from the ids it returns, adds
	// them to the list (a member who left stays out: DO NOTHING keeps its
	// status) and tags them. xmax = 0 tells a row inserted from one updated.
	var listID *int64
	if imp.ListID != nil {
		listID = imp.ListID
	}
	upsert := `WITH up AS (
			INSERT INTO contacts AS contact (email, email_key, first_name, last_name, postal_code, region, country, time_zone,
				consent_at, attributes, status, source, created_at, updated_at)
			SELECT email, email_key, first_name, last_name, postal_code, region, country, time_zone, consent_at, attributes::jsonb, ?, ?, ?, ?
			FROM import_rows
			ON CONFLICT (email_key) DO UPDATE SET ` + strings.Join(importUpdates("contact", "contact.attributes || EXCLUDED.attributes"), ", ") + `
			RETURNING id, email_key, (xmax = 0) AS inserted),
		lm AS (
			INSERT INTO list_members (list_id, contact_id, status, created_at)
			SELECT ?::bigint, id, ?, ?::timestamptz FROM up WHERE ?::bigint IS NOT NULL
			ON CONFLICT (list_id, contact_id) DO NOTHING),
		ct AS (
			INSERT INTO contact_tags (contact_id, tag_id)
			SELECT DISTINCT up.id, t.id FROM up JOIN import_rows AS r ON r.email_key = up.email_key
			CROSS JOIN LATERAL unnest(r.tags) AS n(name) JOIN tags AS t ON t.name = n.name
			ON CONFLICT (contact_id, tag_id) DO NOTHING)
		SELECT count(*) FILTER (WHERE inserted) FROM up`
	if err := tx.NewRaw(upsert, ContactSubscribed, source, now, now, listID, ContactSubscribed, now, listID).Scan(ctx, &counts.Imported); err != nil {
		return counts, fmt.Errorf("upsert contacts: %w", err)
	}
	counts.Updated = int64(len(rows)) - counts.Imported
	return counts, nil
}
