package delivery

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestCopyWhileSending: a campaign whose audience is copied in small pages
// starts sending after the first page; the copy task adds the rest while
// batches go out, and every recipient gets the message exactly once; the
// campaign finishes only once the copy is done, with the whole audience as
// its total.
func TestCopyWhileSending(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		const n = 60
		st := testenv.Store(t, dsn)
		var emails []string
		for i := range n {
			emails = append(emails, fmt.Sprintf("c%d-%s@example.org", i, testenv.Random(3)))
		}
		camp := mustCampaignOf(t, st, emails)
		r, err := devsvc.StartRedis("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		opt := asynq.RedisClientOpt{Addr: r.Addr()}
		client := asynq.NewClient(opt)
		t.Cleanup(func() { client.Close() })
		const queue = "copy"
		d := NewDispatcher(st, client, queue, 4, slog.New(slog.DiscardHandler), WithDepth(2), WithCopyPages(5, 7))
		relay := &countingSender{tries: map[string]int{}}
		w := newTestWorker(t, st, relay, 3, WithChain(d))
		srv := asynq.NewServer(opt, asynq.Config{Concurrency: 4, Queues: map[string]int{queue: 1}, LogLevel: asynq.FatalLevel,
			RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 50 * time.Millisecond }})
		mux := asynq.NewServeMux()
		mux.Handle(TypeSendBatch, w)
		mux.HandleFunc(TypeCopyAudience, d.ProcessCopyAudience)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		total, err := d.Send(t.Context(), camp)
		if err != nil || total != 5 {
			t.Fatalf("send: %d recipients, %v; want the first page of 5 at once", total, err)
		}
		waitFor(t, "the campaign to finish", func() bool {
			c, err := st.GetCampaign(t.Context(), camp)
			return err == nil && c.Status == store.CampaignSent
		}, func() string {
			p, err := st.CampaignProgress(t.Context(), camp, time.Minute)
			return fmt.Sprintf("progress %+v, %v", p, err)
		})
		c, _ := st.GetCampaign(t.Context(), camp)
		if c.Total != n {
			t.Errorf("total %d, want %d", c.Total, n)
		}
		relay.mu.Lock()
		defer relay.mu.Unlock()
		for _, e := range emails {
			if relay.tries[e] != 1 {
				t.Errorf("%s got %d messages, want 1", e, relay.tries[e])
			}
		}
		if len(relay.tries) != n {
			t.Errorf("%d addresses mailed, want %d", len(relay.tries), n)
		}
	})
}

// mustCampaignOf makes a draft campaign to one new contact per address.
func mustCampaignOf(t *testing.T, st *store.Store, emails []string) int64 {
	t.Helper()
	ctx := t.Context()
	l := &store.List{Name: "audience"}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
	for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for _, e := range emails {
		c := &store.Contact{Email: e}
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		t.Fatal(err)
	}
	camp := &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	return camp.ID
}
