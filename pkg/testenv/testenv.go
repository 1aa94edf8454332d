// Package testenv gives tests their real backing services: SQLite always, and
// PostgreSQL and Redis when DEARFRIEND_TEST_DATABASE_URL and
// DEARFRIEND_TEST_REDIS_URL name them (scripts/test-services sets both when it
// finds them). Each test gets a database and a queue name of its own, removed
// when it ends, so tests run in parallel; a migrated database is a copy of a
// template migrated once (template.go). A variable that is set but unreachable fails the test: CI must
// not skip what it was told to cover. Only tests and the fault scripts under
// scripts/ import this package.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Database is one backing database a suite runs against.
type Database struct {
	Name string // "sqlite" or "postgres"
	DSN  func(tb testing.TB) string
	// Migrated is DSN with the schema in place: a copy of a template
	// migrated once, much faster than migrating (MigratedSQLite, MigratedPostgres).
	Migrated func(tb testing.TB) string
}

// Databases lists SQLite and, when configured, PostgreSQL.
func Databases() []Database {
	dbs := []Database{{Name: "sqlite", DSN: SQLite, Migrated: MigratedSQLite}}
	if os.Getenv("DEARFRIEND_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, Database{Name: "postgres", DSN: Postgres, Migrated: MigratedPostgres})
	}
	return dbs
}

// EachDatabase runs fn as a parallel subtest per database, on a database
// already migrated (Database.Migrated): opening it with Store migrates nothing.
func EachDatabase(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	each(t, fn, func(db Database) func(testing.TB) string { return db.Migrated })
}

// EachEmptyDatabase is EachDatabase on an empty database, for tests of the
// migrations themselves.
func EachEmptyDatabase(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	each(t, fn, func(db Database) func(testing.TB) string { return db.DSN })
}

func each(t *testing.T, fn func(t *testing.T, dsn string), dsn func(Database) func(testing.TB) string) {
	t.Helper()
	if os.Getenv("DEARFRIEND_TEST_DATABASE_URL") == "" {
		t.Log("DEARFRIEND_TEST_DATABASE_URL unset: PostgreSQL run skipped (make test sets it when PostgreSQL is reachable)")
	}
	for _, db := range Databases() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel() // each has a database of its own
			fn(t, dsn(db)(t))
		})
	}
}

// SQLite returns the path of a fresh SQLite file in the test's temp dir.
func SQLite(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "test.db")
}

// Postgres creates a database of its own for the test and drops it afterwards.
func Postgres(tb testing.TB) string {
	tb.Helper()
	return postgres(tb, "")
}

// MigratedPostgres is Postgres with the schema in place: a copy of the
// template database of the current migrations (see pgTemplate).
func MigratedPostgres(tb testing.TB) string {
	tb.Helper()
	tpl, err := pgTemplate(adminURL(tb))
	if err != nil {
		tb.Fatalf("PostgreSQL template database: %v", err)
	}
	return postgres(tb, tpl)
}

func adminURL(tb testing.TB) string {
	admin := os.Getenv("DEARFRIEND_TEST_DATABASE_URL")
	if admin == "" {
		tb.Skip("DEARFRIEND_TEST_DATABASE_URL unset")
	}
	return admin
}

// postgres creates the test's database, a copy of template unless it is "".
func postgres(tb testing.TB, template string) string {
	tb.Helper()
	admin := adminURL(tb)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("open %s: %v", admin, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "dftest_" + Random(6)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		tb.Fatalf("DEARFRIEND_TEST_DATABASE_URL is set but PostgreSQL refused %s: %v", create, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatalf("DEARFRIEND_TEST_DATABASE_URL: %v", err)
	}
	return dsn
}

// withDatabase returns the URL admin naming database name.
func withDatabase(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// RedisURL returns the Redis of DEARFRIEND_TEST_REDIS_URL, or "" when unset.
// Tests share it by using a queue name of their own (see Queue).
func RedisURL() string { return os.Getenv("DEARFRIEND_TEST_REDIS_URL") }

// Queue returns a queue name unique to this test run.
func Queue() string { return "dftest_" + Random(6) }

// Random returns n random bytes, hex-encoded.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DropQueue removes every key of an asynq queue from the Redis at redisURL and
// its entry in asynq's queue set. Call it after the App using it has stopped.
func DropQueue(tb testing.TB, redisURL, queue string) {
	tb.Helper()
	if err := DropQueueKeys(redisURL, queue); err != nil {
		tb.Error(err)
	}
}

// DropQueueKeys is DropQueue for programs that are not tests (scripts/).
func DropQueueKeys(redisURL, queue string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("redis URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One script, so the keys go at one instant as they would when Redis
	// loses its data: a key-by-key scan raced the running sweep, which could
	// enqueue a batch between two deletes and keep its task id while losing
	// its place in the pending list.
	if err := dropScript.Run(ctx, rdb, nil, "asynq:{"+queue+"}:*", queue).Err(); err != nil {
		return fmt.Errorf("clean queue %s: %w", queue, err)
	}
	return nil
}

var dropScript = redis.NewScript(`
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
redis.call('SREM', 'asynq:queues', ARGV[2])
return #keys
`)

// Store opens the database at dsn, migrates it and closes it when the test ends.
func Store(tb testing.TB, dsn string, opts ...store.OpenOption) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}
