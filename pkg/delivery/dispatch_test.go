package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
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
	if err := d.Next(ctx, camp.ID); err != nil {
		t.Fatal(err)
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
}
