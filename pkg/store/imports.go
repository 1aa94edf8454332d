package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// Import statuses.
const (
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// Import is one CSV import and its progress.
type Import struct {
	bun.BaseModel `bun:"table:imports"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	ListID        *int64 `bun:"list_id" json:"list_id"`
	Filename      string `bun:"filename" json:"filename"`
	Encoding      string `bun:"encoding" json:"encoding"`
	Status        string `bun:"status" json:"status"`
	RowsDone      int64  `bun:"rows_done" json:"rows_done"`
	Imported      int64  `bun:"imported" json:"imported"`
	Updated       int64  `bun:"updated" json:"updated"`
	Rejected      int64  `bun:"rejected" json:"rejected"`
	// RegionsNormalized counts the rows whose region was written as its
	// state or province code.
	RegionsNormalized int64 `bun:"regions_normalized" json:"regions_normalized"`
	// RegionChanges lists each value so written, with its code and rows.
	RegionChanges RegionChanges `bun:"region_changes" json:"region_changes"`
	Error         string        `bun:"error" json:"error,omitempty"`
	CreatedAt     time.Time     `bun:"created_at" json:"created_at"`
	HeartbeatAt   time.Time     `bun:"heartbeat_at" json:"heartbeat_at"`
	FinishedAt    *time.Time    `bun:"finished_at" json:"finished_at,omitempty"`
}

// ImportReject is a row an import refused: its line in the file, why, and the row as read.
type ImportReject struct {
	bun.BaseModel `bun:"table:import_rejects"`
	ImportID      int64  `bun:"import_id,pk" json:"-"`
	Line          int64  `bun:"line,pk" json:"line"`
	Reason        string `bun:"reason" json:"reason"`
	Raw           string `bun:"raw" json:"raw"`
}

// ImportRow is one valid row of an import: a contact to insert or update.
// Empty fields leave an existing contact's value as it is.
type ImportRow struct {
	Line       int64
	Email      string
	FirstName  string
	LastName   string
	PostalCode string
	Region     string
	Country    string
	TimeZone   string
	ConsentAt  *time.Time
	Attributes map[string]any
	Tags       []string
}

// ImportBatch is what one transaction of an import writes.
type ImportBatch struct {
	Rows     []ImportRow
	Rejects  []ImportReject
	RowsDone int64 // data rows read from the file so far, this batch included
	// RegionsNormalized counts the rows read so far whose region was
	// written as its code, this batch included.
	RegionsNormalized int64
	// RegionChanges are the values so written so far, this batch included.
	RegionChanges RegionChanges
}

// RegionChange is a region an import wrote as a state or province code:
// the value as typed, its code, and how many rows held it.
type RegionChange struct {
	From string `json:"from"`
	To   string `json:"to"`
	Rows int64  `json:"rows"`
}

// RegionChanges are kept as JSON text; an empty text is none.
type RegionChanges []RegionChange

// Value implements driver.Valuer.
func (c RegionChanges) Value() (driver.Value, error) {
	if len(c) == 0 {
		return "", nil
	}
	b, err := json.Marshal([]RegionChange(c))
	return string(b), err
}

// Scan implements sql.Scanner.
func (c *RegionChanges) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("region changes: cannot read a %T", src)
	}
	if len(b) == 0 {
		*c = nil
		return nil
	}
	return json.Unmarshal(b, (*[]RegionChange)(c))
}

// ImportCounts is what a batch did.
type ImportCounts struct {
	Imported, Updated, Rejected int64
}

// ImportStale is how long a running import may go without a heartbeat before
// it is taken for dead. A running import beats at least every ImportStale/4.
const ImportStale = 30 * time.Second

// CreateImport records a new running import.
func (s *Store) CreateImport(ctx context.Context, imp *Import) error {
	now := time.Now().UTC()
	imp.Status, imp.CreatedAt, imp.HeartbeatAt = ImportRunning, now, now
	if _, err := s.db.NewInsert().Model(imp).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert import: %w", err)
	}
	return nil
}

// GetImport returns the import with id.
func (s *Store) GetImport(ctx context.Context, id int64) (*Import, error) {
	var imp Import
	if err := s.db.NewSelect().Model(&imp).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "import", id)
	}
	return &imp, nil
}

// ImportHeartbeat tells that a running import is alive.
func (s *Store) ImportHeartbeat(ctx context.Context, id int64) error {
	_, err := s.db.NewUpdate().Model((*Import)(nil)).Set("heartbeat_at = ?", time.Now().UTC()).
		Where("id = ? AND status = ?", id, ImportRunning).Exec(ctx)
	return err
}

// FinishImport ends a running import as done, or failed with a reason.
func (s *Store) FinishImport(ctx context.Context, id int64, status, reason string) error {
	now := time.Now().UTC()
	_, err := s.db.NewUpdate().Model((*Import)(nil)).Set("status = ?", status).Set("error = ?", reason).
		Set("finished_at = ?", now).Set("heartbeat_at = ?", now).
		Where("id = ? AND status = ?", id, ImportRunning).Exec(ctx)
	if err != nil {
		return fmt.Errorf("finish import %d: %w", id, err)
	}
	return nil
}

// FailStaleImports marks failed every running import whose heartbeat is
// older than ImportStale at now: the process running it is gone. The rows it
// wrote stay, each batch whole; running the file again completes it.
func (s *Store) FailStaleImports(ctx context.Context, now time.Time) (int64, error) {
	now = now.UTC()
	res, err := s.db.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportFailed).
		Set("error = ?", "interrupted: the process running it stopped; import the file again to complete it").
		Set("finished_at = ?", now).
		Where("status = ? AND heartbeat_at < ?", ImportRunning, now.Add(-ImportStale)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("fail stale imports: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// EachImportReject calls fn with the rejected rows of an import, in line order,
// a page at a time.
func (s *Store) EachImportReject(ctx context.Context, importID int64, fn func([]ImportReject) error) error {
	after := int64(-1)
	for {
		var page []ImportReject
		if err := s.db.NewSelect().Model(&page).Where("import_id = ? AND line > ?", importID, after).
			Order("line").Limit(1000).Scan(ctx); err != nil {
			return fmt.Errorf("read rejects: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		after = page[len(page)-1].Line
	}
}

// ApplyImportBatch writes one batch of an import in one transaction: contacts
// upserted by email, added to the import's list and tagged, rejected rows
// recorded, and the import's counters moved. A batch is written whole or not
// at all, so an interrupted import leaves no half-written row and running the
// file again gives the same result.
//
// An existing contact keeps its status: an import never makes an
// unsubscribed, bounced or complained contact mailable again. Its non-empty
// fields replace the stored ones and its attributes are merged in.
func (s *Store) ApplyImportBatch(ctx context.Context, imp *Import, source string, b ImportBatch) (ImportCounts, error) {
	merged := mergeImportRows(b.Rows)
	// Rows sorted by key lock in one order, so concurrent imports cannot deadlock.
	sort.Slice(merged, func(i, j int) bool { return EmailKey(merged[i].Email) < EmailKey(merged[j].Email) })
	var counts ImportCounts
	write := func(ctx context.Context, tx bun.Tx, upsert func(ctx context.Context, tx bun.Tx) (ImportCounts, error)) error {
		var err error
		if len(merged) > 0 {
			if counts, err = upsert(ctx, tx); err != nil {
				return err
			}
		}
		counts.Updated += int64(len(b.Rows) - len(merged)) // a repeated email updates its first row
		counts.Rejected = int64(len(b.Rejects))
		if len(b.Rejects) > 0 {
			for i := range b.Rejects {
				b.Rejects[i].ImportID = imp.ID
			}
			if _, err := tx.NewInsert().Model(&b.Rejects).On("CONFLICT (import_id, line) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("insert rejects: %w", err)
			}
		}
		_, err = tx.NewUpdate().Model((*Import)(nil)).
			Set("rows_done = ?", b.RowsDone).
			Set("regions_normalized = ?", b.RegionsNormalized).
			Set("region_changes = ?", b.RegionChanges).
			Set("imported = imported + ?", counts.Imported).
			Set("updated = updated + ?", counts.Updated).
			Set("rejected = rejected + ?", counts.Rejected).
			Set("heartbeat_at = ?", time.Now().UTC()).
			Where("id = ?", imp.ID).Exec(ctx)
		return err
	}
	var err error
	if s.dialect == "pg" {
		err = s.copyImportBatch(ctx, func(ctx context.Context, tx bun.Tx, copyRows copyFunc) error {
			return write(ctx, tx, func(ctx context.Context, tx bun.Tx) (ImportCounts, error) {
				return copyImportRows(ctx, tx, copyRows, imp, source, merged)
			})
		})
	} else {
		err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return write(ctx, tx, func(ctx context.Context, tx bun.Tx) (ImportCounts, error) {
				return upsertImportRows(ctx, tx, imp, source, merged)
			})
		})
	}
	if err != nil {
		return ImportCounts{}, fmt.Errorf("import batch ending at row %d: %w", b.RowsDone, err)
	}
	return counts, nil
}

// upsertImportRows is the SQLite path of ApplyImportBatch (PostgreSQL copies:
// see copyImportRows): it inserts or updates the contacts of rows (one per
// email key) with one multi-row statement, then lists and tags them. An
// existing contact keeps its address as first typed.
func upsertImportRows(ctx context.Context, tx bun.Tx, imp *Import, source string, rows []ImportRow) (ImportCounts, error) {
	var counts ImportCounts
	// Truncated to what both databases keep, so a row whose created_at comes
	// back equal to now was inserted by this statement, not updated.
	now := time.Now().UTC().Truncate(time.Microsecond)
	cs := make([]Contact, len(rows))
	for i, r := range rows {
		cs[i] = Contact{Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, PostalCode: r.PostalCode,
			Region: r.Region, Country: r.Country, TimeZone: r.TimeZone, ConsentAt: r.ConsentAt,
			Attributes: r.Attributes, Source: source}
		prepareContact(&cs[i], now)
	}
	q := tx.NewInsert().Model(&cs).On("CONFLICT (email_key) DO UPDATE")
	for _, set := range importUpdates("contact", "json_patch(contact.attributes, EXCLUDED.attributes)") {
		q = q.Set(set)
	}
	var got []struct {
		ID        int64     `bun:"id"`
		EmailKey  string    `bun:"email_key"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := q.Returning("id, email_key, created_at").Scan(ctx, &got); err != nil {
		return counts, fmt.Errorf("upsert contacts: %w", err)
	}
	idOf := make(map[string]int64, len(got))
	for _, g := range got {
		idOf[g.EmailKey] = g.ID
		if g.CreatedAt.Equal(now) {
			counts.Imported++
		} else {
			counts.Updated++
		}
	}
	if imp.ListID != nil {
		ms := make([]ListMember, 0, len(got))
		for _, r := range rows {
			ms = append(ms, ListMember{ListID: *imp.ListID, ContactID: idOf[EmailKey(r.Email)], Status: ContactSubscribed, CreatedAt: now})
		}
		// A member who left the list stays out: DO NOTHING keeps its status.
		if _, err := tx.NewInsert().Model(&ms).On("CONFLICT (list_id, contact_id) DO NOTHING").Exec(ctx); err != nil {
			return counts, fmt.Errorf("add list members: %w", err)
		}
	}
	tags := map[int64][]string{}
	for _, r := range rows {
		if len(r.Tags) > 0 {
			tags[idOf[EmailKey(r.Email)]] = r.Tags
		}
	}
	if err := tagContacts(ctx, tx, tags); err != nil {
		return counts, err
	}
	return counts, nil
}

// importUpdates are the SET clauses of an import's upsert, the existing row
// aliased as table: non-empty values replace, attributes merge (with
// mergeAttrs), and the status is left alone, so an import never makes an
// unsubscribed, bounced or complained contact mailable again.
func importUpdates(table, mergeAttrs string) []string {
	var sets []string
	for _, col := range []string{"first_name", "last_name", "postal_code", "region", "country", "time_zone"} {
		sets = append(sets, col+" = CASE WHEN EXCLUDED."+col+" <> '' THEN EXCLUDED."+col+" ELSE "+table+"."+col+" END")
	}
	return append(sets, "attributes = "+mergeAttrs,
		"consent_at = COALESCE(EXCLUDED.consent_at, "+table+".consent_at)",
		"updated_at = EXCLUDED.updated_at")
}

// mergeImportRows folds rows sharing an email key into one, in first-seen
// order: non-empty fields of later rows win, attributes and tags add up.
// pkg/audience rejects a file's repeated rows before they get here; this
// keeps one upsert statement from touching a contact twice all the same.
func mergeImportRows(rows []ImportRow) []ImportRow {
	at := make(map[string]int, len(rows))
	out := make([]ImportRow, 0, len(rows))
	for _, r := range rows {
		k := EmailKey(r.Email)
		i, dup := at[k]
		if !dup {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		for _, f := range []struct{ dst, src *string }{{&m.FirstName, &r.FirstName}, {&m.LastName, &r.LastName},
			{&m.PostalCode, &r.PostalCode}, {&m.Region, &r.Region}, {&m.Country, &r.Country}, {&m.TimeZone, &r.TimeZone}} {
			if *f.src != "" {
				*f.dst = *f.src
			}
		}
		if r.ConsentAt != nil {
			m.ConsentAt = r.ConsentAt
		}
		if len(r.Attributes) > 0 {
			attrs := make(map[string]any, len(m.Attributes)+len(r.Attributes))
			for k, v := range m.Attributes {
				attrs[k] = v
			}
			for k, v := range r.Attributes {
				attrs[k] = v
			}
			m.Attributes = attrs
		}
		m.Tags = append(m.Tags[:len(m.Tags):len(m.Tags)], r.Tags...)
	}
	return out
}

// ListNamed returns the list called name.
func (s *Store) ListNamed(ctx context.Context, name string) (*List, error) {
	var l List
	if err := s.db.NewSelect().Model(&l).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, notFound(err, "list", name)
	}
	return &l, nil
}
