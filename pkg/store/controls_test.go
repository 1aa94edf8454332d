package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// dispatchAll takes every batch NextDispatch gives until it says none is left.
func dispatchAll(tb testing.TB, s *store.Store, campaignID int64, size int) [][2]int64 {
	tb.Helper()
	var got [][2]int64
	for range 1000 {
		lo, hi, ok, err := s.NextDispatch(context.Background(), campaignID, size)
		if err != nil {
			tb.Fatal(err)
		}
		if !ok {
			return got
		}
		got = append(got, [2]int64{lo, hi})
	}
	tb.Fatal("NextDispatch never ends")
	return nil
}

// TestNextDispatch: batches are aligned ranges that cover every waiting row
// once, skip ranges with nothing waiting, and have the same bounds after a
// rewind (so their task ids refuse a second enqueue).
func TestNextDispatch(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, contactNames("d", 10)...)
		rows := mustPending(t, s, c.ID)
		const size = 4
		first := dispatchAll(t, s, c.ID, size)
		covered := map[int64]int{}
		for i, r := range first {
			if (r[1])%size != 0 || r[1]-r[0] >= size || (i > 0 && r[0] <= first[i-1][1]) {
				t.Errorf("batch %v is not an aligned range after the one before", r)
			}
			for _, row := range rows {
				if row.SendID >= r[0] && row.SendID <= r[1] {
					covered[row.SendID]++
				}
			}
		}
		for _, row := range rows {
			if covered[row.SendID] != 1 {
				t.Errorf("send %d is in %d batches, want 1", row.SendID, covered[row.SendID])
			}
		}
		if err := s.RewindDispatch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, dispatchAll(t, s, c.ID, size)); diff != "" {
			t.Errorf("batches after a rewind (-want +got):\n%s", diff)
		}
		// Everything in the first batch sent: a rewind starts at the second.
		for _, row := range rows {
			if row.SendID <= first[0][1] {
				if err := s.RecordOutcome(ctx, row.SendID, store.SendSent, "250 ok", true); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.RewindDispatch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first[1:], dispatchAll(t, s, c.ID, size)); diff != "" {
			t.Errorf("batches once the first was sent (-want +got):\n%s", diff)
		}
	})
}

// TestNextDispatchConcurrent: workers asking for batches at once, each on
// its own connection, get every range once between them.
func TestNextDispatchConcurrent(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		c, _ := mustStarted(t, s, nil, contactNames("cd", 60)...)
		rows := mustPending(t, s, c.ID)
		const size, workers = 2, 6
		got := make([][][2]int64, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					lo, hi, ok, err := s.NextDispatch(context.Background(), c.ID, size)
					if err != nil {
						t.Error(err)
						return
					} else if !ok {
						return
					}
					got[i] = append(got[i], [2]int64{lo, hi})
				}
			}()
		}
		wg.Wait()
		seen := map[[2]int64]int{}
		for _, g := range got {
			for _, r := range g {
				seen[r]++
			}
		}
		for r, n := range seen {
			if n != 1 {
				t.Errorf("batch %v handed out %d times, want once", r, n)
			}
		}
		for _, row := range rows {
			lo := (row.SendID-1)/size*size + 1
			if seen[[2]int64{lo, lo + size - 1}] != 1 {
				t.Errorf("send %d: its batch %d-%d handed out %d times, want once", row.SendID, lo, lo+size-1, seen[[2]int64{lo, lo + size - 1}])
			}
		}
	})
}

// TestCampaignControls walks the legal and illegal status changes and the
// progress they leave.
func TestCampaignControls(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, "c1-"+testenv.Random(4), "c2-"+testenv.Random(4), "c3-"+testenv.Random(4))
		rows := mustPending(t, s, c.ID)
		if err := s.RecordOutcome(ctx, rows[0].SendID, store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
		cancel := func(ctx context.Context, id int64) error { _, err := s.CancelCampaign(ctx, id); return err }
		steps := []struct {
			name string
			do   func(context.Context, int64) error
			id   int64
			want errs.Code // "" for success
			then string
		}{
			{"resume a sending campaign", s.ResumeCampaign, c.ID, errs.Conflict, store.CampaignSending},
			{"pause", s.PauseCampaign, c.ID, "", store.CampaignPaused},
			{"pause twice", s.PauseCampaign, c.ID, errs.Conflict, store.CampaignPaused},
			{"resume", s.ResumeCampaign, c.ID, "", store.CampaignSending},
			{"pause again", s.PauseCampaign, c.ID, "", store.CampaignPaused},
			{"cancel a paused campaign", cancel, c.ID, "", store.CampaignCancelled},
			{"resume a cancelled campaign", s.ResumeCampaign, c.ID, errs.Conflict, store.CampaignCancelled},
			{"cancel twice", cancel, c.ID, errs.Conflict, store.CampaignCancelled},
			{"pause a campaign that does not exist", s.PauseCampaign, c.ID + 1000, errs.NotFound, ""},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				err := st.do(ctx, st.id)
				if got := errs.CodeOf(err); (st.want == "" && err != nil) || (st.want != "" && got != st.want) {
					t.Fatalf("err = %v (code %q), want code %q", err, got, st.want)
				}
				if st.then == "" {
					return
				}
				if got, err := s.CampaignStatus(ctx, st.id); err != nil || got != st.then {
					t.Errorf("status = %q, %v; want %q", got, err, st.then)
				}
			})
		}
		p, err := s.CampaignProgress(ctx, c.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Progress{Status: store.CampaignCancelled, Total: 3, Sent: 1, Skipped: 2, Rate: 1.0 / 60, WindowSecs: 60}
		if diff := cmp.Diff(want, *p); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
	})
}

