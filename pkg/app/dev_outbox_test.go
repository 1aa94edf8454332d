package app_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

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

// TestOutboxInBrowser walks the outbox of embedded mode in a real browser:
// empty, with the demo campaign's mail, searched, and one message with its
// HTML, text and source; then the unsubscribe and preferences pages its
// links open. Each page passes axe-core and our own checks, does not scroll
// sideways at 375 px, and is photographed at 375 and 1280 px
// (artifacts/outbox-*.png, public-*.png).
func TestOutboxInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := startDev(t, map[string]string{
		"DEARFRIEND_HTTP_ADDR":     "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR":  "127.0.0.1:0",
		"DEARFRIEND_DEV_SMTP_ADDR": "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL":  testenv.MigratedSQLite(t),
		"DEARFRIEND_API_TOKEN":     testToken,
	})
	base := h.app.URL()
	do(t, ctx, chromedp.Navigate(base+"/outbox/"), chromedp.WaitVisible(chromedp.CSS("#empty")))
	if got := text(t, ctx, "#empty"); !strings.Contains(got, "Send campaign “Northfork permit alert” from Campaigns") {
		t.Errorf("the empty outbox says %q", got)
	}
	adminScreen(t, ctx, "outbox-empty")

	if code := h.call("POST", "/api/v1/campaigns/1/send", nil, nil); code != http.StatusAccepted {
		t.Fatalf("send the demo campaign: %d", code)
	}
	h.waitFinished(1)
	do(t, ctx, chromedp.Navigate(base+"/outbox/"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	adminScreen(t, ctx, "outbox")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), "supporter0042@"), chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS(`#summary`)))
	waitFor(t, ctx, "the search's results", `document.querySelectorAll('table.list tbody tr').length === 1`)
	do(t, ctx, chromedp.Click(chromedp.CSS("td.subject a")), chromedp.WaitVisible(chromedp.CSS("iframe")))
	// The frame is sandboxed (an opaque origin the page cannot read into):
	// read what it loads.
	src := eval[string](t, ctx, `document.querySelector('iframe[sandbox]').getAttribute('src')`)
	if frame := h.page(src); !strings.Contains(frame, "Governor Hale") {
		t.Errorf("the HTML frame %s loads %.300q; want the alert", src, frame)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#source summary")))
	if src := text(t, ctx, "#source pre"); !strings.Contains(src, "To: ") || !strings.Contains(src, "supporter0042@example.org") {
		t.Errorf("the source shown is not the message's:\n%.500s", src)
	}
	if got := text(t, ctx, "#text-part + pre"); !strings.Contains(got, "Governor Hale") {
		t.Errorf("the text part shown: %.300q", got)
	}
	adminScreen(t, ctx, "outbox-message")

	e := parseEmail(t, waitMessageTo(t, h, "supporter0042@example.org"))
	for _, page := range []struct{ name, path string }{{"public-unsubscribe", "/u/"}, {"public-preferences", "/p/"}} {
		link := regexp.MustCompile(`href="(` + regexp.QuoteMeta(base+page.path) + `[^"]+)"`).FindStringSubmatch(e.html)
		if link == nil {
			t.Fatalf("no %s link in the message", page.path)
		}
		do(t, ctx, chromedp.Navigate(html.UnescapeString(link[1])), chromedp.WaitVisible(chromedp.CSS("main")))
		adminScreen(t, ctx, page.name)
	}
}
