package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func mustOpen(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	return testenv.Store(tb, dsn)
}

func TestMigrateTwiceIsANoop(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestSettingIsKept(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		first, err := s.Setting(ctx, "api_token", func() string { return "one" })
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.Setting(ctx, "api_token", func() string { return "two" })
		if err != nil {
			t.Fatal(err)
		}
		if first != "one" || second != "one" {
			t.Fatalf("got %q then %q, want the first value kept", first, second)
		}
	})
}

// TestSnapshot checks the audience rules of a campaign send: list members only,
// each once, minus unsubscribed and suppressed, and a second start refused.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		var cs []store.Contact
		for i := range 10 {
			cs = append(cs, store.Contact{Email: fmt.Sprintf("p%d@example.org", i), FirstName: fmt.Sprint("P", i)})
		}
		cs[3].Status = store.ContactUnsubscribed
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListContacts(ctx, 0, 100)
		if err != nil || len(all) != 10 {
			t.Fatalf("list contacts: %d, %v", len(all), err)
		}
		a, b := &store.List{Name: "a"}, &store.List{Name: "b"}
		for _, l := range []*store.List{a, b} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(from, to int) []int64 {
			var out []int64
			for _, c := range all[from:to] {
				out = append(out, c.ID)
			}
			return out
		}
		if err := s.AddListMembers(ctx, a.ID, ids(0, 6)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddListMembers(ctx, b.ID, ids(4, 9)); err != nil { // 4 and 5 in both
			t.Fatal(err)
		}
		if err := s.AddListMembers(ctx, b.ID, []int64{999999}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("unknown contact id: got %v, want invalid", err)
		}
		if _, err := s.InsertContacts(ctx, []store.Contact{{Email: "p7@example.org"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateContact(ctx, &store.Contact{Email: "p1@example.org"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("duplicate email: got %v, want conflict", err)
		}
		// p7 is suppressed (for instance bounced in another tool).
		if err := s.Bounce(ctx, mustSendFor(t, s, all[7].ID), "550 no such user"); err != nil {
			t.Fatal(err)
		}
		msg := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>hi</p>"}
		if err := s.CreateMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "c", MessageID: msg.ID, Audience: store.Audience{Lists: []int64{a.ID, b.ID}}}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		total, err := s.StartCampaign(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		// 0..8 minus 3 (unsubscribed) minus 7 (bounced, suppressed) = 7 contacts.
		if total != 7 {
			t.Errorf("total = %d, want 7", total)
		}
		if _, err := s.StartCampaign(ctx, c.ID); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second start: got %v, want conflict", err)
		}
		lo, hi, ok, err := s.SendRange(ctx, c.ID)
		if err != nil || !ok {
			t.Fatalf("send range: %v %v", ok, err)
		}
		rs, err := s.PendingRecipients(ctx, c.ID, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Email)
		}
		want := []string{"p0@example.org", "p1@example.org", "p2@example.org", "p4@example.org", "p5@example.org", "p6@example.org", "p8@example.org"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("recipients (-want +got):\n%s", d)
		}
		for _, r := range rs {
			if err := s.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok", true); err != nil {
				t.Fatal(err)
			}
		}
		done, err := s.FinishIfDone(ctx, c.ID)
		if err != nil || !done {
			t.Fatalf("finish: %v %v", done, err)
		}
		got2, err := s.GetCampaign(ctx, c.ID)
		if err != nil || got2.Status != store.CampaignSent || got2.FinishedAt == nil {
			t.Fatalf("campaign after finish: %+v %v", got2, err)
		}
		st, err := s.Stats(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Sends[store.SendSent] != 7 {
			t.Errorf("stats: %+v", st)
		}
	})
}

// mustSendFor makes a throwaway campaign with one ledger row for contact id, so
// a bounce can be recorded against it.
func mustSendFor(tb testing.TB, s *store.Store, contactID int64) int64 {
	tb.Helper()
	ctx := context.Background()
	l := &store.List{Name: "bounce-" + testenv.Random(3)}
	if err := s.CreateList(ctx, l); err != nil {
		tb.Fatal(err)
	}
	if err := s.AddListMembers(ctx, l.ID, []int64{contactID}); err != nil {
		tb.Fatal(err)
	}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
	if err := s.CreateMessage(ctx, m); err != nil {
		tb.Fatal(err)
	}
	c := &store.Campaign{Name: "b", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := s.CreateCampaign(ctx, c); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID); err != nil {
		tb.Fatal(err)
	}
	lo, _, _, err := s.SendRange(ctx, c.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return lo
}

func TestUnsubscribeIsIdempotent(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c := &store.Contact{Email: "u@example.org"}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		sendID := mustSendFor(t, s, c.ID)
		for range 2 {
			if _, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: sendID, UserAgent: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.GetContact(ctx, c.ID)
		sup, _ := s.IsSuppressed(ctx, c.Email)
		snd, _ := s.GetSend(ctx, sendID)
		st, _ := s.Stats(ctx, snd.CampaignID)
		if got.Status != store.ContactUnsubscribed || !sup || st.Events[store.EventUnsubscribe] != 1 {
			t.Fatalf("status %s, suppressed %v, unsubscribe events %d; want unsubscribed, true, 1", got.Status, sup, st.Events[store.EventUnsubscribe])
		}
		if _, err := s.GetCampaign(ctx, 424242); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown campaign: %v", err)
		}
	})
}

// Statements counts each SQL statement run, Transactions each transaction
// begun: one and none for a page of contacts, two and one for a list
// created with members (BEGIN and COMMIT are not statements).
func TestStatementsCounted(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		stmts, txs := s.Statements(), s.Transactions()
		if _, err := s.ListContacts(ctx, 0, 10); err != nil {
			t.Fatal(err)
		}
		if got, gotTx := s.Statements()-stmts, s.Transactions()-txs; got != 1 || gotTx != 0 {
			t.Errorf("listing contacts ran %d statements in %d transactions; want 1 in 0", got, gotTx)
		}
		if _, err := s.InsertContacts(ctx, []store.Contact{{Email: "ada@example.org"}}); err != nil {
			t.Fatal(err)
		}
		c, err := s.ContactByEmail(ctx, "ada@example.org")
		if err != nil {
			t.Fatal(err)
		}
		l := &store.List{Name: "counted"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		stmts, txs = s.Statements(), s.Transactions()
		if err := s.AddListMembers(ctx, l.ID, []int64{c.ID}); err != nil {
			t.Fatal(err)
		}
		if got, gotTx := s.Statements()-stmts, s.Transactions()-txs; got != 2 || gotTx != 1 {
			t.Errorf("adding a list member ran %d statements in %d transactions; want 2 in 1", got, gotTx)
		}
	})
}
