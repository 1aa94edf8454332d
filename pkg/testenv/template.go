package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Migrating a database takes about a second on PostgreSQL, and most tests
// want one: they get a copy of a template migrated once per set of
// migrations instead. The templates outlive the test run (a cache keyed by
// store.MigrationsDigest, so a changed migration makes a new one): on
// PostgreSQL dftest_tpl_<digest>, for SQLite a file in the temp directory.
// Either may be removed whenever no test runs.

var templates struct {
	sync.Mutex
	pg     map[string]string // admin URL → template database name
	sqlite string            // path of the migrated SQLite file
}

// pgTemplate returns the name of the migrated template database on the
// PostgreSQL at admin, making it when no test binary has yet.
func pgTemplate(admin string) (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if name, ok := templates.pg[admin]; ok {
		return name, nil
	}
	name := "dftest_tpl_" + store.MigrationsDigest()
	if err := makePGTemplate(admin, name); err != nil {
		return "", err
	}
	if templates.pg == nil {
		templates.pg = map[string]string{}
	}
	templates.pg[admin] = name
	return name, nil
}

// makePGTemplate makes the template database name unless it exists. Other
// test binaries may be making it at the same time: each migrates a database
// of its own and renames it to name, and the one that finds name taken
// drops its own, so the template is never seen half migrated.
func makePGTemplate(admin, name string) error {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	draft := "dftest_tplnew_" + Random(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+draft); err != nil {
		return err
	}
	dsn, err := withDatabase(admin, draft)
	if err != nil {
		return err
	}
	if err := migrate(ctx, dsn); err != nil {
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+draft+" WITH (FORCE)")
		return err
	}
	// A closed connection's server process may linger for a moment, and a
	// database in use cannot be renamed: retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = db.ExecContext(ctx, "ALTER DATABASE "+draft+" RENAME TO "+name)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &pgErr) && pgErr.Code == "42P04": // duplicate_database: another binary was quicker
			_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+draft+" WITH (FORCE)")
			return err
		case errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 50: // object_in_use
			time.Sleep(100 * time.Millisecond)
		default:
			_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+draft+" WITH (FORCE)")
			return fmt.Errorf("rename %s to %s: %w", draft, name, err)
		}
	}
}

// migrate opens the database at dsn, migrates it and closes it.
func migrate(ctx context.Context, dsn string) error {
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// MigratedSQLite is SQLite with the schema in place: a copy of a migrated
// file in the test's temp dir.
func MigratedSQLite(tb testing.TB) string {
	tb.Helper()
	tpl, err := sqliteTemplate()
	if err != nil {
		tb.Fatalf("SQLite template database: %v", err)
	}
	path := SQLite(tb)
	if err := copyFile(tpl, path); err != nil {
		tb.Fatalf("copy the SQLite template: %v", err)
	}
	return path
}

// sqliteTemplate returns the path of the migrated SQLite file, making it
// when no test binary has yet. Closing the store checkpoints its WAL, so
// the one file holds the whole database.
func sqliteTemplate() (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if templates.sqlite != "" {
		return templates.sqlite, nil
	}
	path := filepath.Join(os.TempDir(), "dftest_tpl_"+store.MigrationsDigest()+".db")
	if _, err := os.Stat(path); err != nil {
		dir, err := os.MkdirTemp("", "dftest_tplnew_")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		draft := filepath.Join(dir, "template.db")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := migrate(ctx, draft); err != nil {
			return "", err
		}
		// Renamed into place whole, so another binary never copies half a file.
		if err := os.Rename(draft, path); err != nil {
			return "", err
		}
	}
	templates.sqlite = path
	return path, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
