package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestRecordOutcomesGroupCommit: the outcomes of many rows, of every kind,
// are written by one UPDATE (and, with a bounce among them, the contact and
// the suppression in the same transaction), each row as its own write would
// have left it.
func TestRecordOutcomesGroupCommit(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		names := []string{"sent", "deferred", "failed", "unknown", "blocked", "throttled", "untried", "skipped"}
		c, contacts := mustStarted(t, s, nil, names...)
		rs := mustPending(t, s, c.ID)
		id := map[string]int64{}
		for _, r := range rs {
			id[r.FirstName] = r.SendID
		}
		outs := []store.Outcome{
			{SendID: id["sent"], Status: store.SendSent, Reply: "250 ok", Attempt: true},
			{SendID: id["deferred"], Status: store.SendDeferred, Reply: "451 later", Attempt: true},
			{SendID: id["failed"], Status: store.SendFailed, Reply: "render: bad", Attempt: true},
			{SendID: id["unknown"], Status: store.SendUnknown, Reply: "no reply", Attempt: true},
			{SendID: id["blocked"], Status: store.SendBlocked, Reply: "554 5.7.1 listed", Attempt: true, Relay: "east"},
			{SendID: id["throttled"], Status: store.SendDeferred, Reply: "421 slow down", Throttled: true},
			{SendID: id["untried"], Status: store.SendDeferred, Reply: "not tried"},
			{SendID: id["skipped"], Status: store.SendSkipped, Reply: "contact is unsubscribed"},
		}
		stmts, txs := s.Statements(), s.Transactions()
		if n, err := s.RecordOutcomes(ctx, outs); err != nil || n != int64(len(outs)) {
			t.Fatalf("record outcomes: %d, %v; want %d", n, err, len(outs))
		}
		if got, gotTx := s.Statements()-stmts, s.Transactions()-txs; got != 1 || gotTx != 0 {
			t.Errorf("%d outcomes took %d statements in %d transactions; want 1 in 0", len(outs), got, gotTx)
		}
		type row struct {
			Status, Reply, Relay string
			Attempts, Throttled  int
			Sent, Tried, Leased  bool
		}
		want := map[string]row{
			"sent":      {store.SendSent, "250 ok", "", 1, 0, true, true, false},
			"deferred":  {store.SendDeferred, "451 later", "", 1, 0, false, true, false},
			"failed":    {store.SendFailed, "render: bad", "", 1, 0, false, true, false},
			"unknown":   {store.SendUnknown, "no reply", "", 1, 0, false, true, false},
			"blocked":   {store.SendBlocked, "554 5.7.1 listed", "east", 1, 0, false, true, false},
			"throttled": {store.SendDeferred, "421 slow down", "", 1, 1, false, true, false},
			"untried":   {store.SendDeferred, "not tried", "", 0, 0, false, false, false},
			"skipped":   {store.SendSkipped, "contact is unsubscribed", "", 0, 0, false, false, false},
		}
		got := map[string]row{}
		for name, sid := range id {
			snd, err := s.GetSend(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			got[name] = row{snd.Status, snd.LastReply, snd.Relay, snd.Attempts, snd.Throttled,
				snd.SentAt != nil, snd.FirstAttemptAt != nil, false}
		}
		// Every lease is cleared: each row can be claimed again at once
		// (those still waiting) or is no longer waiting.
		claim, err := s.ClaimRecipients(ctx, c.ID, 0, 1<<62, 100, time.Minute, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(claim.Recipients) != 3 {
			t.Errorf("claimed %d rows after the outcomes; want the 3 deferred", len(claim.Recipients))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("rows after one group commit (-want +got):\n%s", d)
		}

		// A bounce in the batch: the row, its contact and a suppression,
		// in one transaction.
		c2, contacts2 := mustStarted(t, s, nil, "bounce1", "bounce2", "fine")
		rs = mustPending(t, s, c2.ID)
		outs = outs[:0]
		for _, r := range rs {
			o := store.Outcome{SendID: r.SendID, Status: store.SendSent, Reply: "250 ok", Attempt: true}
			if r.FirstName != "fine" {
				o.Status, o.Reply = store.SendBounced, "550 5.1.1 no such user "+r.FirstName
			}
			outs = append(outs, o)
		}
		txs = s.Transactions()
		if n, err := s.RecordOutcomes(ctx, outs); err != nil || n != 3 {
			t.Fatalf("record outcomes with bounces: %d, %v", n, err)
		}
		if got := s.Transactions() - txs; got != 1 {
			t.Errorf("outcomes with bounces took %d transactions; want 1", got)
		}
		for _, name := range []string{"bounce1", "bounce2", "fine"} {
			ct, err := s.GetContact(ctx, contacts2[name].ID)
			if err != nil {
				t.Fatal(err)
			}
			sup, err := s.IsSuppressed(ctx, name+"@example.org")
			if err != nil {
				t.Fatal(err)
			}
			bounced := name != "fine"
			if (ct.Status == store.ContactBounced) != bounced || sup != bounced {
				t.Errorf("%s: contact %s, suppressed %v; want bounced and suppressed: %v", name, ct.Status, sup, bounced)
			}
		}
		if ct, _ := s.GetContact(ctx, contacts["sent"].ID); ct.Status != store.ContactSubscribed {
			t.Errorf("a contact of the first batch is %s, want subscribed", ct.Status)
		}
	})
}
