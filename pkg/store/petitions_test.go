package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func mustPetition(tb testing.TB, s *store.Store, slug string) *store.Petition {
	tb.Helper()
	p := &store.Petition{Slug: slug, Title: "Save the river", Target: "The Governor", Goal: 100, Open: true}
	if err := s.CreatePetition(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestSignConcurrent checks that counting is exact under concurrency: 200
// people signing at once give 200, and one person signing 20 times at once
// gives one signature, of which exactly one call reports it new.
func TestSignConcurrent(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		p := mustPetition(t, s, "river")
		if err := s.CreatePetition(ctx, &store.Petition{Slug: "river", Title: "again"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second slug: %v, want a conflict", err)
		}
		cs := make([]store.Contact, 200)
		for i := range cs {
			cs[i].Email = fmt.Sprintf("s%d@example.org", i)
		}
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListContacts(ctx, 0, 500)
		if err != nil || len(all) != 200 {
			t.Fatalf("contacts %d, %v", len(all), err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 220)
		for _, c := range all {
			wg.Go(func() {
				if _, err := s.Sign(ctx, p.ID, c.ID, store.Attribution{}); err != nil {
					errc <- err
				}
			})
		}
		var mu sync.Mutex
		news := 0
		for range 20 {
			wg.Go(func() {
				isNew, err := s.Sign(ctx, p.ID, all[0].ID, store.Attribution{Comment: "again"})
				if err != nil {
					errc <- err
					return
				}
				if isNew {
					mu.Lock()
					news++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		n, err := s.CountSignatures(ctx, p.ID)
		if err != nil || n != 200 {
			t.Fatalf("count %d, %v; want 200", n, err)
		}
		// all[0] signed 21 times in all: only one of them, in either group, was new.
		if news > 1 {
			t.Errorf("%d repeated signatures reported new, want at most 1", news)
		}
	})
}

// TestUpsertSigner checks that signing makes nobody mailable without the opt-in.
func TestUpsertSigner(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		if err := s.CreateContact(ctx, &store.Contact{Email: "gone@example.org", Status: store.ContactUnsubscribed}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateContact(ctx, &store.Contact{Email: "back@example.org", Status: store.ContactUnsubscribed}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			in   store.Signer
			want string
		}{
			{store.Signer{Email: "new@example.org", FirstName: "N"}, store.ContactUnsubscribed},
			{store.Signer{Email: "newyes@example.org", FirstName: "Y", OptIn: true}, store.ContactSubscribed},
			{store.Signer{Email: "gone@example.org", FirstName: "G"}, store.ContactUnsubscribed},
			{store.Signer{Email: "back@example.org", FirstName: "B", OptIn: true}, store.ContactSubscribed},
		} {
			t.Run(tc.in.Email, func(t *testing.T) {
				c, err := s.UpsertSigner(ctx, tc.in)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{tc.want, tc.in.FirstName}, []string{c.Status, c.FirstName}); diff != "" {
					t.Errorf("status, first name (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// BenchmarkSign measures signatures per second, each by another contact,
// from parallel callers; the count must equal the signatures made.
func BenchmarkSign(b *testing.B) {
	for _, db := range testenv.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			s := mustOpen(b, db.DSN(b))
			ctx := context.Background()
			p := mustPetition(b, s, "bench")
			cs := make([]store.Contact, b.N)
			for i := range cs {
				cs[i].Email = fmt.Sprintf("b%d@example.org", i)
			}
			for lo := 0; lo < len(cs); lo += 1000 {
				if _, err := s.InsertContacts(ctx, cs[lo:min(lo+1000, len(cs))]); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					if _, err := s.Sign(ctx, p.ID, cs[i].ID, store.Attribution{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if n, err := s.CountSignatures(ctx, p.ID); err != nil || n != int64(b.N) {
				b.Fatalf("count %d, %v; want %d", n, err, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signatures/s")
		})
	}
}
