package testenv_test

import (
	"context"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestMigratedCopies: a migrated database has the schema without migrating,
// an empty one has none, and two copies of the template share nothing.
func TestMigratedCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := func(t *testing.T, dsn string) *store.Store {
		t.Helper()
		s, err := store.Open(ctx, dsn) // no Migrate: the copy must have the schema already
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	for _, db := range testenv.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			if _, err := open(t, db.DSN(t)).Setting(ctx, "k", func() string { return "x" }); err == nil {
				t.Error("an empty database has a settings table")
			}
			first, second := open(t, db.Migrated(t)), open(t, db.Migrated(t))
			for _, c := range []struct {
				s    *store.Store
				want string
			}{{first, "one"}, {second, "two"}, {first, "one"}} {
				got, err := c.s.Setting(ctx, "k", func() string { return c.want })
				if err != nil || got != c.want {
					t.Errorf("setting k: %q, %v; want %q (each copy its own)", got, err, c.want)
				}
			}
		})
	}
}
