package app_test

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestThroughPgBouncer runs the App on PostgreSQL through PgBouncer in
// transaction mode, three server connections for the App's 32: an import
// (COPY into a temporary table), a 1,000-recipient campaign sent by eight
// senders with group-committed outcomes and leases, a sign-in. Each
// statement may reach another server connection than the one before, so
// any session state (a named prepared statement, a lock or setting held
// across transactions) breaks it. First it shows the bouncer does break
// pgx's default, statements prepared under a name.
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	if os.Getenv("DEARFRIEND_TEST_DATABASE_URL") == "" || testenv.RedisURL() == "" {
		t.Skip("DEARFRIEND_TEST_DATABASE_URL or DEARFRIEND_TEST_REDIS_URL unset: PgBouncer runs in front of PostgreSQL")
	}
	direct := testenv.MigratedPostgres(t)
	namedStatementsBreak(t, testenv.PgBouncer(t, direct, 1))

	bounced := testenv.PgBouncer(t, direct, 3)
	h := startOpts(t, backend{name: "pgbouncer", dsn: func(testing.TB) string { return bounced }, redisURL: testenv.RedisURL()},
		harnessOpts{}, map[string]string{"DEARFRIEND_WORKERS": "8"})
	camp, emails := h.mustDraftCampaign(1000)
	if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	h.waitFinished(camp)
	h.mu.Lock()
	for _, e := range emails {
		if h.byRcpt[e] != 1 {
			t.Errorf("%s got %d messages, want 1", e, h.byRcpt[e])
		}
	}
	h.mu.Unlock()
	const password = "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, password); err != nil {
		t.Fatal(err)
	}
	c := signedInClient(t, h.app.URL(), "maya@example.org", password)
	if p := getPage(t, c, h.app.URL()+"/admin/campaigns"); p.status != http.StatusOK {
		t.Errorf("campaigns page through the bouncer: %d", p.status)
	}
}

// namedStatementsBreak checks that bounced (one server connection) is in
// transaction mode: two client connections preparing the same statement
// under pgx's cache name meet on the server connection, and the second is
// refused.
func namedStatementsBreak(t *testing.T, bounced string) {
	t.Helper()
	db, err := sql.Open("pgx", bounced+"&default_query_exec_mode=cache_statement")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var errs []string
	for range 2 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var one int
		if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "prepared statement") {
		t.Fatalf("named statements through PgBouncer in transaction mode: errors %q, want the second refused", errs)
	}
}
