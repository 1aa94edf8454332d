package store

import (
	"context"
	"fmt"
	"time"
)

// Now reads the database's clock. Leases are compared on it (a worker's
// claim, another worker's check, the sweep's search for expired ones), so a
// process whose own clock is off neither frees rows early nor holds them
// long: PostgreSQL is the one clock every process shares. SQLite runs in
// the process, whose clock is its.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	if s.dialect != "pg" {
		return time.Now(), nil
	}
	var t time.Time
	if err := s.db.NewRaw("SELECT clock_timestamp()").Scan(ctx, &t); err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return t, nil
}
