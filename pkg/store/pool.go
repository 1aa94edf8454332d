package store

import (
	"cmp"
	"database/sql"
	"net/url"

	"github.com/dearfriend/dearfriend/pkg/config"
)

// WithPool sizes the connection pool (DEARFRIEND_DB_*); a zero field keeps
// its default (config.Pool).
func WithPool(p config.Pool) OpenOption { return func(o *openOptions) { o.pool = p } }

// sizePool applies p to db, with def connections when p names none.
func sizePool(db *sql.DB, p config.Pool, def int) {
	most := cmp.Or(p.MaxConns, def)
	db.SetMaxOpenConns(most)
	db.SetMaxIdleConns(cmp.Or(p.MaxIdleConns, most))
	db.SetConnMaxLifetime(p.ConnMaxLifetime)
	db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
}

// pgDSN makes pgx send each statement unnamed (Parse, Bind, Execute and
// Sync in one round trip) instead of preparing and caching it under a name
// on the connection: a named statement is session state, which PgBouncer in
// transaction mode does not keep (the next statement may reach another
// server connection: "prepared statement stmtcache_… does not exist"). bun
// writes its arguments into the SQL, so nearly every statement's text is new
// and a cache would hold little but cost a round trip per statement. A URL
// that sets default_query_exec_mode itself keeps it.
func pgDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx reports it
	}
	q := u.Query()
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "exec")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
