package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// Merge is one set of case twins a migration folded into one row: the rows
// of table with ids Merged are gone, their data moved to Survivor.
type Merge struct {
	Table    string
	Survivor int64
	Merged   []int64
	Email    string // the survivor's address, as typed
}

// String reads "merged contacts 12, 57 into 5 (Foo@x.org)".
func (m Merge) String() string {
	ids := make([]string, len(m.Merged))
	for i, id := range m.Merged {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("merged %s %s into %d (%s)", m.Table, strings.Join(ids, ", "), m.Survivor, m.Email)
}

// statusRank orders contact statuses from least to most restrictive: when
// twins merge, the most restrictive wins, so no opt-out is lost.
var statusRank = map[string]int{ContactSubscribed: 0, ContactUnsubscribed: 1, ContactBounced: 2, ContactComplained: 3}

// MoreRestrictive returns whichever of two contact statuses keeps a person
// from more mail (complained > bounced > unsubscribed > subscribed). An
// unknown status counts as unsubscribed: it must not make anyone mailable.
func MoreRestrictive(a, b string) string {
	rank := func(s string) int {
		if r, ok := statusRank[s]; ok {
			return r
		}
		return statusRank[ContactUnsubscribed]
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// mergeCaseTwins is the Go step of migration 0013: it fills email_key on
// contacts, suppressions and letter signers, then folds the rows that share
// a key, so that the unique indexes built after it hold. It runs in the
// migration's transaction: all of it happens, or none.
func mergeCaseTwins(ctx context.Context, tx bun.Tx, dialect string) ([]Merge, error) {
	for _, table := range []string{"contacts", "suppressions", "organization_signatures"} {
		if err := fillEmailKeys(ctx, tx, table); err != nil {
			return nil, err
		}
	}
	merges, err := mergeContactTwins(ctx, tx)
	if err != nil {
		return nil, err
	}
	// A suppression holds whichever twin stays: they say the same thing.
	ms, err := dropTwins(ctx, tx, "suppressions", "email_key", "id")
	if err != nil {
		return nil, err
	}
	merges = append(merges, ms...)
	// An approved signer stays on the letter rather than a pending twin.
	ms, err = dropTwins(ctx, tx, "organization_signatures", "petition_id, email_key",
		fmt.Sprintf("CASE WHEN status = '%s' THEN 0 ELSE 1 END, id", OrgApproved))
	if err != nil {
		return nil, err
	}
	merges = append(merges, ms...)
	if dialect == "pg" {
		// The unique keys on the address as typed are implied by the new
		// ones. SQLite keeps its own: it could drop them only by
		// rebuilding the tables.
		for _, stmt := range []string{
			"ALTER TABLE contacts DROP CONSTRAINT IF EXISTS contacts_email_key",
			"ALTER TABLE suppressions DROP CONSTRAINT IF EXISTS suppressions_email_key",
			"ALTER TABLE organization_signatures DROP CONSTRAINT IF EXISTS organization_signatures_petition_id_email_key",
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return nil, err
			}
		}
	}
	return merges, nil
}

// fillEmailKeys sets email_key from email on every row of table, a page of
// rows per statement.
func fillEmailKeys(ctx context.Context, tx bun.Tx, table string) error {
	var after int64
	for {
		var rows []struct {
			ID    int64  `bun:"id"`
			Email string `bun:"email"`
		}
		if err := tx.NewSelect().Table(table).Column("id", "email").Where("id > ?", after).
			Order("id").Limit(500).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		if len(rows) == 0 {
			return nil
		}
		var sb strings.Builder
		args := []any{bun.Ident(table)}
		ids := make([]int64, len(rows))
		sb.WriteString("UPDATE ? SET email_key = CASE id")
		for i, r := range rows {
			sb.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, EmailKey(r.Email))
			ids[i] = r.ID
		}
		sb.WriteString(" END WHERE id IN (?)")
		args = append(args, bun.List(ids))
		if _, err := tx.NewRaw(sb.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("fill %s.email_key: %w", table, err)
		}
		after = rows[len(rows)-1].ID
	}
}

// twinRow is a row sharing its key with another.
type twinRow struct {
	ID     int64  `bun:"id"`
	Email  string `bun:"email"`
	Key    string `bun:"k"`
	Status string `bun:"status"`
}

// twinGroups returns the rows of table whose key columns (a constant list)
// are shared with another row, grouped by key, each group in the order
// given (its first row survives).
func twinGroups(ctx context.Context, tx bun.Tx, table, keyCols, order string) ([][]twinRow, error) {
	var rows []twinRow
	shared := tx.NewSelect().Table(table).ColumnExpr(keyCols).GroupExpr(keyCols).Having("count(*) > 1")
	keyExpr := strings.ReplaceAll(keyCols, ", ", " || '/' || ")
	status := "status"
	if table == "suppressions" {
		status = "'' AS status" // a suppression has none: only its reason
	}
	if err := tx.NewSelect().Table(table).ColumnExpr("id, email, "+status).ColumnExpr(keyExpr+" AS k").
		Where("("+keyCols+") IN (?)", shared).OrderExpr("k, "+order).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("find twins in %s: %w", table, err)
	}
	var groups [][]twinRow
	for i, r := range rows {
		if i == 0 || r.Key != rows[i-1].Key {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], r)
	}
	// Reported in the order the survivors were stored, not by address.
	sort.Slice(groups, func(i, j int) bool { return groups[i][0].ID < groups[j][0].ID })
	return groups, nil
}