// TestNextDispatchNeverShort: callers asking at the same moment each get a
// batch while waiting rows remain; none is told there is no next batch
// because another moved the cursor first (a batch chain that ends early
// leaves its worker idle while the campaign still has rows).
func TestNextDispatchNeverShort(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		c, _ := mustStarted(t, s, nil, contactNames("ns", 200)...)
		const size, callers, rounds = 2, 6, 15 // 90 calls, 100 ranges
		seen := map[[2]int64]bool{}
		for round := range rounds {
			var mu sync.Mutex
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					<-start
					lo, hi, ok, err := s.NextDispatch(context.Background(), c.ID, size)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Error(err)
					case !ok:
						t.Errorf("round %d: no next batch, with %d of 100 ranges handed out", round, len(seen))
					case seen[[2]int64{lo, hi}]:
						t.Errorf("round %d: batch %d-%d handed out twice", round, lo, hi)
					default:
						seen[[2]int64{lo, hi}] = true
					}
				})
			}
			close(start)
			wg.Wait()
		}
	})
}

// TestDispatchDoesNotMakeOutcomesAsync: NextDispatch's commit does not wait
// for the disk, and that is its own transaction's setting only. Set for the
// session, every later outcome write on the connection would be acknowledged
// before it was durable, and a crash could lose sends the ledger said were
// written.
func TestDispatchDoesNotMakeOutcomesAsync(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := testenv.Store(t, dsn, store.WithPool(config.Pool{MaxConns: 1})) // one connection: the SHOW follows the dispatch on it
		if s.Dialect() != "pg" {
			t.Skip("synchronous_commit is PostgreSQL's")
		}
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, "sc-"+testenv.Random(4))
		show := func() string {
			var v []string
			if err := s.Query(ctx, &v, "SHOW synchronous_commit"); err != nil || len(v) != 1 {
				t.Fatalf("SHOW synchronous_commit: %v, %v", v, err)
			}
			return v[0]
		}
		before := show()
		if before == "off" {
			t.Skip("the server commits asynchronously anyway")
		}
		if _, _, ok, err := s.NextDispatch(ctx, c.ID, 10); err != nil || !ok {
			t.Fatalf("NextDispatch: %v, %v; want a batch", ok, err)
		}
		if after := show(); after != before {
			t.Errorf("synchronous_commit after a dispatch is %q, was %q: the connection's later writes would not wait for the disk", after, before)
		}
	})
}

// TestRewindStartsAtTheFirstUnfinishedRow: a rewind takes dispatch back to
// the first row still to send, never past one: not past rows sent in
// between, and not past rows that wait again after a resend of unknown
// outcomes, which come below where the last rewind started.
func TestRewindStartsAtTheFirstUnfinishedRow(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, contactNames("rw", 6)...)
		ids := sendIDs(mustPending(t, s, c.ID))
		next := func(step string) int64 {
			t.Helper()
			if err := s.RewindDispatch(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			lo, _, ok, err := s.NextDispatch(ctx, c.ID, 1)
			if err != nil || !ok {
				t.Fatalf("%s: NextDispatch after a rewind: %v, %v; want a batch", step, ok, err)
			}
			return lo
		}
		if got := next("nothing sent"); got != ids[0] {
			t.Errorf("nothing sent: the rewind's first batch starts at %d, want %d", got, ids[0])
		}
		// Two rows with no reply, three sent: the first row to send is the last.
		for i, id := range ids[:5] {
			status := store.SendSent
			if i < 2 {
				status = store.SendUnknown
			}
			if err := s.RecordOutcome(ctx, id, status, "", true); err != nil {
				t.Fatal(err)
			}
		}
		if got := next("five answered"); got != ids[5] {
			t.Errorf("five answered: the rewind's first batch starts at %d, want %d", got, ids[5])
		}
		if got := next("again"); got != ids[5] {
			t.Errorf("a second rewind starts at %d, want %d", got, ids[5])
		}
		if n, err := s.ResendUnknown(ctx, c.ID); err != nil || n != 2 {
			t.Fatalf("ResendUnknown: %d, %v; want 2", n, err)
		}
		if got := next("unknown sent again"); got != ids[0] {
			t.Errorf("after a resend of the unknown rows the rewind's first batch starts at %d, want %d (they wait again)", got, ids[0])
		}
	})
}
