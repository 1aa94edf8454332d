package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// queueRedis is an in-process Redis with a client, an inspector and a
// dispatcher on it: what a process has of Redis, to be lost.
type queueRedis struct {
	d         *Dispatcher
	inspector *asynq.Inspector
}

const abQueue = "q"

func mustQueueRedis(t *testing.T, st *store.Store) queueRedis {
	t.Helper()
	r, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: r.Addr()}
	client, inspector := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { inspector.Close(); client.Close(); r.Close() })
	return queueRedis{d: NewDispatcher(st, client, abQueue, 10, slog.New(slog.NewTextHandler(io.Discard, nil))), inspector: inspector}
}

// winnerState returns the state of a campaign's decide task in this Redis, or "none".
func (q queueRedis) winnerState(t *testing.T, campaignID int64) string {
	t.Helper()
	info, err := q.inspector.GetTaskInfo(abQueue, fmt.Sprintf("winner:%d", campaignID))
	if err != nil {
		return "none"
	}
	return info.State.String()
}

// mustABAudience makes a list of n contacts and a message; it returns their ids.
func mustABAudience(t *testing.T, st *store.Store, n int) (list, message int64) {
	t.Helper()
	ctx := context.Background()
	l := &store.List{Name: "l"}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
	for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i := range n {
		c := &store.Contact{Email: fmt.Sprintf("p%d-%s@example.org", i, testenv.Random(3))}
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		t.Fatal(err)
	}
	return l.ID, m.ID
}

func mustABCampaign(t *testing.T, st *store.Store, list, message int64, wait time.Duration) int64 {
	t.Helper()
	c := &store.Campaign{Name: "ab", MessageID: message, Audience: store.Audience{Lists: []int64{list}},
		AB: store.ABTest{Share: 20, Metric: store.MetricOpens, WaitSeconds: int64(wait / time.Second)}}
	if err := st.CreateCampaign(context.Background(), c, store.Variant{Subject: "One"}, store.Variant{Subject: "Two"}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestABWinnerSurvivesRedisLoss: the decide task is scheduled at the send;
// when Redis loses it, the start-up check (Resume) schedules it again if the
// test is not due, and chooses the winner and dispatches the rest if it is.
func TestABWinnerSurvivesRedisLoss(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := testenv.Store(t, dsn)
		list, message := mustABAudience(t, st, 50)
		later := mustABCampaign(t, st, list, message, time.Hour)
		soon := mustABCampaign(t, st, list, message, time.Second)

		first := mustQueueRedis(t, st)
		for _, id := range []int64{later, soon} {
			if n, err := first.d.Send(ctx, id); err != nil || n != 50 {
				t.Fatalf("send %d: %d, %v", id, n, err)
			}
			if got := first.winnerState(t, id); got != "scheduled" {
				t.Errorf("campaign %d: decide task %s after the send, want scheduled", id, got)
			}
		}
		c, err := st.GetCampaign(ctx, soon)
		if err != nil {
			t.Fatal(err)
		}
		for due := c.AB.DueAt(*c.StartedAt); time.Now().Before(due); {
			time.Sleep(time.Until(due) + 10*time.Millisecond)
		}

		// Redis lost everything: a new one, and the start-up check.
		second := mustQueueRedis(t, st)
		if err := second.d.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		if got := second.winnerState(t, later); got != "scheduled" {
			t.Errorf("test not due: decide task %s after the resume, want scheduled again", got)
		}
		c, err = st.GetCampaign(ctx, soon)
		if err != nil {
			t.Fatal(err)
		}
		if c.AB.Phase != store.ABDecided || c.AB.WinnerID == nil {
			t.Fatalf("test due: A/B %+v after the resume, want decided", c.AB)
		}
		held, queued := 0, 0
		for _, s := range mustLedgerRows(t, st, soon) {
			switch {
			case s.Status == store.SendHeld:
				held++
			case s.Status == store.SendQueued && *s.VariantID == *c.AB.WinnerID:
				queued++
			}
		}
		info, err := second.inspector.GetQueueInfo(abQueue)
		if err != nil {
			t.Fatal(err)
		}
		// 40 held rows went to the winner (opens: a tie, so A), plus A's 5 of the test.
		if held != 0 || queued != 45 || info.Pending == 0 {
			t.Errorf("after the winner: %d held, %d queued with it, %d batches pending; want 0, 45 and some", held, queued, info.Pending)
		}

		// The task itself decides the test that was not due (its time came).
		payload, _ := json.Marshal(DecideWinnerPayload{CampaignID: later})
		if err := second.d.ProcessDecideWinner(ctx, asynq.NewTask(TypeDecideWinner, payload)); err != nil {
			t.Fatal(err)
		}
		if c, err := st.GetCampaign(ctx, later); err != nil || c.AB.Phase != store.ABDecided {
			t.Errorf("after the task: %+v, %v; want decided", c.AB, err)
		}
		// A second run (a redelivered task) changes nothing and fails nothing.
		if err := second.d.ProcessDecideWinner(ctx, asynq.NewTask(TypeDecideWinner, payload)); err != nil {
			t.Errorf("second run of the task: %v", err)
		}
	})
}

func mustLedgerRows(t *testing.T, st *store.Store, campaignID int64) []store.Send {
	t.Helper()
	rows, err := st.LedgerPage(context.Background(), campaignID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestABWinnerWhilePaused: a winner chosen while the campaign is paused moves
// the held rows to it but dispatches nothing; resuming dispatches them.
func TestABWinnerWhilePaused(t *testing.T) {
	ctx := context.Background()
	st := testenv.Store(t, testenv.SQLite(t))
	list, message := mustABAudience(t, st, 50)
	id := mustABCampaign(t, st, list, message, time.Hour)
	q := mustQueueRedis(t, st)
	if _, err := q.d.Send(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := q.d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	pending := func() int {
		t.Helper()
		info, err := q.inspector.GetQueueInfo(abQueue)
		if err != nil {
			t.Fatal(err)
		}
		return info.Pending
	}
	before := pending()
	if v, err := q.d.ChooseWinner(ctx, id, "B"); err != nil || v.Label != "B" {
		t.Fatalf("choose B while paused: %+v, %v", v, err)
	}
	queued := 0
	for _, s := range mustLedgerRows(t, st, id) {
		if s.Status == store.SendHeld {
			t.Fatalf("row %d still held after the winner", s.ID)
		}
		if s.Status == store.SendQueued {
			queued++
		}
	}
	if queued != 50 || pending() != before {
		t.Errorf("while paused: %d queued, %d batches pending (had %d); want 50 and no new batch", queued, pending(), before)
	}
	if err := q.d.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := pending(); got != 5 {
		t.Errorf("after the resume: %d batches pending, want 5 (50 rows in batches of 10)", got)
	}
}
