package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func sendIDs(rs []store.Recipient) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.SendID
	}
	return ids
}

// TestClaimRecipients: overlapping claims never share a row; an outcome or a
// release frees a row at once, an expired lease frees it when it runs out, a
// renewal keeps it, and the rows of an expired lease are found as orphans.
func TestClaimRecipients(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, contactNames("l", 12)...)
		all := sendIDs(mustPending(t, s, c.ID))
		lo, hi := all[0], all[len(all)-1]
		now := time.Now()
		const lease = 30 * time.Second

		// Eight claimers at once over the whole range, two rows each: every
		// row is claimed exactly once.
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				cl, err := s.ClaimRecipients(ctx, c.ID, lo, hi, 2, lease, now)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range cl.Recipients {
					claimed[r.SendID]++
				}
			})
		}
		wg.Wait()
		if len(claimed) != 12 {
			t.Fatalf("claimed %d distinct rows, want 12 (%v)", len(claimed), claimed)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("send %d claimed %d times", id, n)
			}
		}
		if cl, err := s.ClaimRecipients(ctx, c.ID, lo, hi, 100, lease, now); err != nil || len(cl.Recipients) != 0 {
			t.Fatalf("claim while all are leased: %v, %v; want none", cl, err)
		}

		// An outcome clears the lease: a deferred row can be claimed again.
		if err := s.RecordOutcome(ctx, all[0], store.SendDeferred, "451 later", true); err != nil {
			t.Fatal(err)
		}
		cl, err := s.ClaimRecipients(ctx, c.ID, lo, hi, 100, lease, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[:1], sendIDs(cl.Recipients)); diff != "" {
			t.Errorf("claim after a deferral (-want +got):\n%s", diff)
		}
		if cl.Recipients[0].Attempts != 1 || cl.Recipients[0].Email == "" {
			t.Errorf("claimed recipient %+v, want its contact and 1 attempt", cl.Recipients[0])
		}
		if err := s.ReleaseLeases(ctx, cl, all[:1]); err != nil {
			t.Fatal(err)
		}
		if again, err := s.ClaimRecipients(ctx, c.ID, lo, hi, 100, lease, now); err != nil || len(again.Recipients) != 1 {
			t.Fatalf("claim after a release: %v, %v; want the released row", again, err)
		}

		// When the leases run out, the rows are orphans and may be claimed.
		later := now.Add(lease + time.Second)
		orphans, err := s.OrphanedRanges(ctx, c.ID, 4, later, 100)
		if err != nil {
			t.Fatal(err)
		}
		covered := 0
		for _, o := range orphans {
			if o.To%4 != 0 || o.To-o.From != 3 || o.Since.IsZero() {
				t.Errorf("orphan %+v is not an aligned range with a lease time", o)
			}
			for _, id := range all {
				if id >= o.From && id <= o.To {
					covered++
				}
			}
		}
		if covered != len(all) {
			t.Errorf("orphaned ranges %+v cover %d rows, want %d", orphans, covered, len(all))
		}
		if got, err := s.OrphanedRanges(ctx, c.ID, 4, now, 100); err != nil || len(got) != 0 {
			t.Errorf("orphans before the leases end: %v, %v; want none", got, err)
		}
		taken, err := s.ClaimRecipients(ctx, c.ID, lo, hi, 3, lease, later)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[:3], sendIDs(taken.Recipients)); diff != "" {
			t.Errorf("claim after the leases ran out, in id order (-want +got):\n%s", diff)
		}
		// The first holder lost those rows: its release leaves the new claim alone.
		if err := s.ReleaseLeases(ctx, &store.Claim{Until: cl.Until}, all[:3]); err != nil {
			t.Fatal(err)
		}
		if again, err := s.ClaimRecipients(ctx, c.ID, lo, all[2], 100, lease, later); err != nil || len(again.Recipients) != 0 {
			t.Errorf("claim rows held by the new claim after a stale release: %v, %v; want none", again, err)
		}
		if got, err := s.OrphanedRanges(ctx, c.ID, 4, later.Add(lease+time.Second), 100); err != nil || len(got) == 0 || got[0].From != (all[0]-1)/4*4+1 {
			t.Errorf("orphans after the new lease ran out: %v, %v", got, err)
		}
	})
}

// TestSchedule: a draft is scheduled, comes due, can be taken back; only a
// draft or scheduled campaign starts, and only once.
func TestSchedule(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		started, _ := mustStarted(t, s, nil, "s1-"+testenv.Random(4))
		if err := s.ScheduleCampaign(ctx, started.ID, time.Now().Add(time.Hour)); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("schedule a sending campaign: %v, want a conflict", err)
		}
		m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "later", MessageID: m.ID, Audience: started.Audience}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Hour)
		if err := s.ScheduleCampaign(ctx, c.ID, at); err != nil {
			t.Fatal(err)
		}
		if due, err := s.DueCampaigns(ctx, at.Add(-time.Minute)); err != nil || len(due) != 0 {
			t.Errorf("due before the time: %v, %v", due, err)
		}
		if due, err := s.DueCampaigns(ctx, at.Add(time.Second)); err != nil || !cmp.Equal(due, []int64{c.ID}) {
			t.Errorf("due after the time: %v, %v; want [%d]", due, err, c.ID)
		}
		if err := s.UnscheduleCampaign(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetCampaign(ctx, c.ID); err != nil || got.Status != store.CampaignDraft || got.SendAt != nil {
			t.Errorf("after unschedule: %+v, %v; want a draft without send_at", got, err)
		}
		if err := s.UnscheduleCampaign(ctx, c.ID); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("unschedule a draft: %v, want a conflict", err)
		}
		if err := s.ScheduleCampaign(ctx, c.ID, at); err != nil {
			t.Fatal(err)
		}
		// Two dispatchers start it at once: one wins, the other is told it is taken.
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Go(func() { _, results[i] = s.StartCampaign(ctx, c.ID) })
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case errs.CodeOf(err) == errs.Conflict:
				conflicts++
			default:
				t.Errorf("start: %v", err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Errorf("two starts: %d started, %d conflicts; want 1 and 1", ok, conflicts)
		}
	})
}

// TestClaimReadsInOneStatement: a claim returns its rows with their contacts'
// data in one statement on PostgreSQL, two on SQLite (no UPDATE in a CTE).
func TestClaimReadsInOneStatement(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, "ada", "bob", "cy")
		want := map[string]int64{"pg": 1, "sqlite": 2}[s.Dialect()]
		stmts := s.Statements()
		claim, err := s.ClaimRecipients(ctx, c.ID, 0, 1<<62, 2, time.Minute, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Statements() - stmts; got != want {
			t.Errorf("a claim took %d statements on %s; want %d", got, s.Dialect(), want)
		}
		if d := cmp.Diff([]string{"ada", "bob"}, firstNames(claim.Recipients)); d != "" {
			t.Errorf("claimed (-want +got):\n%s", d)
		}
		for _, r := range claim.Recipients {
			if r.Email != r.FirstName+"@example.org" || r.ContactStatus != store.ContactSubscribed || r.Suppressed {
				t.Errorf("claimed row %+v lacks its contact's data", r)
			}
		}
	})
}
