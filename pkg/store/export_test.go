package store

import "context"

// MigrateUpTo applies the migrations up to version, so a test can seed rows
// the way an older schema held them before the rest run.
func (s *Store) MigrateUpTo(ctx context.Context, version int) ([]Merge, error) {
	return s.migrate(ctx, version)
}

// Exec runs raw SQL, for tests that seed what the store's API would refuse.
func (s *Store) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.NewRaw(query, args...).Exec(ctx)
	return err
}

// Query runs raw SQL and scans its rows into dest.
func (s *Store) Query(ctx context.Context, dest any, query string, args ...any) error {
	return s.db.NewRaw(query, args...).Scan(ctx, dest)
}
