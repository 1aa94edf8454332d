package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestMigratePrintsMerges runs `dearfriend migrate` on a database whose
// contacts were stored before migration 0013, with case twins: it prints
// each merge, and a second run prints none.
func TestMigratePrintsMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "df.db")
	t.Setenv("DEARFRIEND_DATABASE_URL", path)
	testenv.Store(t, path).Close()
	db, err := sql.Open(sqliteshim.ShimName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Back to the schema before 0013, which let case twins in.
	now := time.Now().UTC()
	for _, stmt := range []string{
		"DROP INDEX contacts_email_key_unique",
		"DROP INDEX suppressions_email_key_unique",
		"DROP INDEX organization_signatures_email_key_unique",
		"DROP INDEX contacts_email_key_search",
		"CREATE INDEX contacts_email_search ON contacts (lower(email))",
		"ALTER TABLE contacts DROP COLUMN email_key",
		"ALTER TABLE suppressions DROP COLUMN email_key",
		"ALTER TABLE organization_signatures DROP COLUMN email_key",
		"DELETE FROM schema_migrations WHERE version = 13",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, e := range []string{"Supporter0999@Example.org", "supporter0999@example.org", "solo@example.org"} {
		if _, err := db.Exec("INSERT INTO contacts (email, created_at, updated_at) VALUES (?, ?, ?)", e, now, now); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for i, want := range []string{"merged contacts 2 into 1 (Supporter0999@Example.org)\n", ""} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"migrate"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i+1, code, stderr.String())
		}
		if stdout.String() != want || !strings.Contains(stderr.String(), "schema up to date") {
			t.Errorf("run %d: stdout %q, want %q; stderr %q", i+1, stdout.String(), want, stderr.String())
		}
	}
	st := testenv.Store(t, path)
	n, err := st.CountContacts(context.Background())
	if err != nil || n != 2 {
		t.Errorf("contacts = %d, %v; want 2", n, err)
	}
}
