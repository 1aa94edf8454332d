package benchdb

import (
	"errors"
	"flag"
	"os"
)

// Flags are the -pg, -redis and -sqlite flags of a benchmark that boots the
// App on backends of its own.
type Flags struct {
	PG, Redis string
	SQLite    bool
}

// Register declares the flags on the default flag set.
func (f *Flags) Register() {
	flag.StringVar(&f.PG, "pg", os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), "PostgreSQL admin URL (a database is created and dropped per run)")
	flag.StringVar(&f.Redis, "redis", os.Getenv("DEARFRIEND_TEST_REDIS_URL"), "Redis URL (default: an in-process one)")
	flag.BoolVar(&f.SQLite, "sqlite", false, "use SQLite instead of PostgreSQL")
}

// Check says what is missing after flag.Parse.
func (f Flags) Check() error {
	if !f.SQLite && f.PG == "" {
		return errors.New("give -pg (or set DEARFRIEND_TEST_DATABASE_URL), or -sqlite")
	}
	return nil
}

// Name is the database the flags choose, for the report.
func (f Flags) Name() string {
	if f.SQLite {
		return "SQLite"
	}
	return "PostgreSQL"
}

// Backends is Backends for the database and Redis the flags choose.
func (f Flags) Backends(prefix string) (dsn, redis string, cleanup func(), err error) {
	pgAdmin := f.PG
	if f.SQLite {
		pgAdmin = ""
	}
	return Backends(pgAdmin, f.Redis, prefix)
}
