package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/webhook"
)

type received struct {
	event, delivery, ts, sig string
	body                     []byte
}

// TestDeliveryIsSignedAndRetried: an unsubscribe reaches every subscribed URL
// through the queue, signed; a receiver that fails at first gets it again.
func TestDeliveryIsSignedAndRetried(t *testing.T) {
	ctx := context.Background()
	st := testenv.Store(t, testenv.SQLite(t))

	var mu sync.Mutex
	var got []received
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		got = append(got, received{r.Header.Get(webhook.HeaderEvent), r.Header.Get(webhook.HeaderDelivery),
			r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body})
	}))
	defer srv.Close()
	const secret = "0123456789abcdef-secret"
	for _, w := range []*store.Webhook{
		{URL: srv.URL + "/hook", Events: []string{webhook.EventUnsubscribe, webhook.EventBounce}, Secret: secret},
		{URL: srv.URL + "/never", Events: []string{webhook.EventSignature}, Secret: secret},
	} {
		if err := st.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}

	redis, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	defer redis.Close()
	opt := asynq.RedisClientOpt{Addr: redis.Addr()}
	client := asynq.NewClient(opt)
	defer client.Close()
	queue := testenv.Queue()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	server := asynq.NewServer(opt, asynq.Config{Queues: map[string]int{queue: 1}, Concurrency: 2, LogLevel: asynq.FatalLevel,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.Handle(webhook.TypeDeliver, webhook.NewDeliverer(st, nil, log))
	if err := server.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer server.Shutdown()

	n := webhook.NewNotifier(st, client, queue)
	if err := n.Notify(ctx, webhook.EventUnsubscribe, map[string]any{"email": "ann@example.org", "reason": "too_many"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		done := len(got) > 0
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery after 20 s (%d attempts)", attempts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	r := got[0]
	ts, err := strconv.ParseInt(r.ts, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
		t.Errorf("timestamp header %q is not a recent Unix time", r.ts)
	}
	if want := webhook.Sign(secret, ts, r.body); r.sig != want {
		t.Errorf("signature %q, want %q", r.sig, want)
	}
	if webhook.Sign("another secret", ts, r.body) == r.sig {
		t.Error("the signature does not depend on the secret")
	}
	var body struct {
		ID, Event string
		Data      map[string]any
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Event != webhook.EventUnsubscribe || r.event != body.Event || r.delivery != body.ID || body.Data["email"] != "ann@example.org" {
		t.Errorf("delivery %+v, headers %+v", body, r)
	}
	if attempts != 2 || len(got) != 1 {
		t.Errorf("%d attempts, %d delivered; want one failure, then one delivery, and nothing to the signature-only hook", attempts, len(got))
	}
}
