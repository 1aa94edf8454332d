package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDispatchDepthIsBounded: a send puts only depth batches in Redis, each
// Next one more, and a resume (cursor rewound) adds none that are already there.
func TestDispatchDepthIsBounded(t *testing.T) {
	ctx := context.Background()
	st := testenv.Store(t, testenv.SQLite(t))
	l := &store.List{Name: "l"}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
	for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i := range 100 {
		c := &store.Contact{Email: fmt.Sprintf("p%d@example.org", i)}
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
	r, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	opt := asynq.RedisClientOpt{Addr: r.Addr()}
	client := asynq.NewClient(opt)
	defer client.Close()
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	const queue = "q"
	d := NewDispatcher(st, client, queue, 5, slog.New(slog.NewTextHandler(io.Discard, nil)), WithDepth(3))
	pending := func() int {
		t.Helper()
		info, err := inspector.GetQueueInfo(queue)
		if err != nil {
			t.Fatal(err)
		}
		return info.Pending
	}
	if n, err := d.Send(ctx, camp.ID); err != nil || n != 100 {
		t.Fatalf("send = %d, %v; want 100 recipients", n, err)
	}
	if got := pending(); got != 3 {
		t.Errorf("after send: %d batches in Redis, want 3 of 20", got)
	}
	if more, err := d.Next(ctx, camp.ID); err != nil || !more {
		t.Fatalf("next = %v, %v; want a batch enqueued", more, err)
	}
	if got := pending(); got != 4 {
		t.Errorf("after next: %d batches in Redis, want 4", got)
	}
	if err := d.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pending(); got != 4 {
		t.Errorf("after resume: %d batches in Redis, want still 4 (the same ids)", got)
	}
	// Next reports a batch enqueued until the cursor reaches the end.
	enqueued := 0
	for range 30 {
		more, err := d.Next(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		enqueued++
	}
	if enqueued != 16 || pending() != 20 {
		t.Errorf("next enqueued %d more batches, %d in Redis; want 16, all 20", enqueued, pending())
	}
}

// TestSweepSkipsRefusedStart: a due campaign whose start the check refuses
// (its From no longer aligned with DKIM) goes back to draft, and the sweep
// still starts the others.
func TestSweepSkipsRefusedStart(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := testenv.Store(t, dsn)
		l := &store.List{Name: "l"}
		m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
		for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		var camps []*store.Campaign
		for _, name := range []string{"refused", "fine"} {
			c := &store.Campaign{Name: name, MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
			if err := st.CreateCampaign(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := st.ScheduleCampaign(ctx, c.ID, time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			camps = append(camps, c)
		}
		r, err := devsvc.StartRedis("")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		client := asynq.NewClient(asynq.RedisClientOpt{Addr: r.Addr()})
		defer client.Close()
		refuse := func(_ context.Context, id int64) error {
			if id == camps[0].ID {
				return errs.Field("from_email", "is not aligned")
			}
			return nil
		}
		d := NewDispatcher(st, client, "q", 5, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStartCheck(refuse))
		if err := d.Sweep(ctx, time.Now()); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		for i, want := range []string{store.CampaignDraft, store.CampaignSent} {
			c, err := st.GetCampaign(ctx, camps[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != want {
				t.Errorf("campaign %q is %s after the sweep; want %s", c.Name, c.Status, want)
			}
		}
	})
}
