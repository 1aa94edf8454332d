// Package store is the only package that imports bun: it owns the schema
// (embedded, numbered migrations for PostgreSQL and SQLite), the models and
// every query. Other packages call its methods with a context first and get
// ErrNotFound or a domain error back; none of them sees SQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/errs"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errs.New(errs.NotFound, "not found")

// Store is the database.
type Store struct {
	db       *bun.DB
	dialect  string          // "pg" or "sqlite"
	segments SegmentCompiler // compiles saved segments; see UseSegmentCompiler
	// statements counts the SQL statements run (Statements).
	statements *statementCounter
}

// Open connects to dsn: a postgres:// URL, or else a SQLite file path (its
// folder is created). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts ...OpenOption) (*Store, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	var s Store
	if config.IsPostgres(dsn) {
		sqldb, err := openSQL("pgx", pgDSN(dsn), o)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sizePool(sqldb, o.pool, config.DefaultPGMaxConns)
		s = Store{db: bun.NewDB(sqldb, pgdialect.New()), dialect: "pg"}
	} else {
		path := strings.TrimPrefix(dsn, "sqlite:")
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		// WAL lets readers run beside the writer; busy_timeout and an immediate
		// transaction lock make concurrent writers wait instead of failing with
		// "database is locked".
		q := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
		sqldb, err := openSQL(sqliteshim.ShimName, "file:"+path+q, o)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		sizePool(sqldb, o.pool, config.DefaultSQLiteMaxConns)
		s = Store{db: bun.NewDB(sqldb, sqlitedialect.New()), dialect: "sqlite"}
	}
	s.statements = &statementCounter{}
	s.db = s.db.WithQueryHook(s.statements)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to database %s: %w", config.Redact(dsn), err)
	}
	return &s, nil
}

// openSQL opens dsn with the registered driver, its connections wrapped
// when a fault is set (WithFault).
func openSQL(driverName, dsn string, o openOptions) (*sql.DB, error) {
	if o.fault == nil {
		return sql.Open(driverName, dsn)
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := db.Driver()
	db.Close()
	return sql.OpenDB(&faultConnector{drv: drv, dsn: dsn, fault: o.fault}), nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Dialect is "pg" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// notFound maps sql.ErrNoRows to ErrNotFound naming what was missing.
func notFound(err error, what string, id any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &errs.Error{Code: errs.NotFound, Message: fmt.Sprintf("%s %v not found", what, id), Err: ErrNotFound}
	}
	return err
}

// isUniqueViolation reports whether err is a unique-constraint failure in either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// Setting returns the value kept under key, creating it with gen() the first time.
// Concurrent callers all get the first value stored.
func (s *Store) Setting(ctx context.Context, key string, gen func() string) (string, error) {
	if _, err := s.db.NewInsert().Model(&Setting{Key: key, Value: gen()}).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return "", fmt.Errorf("store setting %s: %w", key, err)
	}
	var st Setting
	if err := s.db.NewSelect().Model(&st).Where("key = ?", key).Scan(ctx); err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return st.Value, nil
}
