// Command bench-segment measures the count of a three-condition segment
// (region in a set, opened in the last 90 days, not in a list) over -contacts
// contacts and -events events on PostgreSQL, and prints each run, the median
// and the plan. The data is generated in the database (INSERT ... SELECT
// generate_series) in a database of its own, dropped afterwards.
//
//	go run ./scripts/bench-segment -pg postgres://…/postgres [-contacts 1000000 -events 5000000 -runs 7]
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

func main() {
	pg := flag.String("pg", os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), "PostgreSQL admin URL (a database is created and dropped)")
	contacts := flag.Int("contacts", 1_000_000, "contacts")
	events := flag.Int("events", 5_000_000, "events (opens and clicks over the last year)")
	runs := flag.Int("runs", 7, "counts to time")
	keep := flag.Bool("keep", false, "keep the generated database and print its URL")
	reuse := flag.String("reuse", "", "URL of a database kept by -keep: time the count, generate nothing")
	flag.Parse()
	if *pg == "" {
		fmt.Fprintln(os.Stderr, "bench-segment: give -pg or set DEARFRIEND_TEST_DATABASE_URL (PostgreSQL only)")
		os.Exit(2)
	}
	if err := bench(context.Background(), *pg, *reuse, *keep, *contacts, *events, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-segment:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, admin, reuse string, keep bool, contacts, events, runs int) error {
	dsn := reuse
	if dsn == "" {
		var err error
		if dsn, err = benchdb.Create(admin, "dfbenchsegment"); err != nil {
			return err
		}
		if keep {
			fmt.Println("database kept:", dsn)
		} else {
			defer benchdb.Drop(admin, dsn)
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	if reuse == "" {
		if err := generate(ctx, db, contacts, events); err != nil {
			return err
		}
	}

	var listID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM lists WHERE name = 'donors'`).Scan(&listID); err != nil {
		return err
	}
	rules := json.RawMessage(fmt.Sprintf(`{"all": [
		{"field": "region", "op": "in", "value": ["R1", "R2", "R3"]},
		{"engagement": "opened", "within_days": 90},
		{"not": {"list": %d}}]}`, listID))
	cond, err := audience.Compile(rules, time.Now().UTC())
	if err != nil {
		return err
	}
	var times []time.Duration
	var n int64
	for i := range runs {
		t0 := time.Now()
		if n, err = st.CountWhere(ctx, cond); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		fmt.Printf("run %d: %d contacts in %v\n", i+1, n, times[i].Round(time.Millisecond))
	}
	slices.Sort(times)
	fmt.Printf("median: %v for a count of %d (region in 3 of 50, opened in 90 days, not in a list of %d)\n",
		times[len(times)/2].Round(time.Millisecond), n, (contacts+9)/10)
	plan, err := st.ExplainCountWhere(ctx, cond)
	if err != nil {
		return err
	}
	fmt.Println(strings.Join(plan, "\n"))
	return nil
}

// generate fills the database: 50 regions evenly; every tenth contact on the
// "donors" list; events spread over a year, three opens to one click, on
// pseudo-random contacts.
func generate(ctx context.Context, db *sql.DB, contacts, events int) error {
	start := time.Now()
	// Indexes are dropped during the load and built after it, which is
	// several times faster than maintaining them row by row.
	indexes, err := dropIndexes(ctx, db)
	if err != nil {
		return err
	}
	for _, q := range []string{
		`INSERT INTO contacts (email, email_key, first_name, region, status, created_at, updated_at)
		 SELECT 'c' || g || '@example.org', 'c' || g || '@example.org', 'C' || g, 'R' || (g % 50), 'subscribed', now(), now()
		 FROM generate_series(1, $1::int) g`,
		`INSERT INTO lists (name, created_at) VALUES ('donors', now())`,
		`INSERT INTO list_members (list_id, contact_id, status, created_at)
		 SELECT (SELECT id FROM lists WHERE name = 'donors'), g, 'subscribed', now() FROM generate_series(1, $1::int, 10) g`,
		`INSERT INTO events (kind, campaign_id, send_id, contact_id, created_at)
		 SELECT CASE WHEN g % 4 = 0 THEN 'click' ELSE 'open' END, 1 + g % 40, g,
		        1 + (g::bigint * 7919) % $1::int, now() - (g % 365) * interval '1 day' - (g % 86400) * interval '1 second'
		 FROM generate_series(1, $2::int) g`,
	} {
		args := []any{contacts}
		if strings.Contains(q, "$2") {
			args = append(args, events)
		}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("generate data: %w\n%s", err, q)
		}
	}
	for _, def := range indexes {
		if _, err := db.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("rebuild index: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	fmt.Printf("generated %d contacts and %d events in %v\n", contacts, events, time.Since(start).Round(time.Millisecond))
	return nil
}

// dropIndexes drops the secondary indexes of the tables the load fills and
// returns the statements that rebuild them.
func dropIndexes(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.tablename IN ('contacts', 'events', 'list_members') AND i.schemaname = current_schema()
		AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := db.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, err
		}
	}
	return defs, nil
}