// dropTwins keeps the first row of each group of twins in table and deletes
// the others: rows that nothing else refers to.
func dropTwins(ctx context.Context, tx bun.Tx, table, keyCols, order string) ([]Merge, error) {
	groups, err := twinGroups(ctx, tx, table, keyCols, order)
	if err != nil {
		return nil, err
	}
	var merges []Merge
	for _, g := range groups {
		m := Merge{Table: table, Survivor: g[0].ID, Email: g[0].Email}
		for _, r := range g[1:] {
			m.Merged = append(m.Merged, r.ID)
		}
		if _, err := tx.NewDelete().Table(table).Where("id IN (?)", bun.List(m.Merged)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete twins in %s: %w", table, err)
		}
		merges = append(merges, m)
	}
	return merges, nil
}

// mergeContactTwins folds each group of contacts sharing an email key into
// its oldest contact: the most restrictive status, and every list
// membership, tag, topic opt-out, preference, ledger row, event and
// signature of the others, dropping the rows that would repeat one the
// survivor has.
func mergeContactTwins(ctx context.Context, tx bun.Tx) ([]Merge, error) {
	groups, err := twinGroups(ctx, tx, "contacts", "email_key", "id")
	if err != nil {
		return nil, err
	}
	var merges []Merge
	for _, g := range groups {
		keep := g[0]
		m := Merge{Table: "contacts", Survivor: keep.ID, Email: keep.Email}
		status := keep.Status
		for _, t := range g[1:] {
			status = MoreRestrictive(status, t.Status)
			if err := moveContact(ctx, tx, t.ID, keep.ID); err != nil {
				return nil, fmt.Errorf("merge contact %d into %d: %w", t.ID, keep.ID, err)
			}
			m.Merged = append(m.Merged, t.ID)
		}
		if status != keep.Status {
			if _, err := tx.NewUpdate().Table("contacts").Set("status = ?", status).Where("id = ?", keep.ID).Exec(ctx); err != nil {
				return nil, err
			}
		}
		if _, err := tx.NewDelete().Table("contacts").Where("id IN (?)", bun.List(m.Merged)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete merged contacts: %w", err)
		}
		merges = append(merges, m)
	}
	return merges, nil
}

// moveContact moves what refers to contact from to contact to.
func moveContact(ctx context.Context, tx bun.Tx, from, to int64) error {
	// A list the twin left stays left for the survivor.
	if _, err := tx.NewRaw(`UPDATE list_members SET status = ? WHERE contact_id = ? AND status = ?
		AND list_id IN (SELECT list_id FROM list_members WHERE contact_id = ? AND status <> ?)`,
		ContactUnsubscribed, to, ContactSubscribed, from, ContactSubscribed).Exec(ctx); err != nil {
		return fmt.Errorf("list statuses: %w", err)
	}
	// Where both were sent the same campaign, the twin's events and
	// signatures move to the survivor's ledger row before the twin's goes.
	for _, table := range []string{"events", "signatures"} {
		if _, err := tx.NewRaw(`UPDATE ? SET send_id = (SELECT mine.id FROM sends AS mine JOIN sends AS theirs
			ON theirs.campaign_id = mine.campaign_id WHERE theirs.id = ?.send_id AND mine.contact_id = ?)
			WHERE send_id IN (SELECT id FROM sends WHERE contact_id = ?
				AND campaign_id IN (SELECT campaign_id FROM sends WHERE contact_id = ?))`,
			bun.Ident(table), bun.Ident(table), to, from, to).Exec(ctx); err != nil {
			return fmt.Errorf("%s of repeated sends: %w", table, err)
		}
	}
	for _, mv := range []struct{ table, col, key string }{
		{"list_members", "contact_id", "list_id"},
		{"contact_tags", "contact_id", "tag_id"},
		{"topic_optouts", "contact_id", "topic_id"},
		{"contact_preferences", "contact_id", ""},
		{"sends", "contact_id", "campaign_id"},
		{"signatures", "contact_id", "petition_id"},
	} {
		if err := moveRows(ctx, tx, mv.table, mv.col, mv.key, from, to); err != nil {
			return err
		}
	}
	for _, set := range []struct{ table, col string }{{"events", "contact_id"}, {"signatures", "referrer_contact_id"}} {
		if _, err := tx.NewUpdate().Table(set.table).Set("? = ?", bun.Ident(set.col), to).
			Where("? = ?", bun.Ident(set.col), from).Exec(ctx); err != nil {
			return fmt.Errorf("move %s: %w", set.table, err)
		}
	}
	return nil
}

// moveRows re-points table's rows whose col is from to to, except those
// whose key (unique together with col) the survivor already has, which are
// deleted. An empty key means col alone is unique.
func moveRows(ctx context.Context, tx bun.Tx, table, col, key string, from, to int64) error {
	q := tx.NewUpdate().Table(table).Set("? = ?", bun.Ident(col), to).Where("? = ?", bun.Ident(col), from)
	mine := tx.NewSelect().Table(table).Where("? = ?", bun.Ident(col), to)
	if key == "" {
		q = q.Where("NOT EXISTS (?)", mine.ColumnExpr("1"))
	} else {
		q = q.Where("? NOT IN (?)", bun.Ident(key), mine.Column(key))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("move %s: %w", table, err)
	}
	if _, err := tx.NewDelete().Table(table).Where("? = ?", bun.Ident(col), from).Exec(ctx); err != nil {
		return fmt.Errorf("drop repeated %s: %w", table, err)
	}
	return nil
}
