package config

import (
	"fmt"
	"strconv"
	"time"
)

// Operations settings: how /metrics is guarded, how long a stopping process
// has to finish, and the database connection pool.

// DB pool defaults: what a process keeps open to PostgreSQL, and to a SQLite
// file (whose writers queue on one lock, so more connections only wait).
const (
	DefaultPGMaxConns     = 32
	DefaultSQLiteMaxConns = 8
)

// Pool is a process's database connection pool.
type Pool struct {
	// MaxConns is the most connections open at once; 0 means the
	// dialect's default (DefaultPGMaxConns, DefaultSQLiteMaxConns).
	MaxConns int // DEARFRIEND_DB_MAX_CONNS
	// MaxIdleConns is the most kept open while idle; 0 means MaxConns.
	MaxIdleConns int // DEARFRIEND_DB_MAX_IDLE_CONNS
	// ConnMaxLifetime closes a connection this long after it was opened
	// (0: never), so a pooler or a failover spreads new ones.
	ConnMaxLifetime time.Duration // DEARFRIEND_DB_CONN_MAX_LIFETIME
	// ConnMaxIdleTime closes a connection idle this long (0: never).
	ConnMaxIdleTime time.Duration // DEARFRIEND_DB_CONN_MAX_IDLE_TIME
}

// opsFromEnv reads the operations settings into c.
func (c *Config) opsFromEnv(get func(key, def string) string, num func(key string, def int) int) []error {
	var errList []error
	duration := func(key, def, example string) time.Duration {
		raw := get(key, def)
		d, err := time.ParseDuration(raw)
		if err != nil {
			errList = append(errList, fmt.Errorf("DEARFRIEND_%s must be a duration like %s, got %q", key, example, raw))
		}
		return d
	}
	c.MetricsToken = get("METRICS_TOKEN", "")
	// A bare number is seconds, as this setting once was.
	if raw := get("SHUTDOWN_TIMEOUT", "30s"); isDigits(raw) {
		secs, _ := strconv.Atoi(raw)
		c.ShutdownTimeout = time.Duration(secs) * time.Second
	} else {
		c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", "30s", "30s or 2m")
	}
	c.DB = Pool{
		MaxConns:        num("DB_MAX_CONNS", 0),
		MaxIdleConns:    num("DB_MAX_IDLE_CONNS", 0),
		ConnMaxLifetime: duration("DB_CONN_MAX_LIFETIME", "0s", "30m"),
		ConnMaxIdleTime: duration("DB_CONN_MAX_IDLE_TIME", "0s", "5m"),
	}
	return errList
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// validateOps checks the operations settings; the metrics token is never
// quoted back.
func (c Config) validateOps(bad func(format string, args ...any)) {
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("DEARFRIEND_METRICS_TOKEN must be at least 16 characters (Prometheus sends it as a bearer token)")
	}
	if c.ShutdownTimeout < time.Second || c.ShutdownTimeout > time.Hour {
		bad("DEARFRIEND_SHUTDOWN_TIMEOUT must be between 1s and 1h, got %s", c.ShutdownTimeout)
	}
	if c.DB.MaxConns < 0 || c.DB.MaxConns > 10000 {
		bad("DEARFRIEND_DB_MAX_CONNS must be between 1 and 10000 (or 0 for the default), got %d", c.DB.MaxConns)
	}
	if c.DB.MaxIdleConns < 0 || (c.DB.MaxConns > 0 && c.DB.MaxIdleConns > c.DB.MaxConns) {
		bad("DEARFRIEND_DB_MAX_IDLE_CONNS must be between 1 and DEARFRIEND_DB_MAX_CONNS (or 0 for as many), got %d", c.DB.MaxIdleConns)
	}
	if c.DB.ConnMaxLifetime < 0 || c.DB.ConnMaxIdleTime < 0 {
		bad("DEARFRIEND_DB_CONN_MAX_LIFETIME and DEARFRIEND_DB_CONN_MAX_IDLE_TIME must not be negative (0 keeps connections)")
	}
}
