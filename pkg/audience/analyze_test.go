package audience_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestLargeImportAnalyzes: on PostgreSQL, an import of 10,000 contacts
// leaves the planner's statistics of contacts and list members fresh: a
// campaign sent at once would otherwise copy its audience with a plan made
// for empty tables. (Skipped without PostgreSQL: SQLite plans without them.)
func TestLargeImportAnalyzes(t *testing.T) {
	t.Parallel()
	dsn := testenv.MigratedPostgres(t)
	s := mustStore(t, dsn)
	const n = 10000
	var file strings.Builder
	file.WriteString("email\n")
	for i := range n {
		fmt.Fprintf(&file, "a%06d@example.org\n", i)
	}
	if imp := mustImport(t, s, request(mustList(t, s, "big"), file.String(), nil), 1000); imp.Imported != n {
		t.Fatalf("imported %d of %d", imp.Imported, n)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The statistics system publishes a backend's counts within a second
	// or so of its transaction; autovacuum's own runs are counted apart
	// (last_autoanalyze).
	deadline := time.Now().Add(10 * time.Second)
	for {
		var analyzed int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_user_tables
			WHERE relname IN ('contacts', 'list_members') AND last_analyze IS NOT NULL`).Scan(&analyzed); err != nil {
			t.Fatal(err)
		}
		if analyzed == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of contacts and list_members analyzed 10 s after importing %d contacts, want both", analyzed, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
