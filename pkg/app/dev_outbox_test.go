package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDevOutboxAcrossRestart runs embedded mode as `make run` does (its own
// SMTP capture, demo data) on each backend: the empty outbox points to the
// demo campaign, the campaign's 1,000 messages are all in the outbox, and
// after a restart on the same database they still are, paged and
// searchable; the second run made no admin password and knows the demo
// campaign is sent.
func TestDevOutboxAcrossRestart(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"DEARFRIEND_HTTP_ADDR":     "127.0.0.1:0",
				"DEARFRIEND_INBOUND_ADDR":  "127.0.0.1:0",
				"DEARFRIEND_DEV_SMTP_ADDR": "127.0.0.1:0",
				"DEARFRIEND_DATABASE_URL":  b.dsn(t),
				"DEARFRIEND_REDIS_URL":     b.redisURL,
				"DEARFRIEND_QUEUE":         testenv.Queue(),
				"DEARFRIEND_API_TOKEN":     testToken,
			}
			if b.redisURL != "" {
				t.Cleanup(func() { testenv.DropQueue(t, b.redisURL, env["DEARFRIEND_QUEUE"]) })
			}
			ctx := context.Background()

			h := startDev(t, env)
			if _, password, exists, err := h.app.DevAdmin(ctx); err != nil || password == "" || !exists {
				t.Errorf("first run: admin password %q, exists %v, %v; want one made now", password, exists, err)
			}
			demo, err := h.app.DemoCampaign(ctx)
			if err != nil || demo == nil || demo.Status != store.CampaignDraft {
				t.Fatalf("first run: demo campaign %+v, %v; want a draft", demo, err)
			}
			body := h.page("/outbox/")
			for _, want := range []string{"No mail yet.", `Send campaign <a href="/admin/campaigns/1">“Northfork permit alert”</a> from Campaigns`} {
				if !strings.Contains(body, want) {
					t.Errorf("the empty outbox does not say %q:\n%s", want, body)
				}
			}
			if code := h.call("POST", "/api/v1/campaigns/1/send", nil, nil); code != http.StatusAccepted {
				t.Fatalf("send the demo campaign: %d", code)
			}
			h.waitFinished(1)
			if body := h.page("/outbox/"); !strings.Contains(body, "1000 messages.") {
				t.Errorf("after the send the outbox does not count 1000 messages:\n%.2000s", body)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			h.app.Close()

			h = startDev(t, env)
			if email, password, exists, err := h.app.DevAdmin(ctx); err != nil || password != "" || !exists || email != "admin@example.org" {
				t.Errorf("second run: admin %s password %q, exists %v, %v; want no password made", email, password, exists, err)
			}
			if demo, err := h.app.DemoCampaign(ctx); err != nil || demo == nil || demo.Status != store.CampaignSent {
				t.Errorf("second run: demo campaign %+v, %v; want it sent", demo, err)
			}
			body = h.page("/outbox/")
			if !strings.Contains(body, "1000 messages.") || strings.Count(body, `<td class="subject">`) != 50 || !strings.Contains(body, `rel="next"`) {
				t.Errorf("after a restart the outbox does not list 50 of 1000 messages with a next page:\n%.3000s", body)
			}
			body = h.page("/outbox/?q=supporter0042%40")
			if !strings.Contains(body, "1 message matching") || !strings.Contains(body, "supporter0042@example.org") {
				t.Errorf("searching one recipient:\n%.3000s", body)
			}
		})
	}
}

// startDev starts the App of embedded mode with env, capture and all.
func startDev(t *testing.T, env map[string]string) *harness {
	t.Helper()
	cfg, err := config.FromEnv(config.ModeDev, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &harness{t: t, app: a, capture: a.Capture(), byRcpt: map[string]int{}}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	h.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		h.stop()
		a.Close()
	})
	return h
}

// page fetches path of the App and returns the body of a 200.
func (h *harness) page(path string) string {
	h.t.Helper()
	resp, body := h.get(path)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	return body
}
