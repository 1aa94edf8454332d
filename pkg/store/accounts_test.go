package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestTwoAdminsStepDownAtOnce has two admins each demote or disable the
// other at the same moment, many times over: one wins, the other is told
// there would be no admin left, and an admin always remains.
func TestTwoAdminsStepDownAtOnce(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		a, b := &store.User{Email: "a@example.org", Role: store.RoleAdmin, PasswordHash: "x"}, &store.User{Email: "b@example.org", Role: store.RoleAdmin, PasswordHash: "x"}
		for _, u := range []*store.User{a, b} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 10 {
			var wg sync.WaitGroup
			results := make([]error, 2)
			for i, id := range []int64{a.ID, b.ID} {
				wg.Go(func() {
					if round%2 == 0 {
						_, results[i] = s.SetUserRole(ctx, id, store.RoleOrganizer)
					} else {
						_, results[i] = s.SetUserDisabled(ctx, id, true, time.Now())
					}
				})
			}
			wg.Wait()
			refused := 0
			for _, err := range results {
				switch {
				case errs.CodeOf(err) == errs.Conflict:
					refused++
				case err != nil:
					t.Fatal(err)
				}
			}
			if refused != 1 {
				t.Fatalf("round %d: %d of the two changes refused, want 1", round, refused)
			}
			// Both admins again for the next round.
			for _, id := range []int64{a.ID, b.ID} {
				if _, err := s.SetUserDisabled(ctx, id, false, time.Now()); err != nil {
					t.Fatal(err)
				}
				if _, err := s.SetUserRole(ctx, id, store.RoleAdmin); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
