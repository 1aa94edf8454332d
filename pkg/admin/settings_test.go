package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// withSettings shows two relays, one with a password, and a sender.
func withSettings(t *testing.T) func(*admin.Deps) {
	relays, err := admin.DescribeRelays("smtp://mailer:hunter2-secret@relay.example.org:587?tls=starttls&weight=3&rate=20, smtps://backup.example.org:465", 4)
	if err != nil {
		t.Fatal(err)
	}
	return func(d *admin.Deps) {
		d.Settings = admin.Settings{Relays: relays, OrgName: "River Alliance", FromName: "Maya Ortiz", FromEmail: "action@example.org",
			PostalAddress: "1 Main St, Riverton", APITokenFromEnv: true}
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "", withSettings(t))
		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))
		if p := organizer.get("/admin/settings"); p.status != http.StatusForbidden {
			t.Errorf("an organizer opens the settings: %d, want 403", p.status)
		}
		if p := organizer.post("/admin/settings/topics", url.Values{"csrf": {organizer.token()}, "name": {"Newsletter"}}); p.status != http.StatusForbidden {
			t.Errorf("an organizer adds a topic: %d, want 403", p.status)
		}

		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleAdmin))
		p := b.get("/admin/settings")
		mustContain(t, p, "smtp://mailer:xxxxx@relay.example.org:587", "smtps://backup.example.org:465",
			`data-label="Weight">3</td>`, "20/s", "River Alliance", "Maya Ortiz &lt;action@example.org&gt;", "1 Main St, Riverton",
			"Set by DEARFRIEND_API_TOKEN")
		if strings.Contains(p.body, "hunter2") {
			t.Error("the settings page shows a relay's password")
		}

		// Topics, with the API's rules.
		token := b.token()
		if p := b.post("/admin/settings/topics", url.Values{"csrf": {token}, "name": {"Action alerts"}, "description": {"Urgent actions"}}); p.status != http.StatusSeeOther {
			t.Fatalf("add topic: %d\n%s", p.status, p.body)
		}
		p = b.post("/admin/settings/topics", url.Values{"csrf": {token}, "name": {"Action alerts"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("the same topic again: %d, want 422", p.status)
		}
		mustContain(t, p, `id="f-name-error">A topic named &#34;Action alerts&#34; already exists.`, "<strong>Action alerts</strong>", "Urgent actions")
		p = b.post("/admin/settings/topics", url.Values{"csrf": {token}, "name": {"  "}})
		mustContain(t, p, `id="f-name-error">Is required, at most 100 characters.`)
		if p := b.post("/admin/settings/topics", url.Values{"name": {"No token"}}); p.status != http.StatusForbidden {
			t.Errorf("add topic without CSRF: %d, want 403", p.status)
		}

		// Webhooks: errors at their field with what was typed kept; the secret shown once.
		p = b.post("/admin/settings/webhooks", url.Values{"csrf": {token}, "url": {"ftp://hooks.example.org"}, "events": {"signature"}})
		mustContain(t, p, `id="f-url-error">Must be an absolute http or https URL.`, `value="ftp://hooks.example.org"`, `value="signature" checked`)
		p = b.post("/admin/settings/webhooks", url.Values{"csrf": {token}, "url": {"https://hooks.example.org/df"}})
		mustContain(t, p, `id="f-events-error">Name at least one of`, `aria-describedby="f-events-error"`)
		p = b.post("/admin/settings/webhooks", url.Values{"csrf": {token}, "url": {"https://hooks.example.org/df"}, "events": {"signature", "bounce"},
			"secret": {"a-secret-of-enough-length"}})
		// Post, redirect, get: the page after the post shows the secret, once.
		if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/admin/settings?saved=webhook" {
			t.Fatalf("add webhook: %d to %q, want 303 to the settings\n%s", p.status, loc, p.body)
		}
		mustContain(t, b.get("/admin/settings?saved=webhook"), "<code>a-secret-of-enough-length</code>", "https://hooks.example.org/df", "bounce, signature")
		if strings.Contains(b.get("/admin/settings?saved=webhook").body, "a-secret-of-enough-length") {
			t.Error("the webhook's secret is shown again on a reload")
		}
	})
}

// TestQueueMonitor mounts asynqmon for admins only.
func TestQueueMonitor(t *testing.T) {
	t.Parallel()
	redis, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { redis.Close() })
	f := newFixture(t, testenv.SQLite(t), "", func(d *admin.Deps) { d.QueueRedis = asynq.RedisClientOpt{Addr: redis.Addr()} })

	organizer := f.browser()
	organizer.mustSignin(f.mustUser(store.RoleOrganizer))
	if p := organizer.get("/admin/queue/"); p.status != http.StatusForbidden {
		t.Errorf("an organizer opens the queue monitor: %d, want 403", p.status)
	}
	if strings.Contains(organizer.get("/admin/").body, `href="/admin/queue/"`) {
		t.Error("an organizer's navigation links the queue monitor")
	}

	b := f.browser()
	b.mustSignin(f.mustUser(store.RoleAdmin))
	if !strings.Contains(b.get("/admin/").body, `href="/admin/queue/"`) {
		t.Error("an admin's navigation lacks the queue monitor")
	}
	// The page is the admin layout, with its navigation, around a frame of
	// asynqmon; asynqmon's own page may be framed by this site only and
	// links nothing from another.
	p := b.get("/admin/queue/")
	if p.status != http.StatusOK || !strings.Contains(p.body, `<iframe class="queue" src="/admin/queue/app/"`) ||
		!strings.Contains(p.body, `<a href="/admin/queue/" aria-current="page">Queue</a>`) {
		t.Fatalf("the queue page for an admin: %d\n%s", p.status, p.body)
	}
	if got := p.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("the queue page may be framed: X-Frame-Options %q", got)
	}
	for _, path := range []string{"/admin/queue/app/", "/admin/queue/app/queues/default"} {
		app := b.get(path)
		if app.status != http.StatusOK || !strings.Contains(app.body, `<div id="root">`) {
			t.Fatalf("asynqmon's page %s: %d\n%.500s", path, app.status, app.body)
		}
		if strings.Contains(app.body, "https://") || strings.Contains(app.body, "http://") {
			t.Errorf("asynqmon's page %s links another site:\n%s", path, app.body)
		}
		csp := app.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self' 'sha256-", "frame-ancestors 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("asynqmon's Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		if n, hashes := strings.Count(app.body, "<script>"), strings.Count(csp, "'sha256-"); n != hashes || n == 0 {
			t.Errorf("asynqmon's page has %d inline scripts and its policy allows %d", n, hashes)
		}
		if got := app.header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
			t.Errorf("asynqmon's X-Frame-Options %q, want SAMEORIGIN", got)
		}
	}
	script := regexp.MustCompile(`<script src="(/admin/queue/app/static/js/[^"]+)"`).FindStringSubmatch(b.get("/admin/queue/app/").body)
	if script == nil {
		t.Fatal("asynqmon's page has no script of its own")
	}
	if js := b.get(script[1]); js.status != http.StatusOK || strings.Contains(js.body, `<div id="root">`) {
		t.Errorf("asynqmon's script %s: %d", script[1], js.status)
	}
	if p := b.get("/admin/queue/app/api/queues"); p.status != http.StatusOK || !strings.Contains(p.body, `"queues"`) {
		t.Errorf("the monitor's API: %d %.300s", p.status, p.body)
	}
	// The monitor's buttons post without our CSRF token: a request from
	// another site is refused.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/queue/app/api/queues/default:pause", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if p := read(t, resp); p.status != http.StatusForbidden {
		t.Errorf("a cross-site post to the monitor: %d, want 403", p.status)
	}
}

// TestRotateAPIToken replaces the generated token kept in the database; a
// token from the environment is left alone.
func TestRotateAPIToken(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := t.Context()
		if _, err := f.st.Setting(ctx, store.SettingAPIToken, func() string { return "the-first-token-0123456789" }); err != nil {
			t.Fatal(err)
		}
		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))
		if p := organizer.post("/admin/settings/token", url.Values{"csrf": {organizer.token()}}); p.status != http.StatusForbidden {
			t.Errorf("an organizer rotates the token: %d, want 403", p.status)
		}
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleAdmin))
		if p := b.post("/admin/settings/token", url.Values{}); p.status != http.StatusForbidden {
			t.Errorf("rotate without CSRF: %d, want 403", p.status)
		}
		if got, _ := f.st.SettingValue(ctx, store.SettingAPIToken); got != "the-first-token-0123456789" {
			t.Fatalf("refused requests changed the token to %q", got)
		}
		p := b.post("/admin/settings/token", url.Values{"csrf": {b.token()}})
		got, err := f.st.SettingValue(ctx, store.SettingAPIToken)
		if err != nil {
			t.Fatal(err)
		}
		shown := b.get(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || got == "the-first-token-0123456789" || len(got) < 32 || !strings.Contains(shown.body, "<code>"+got+"</code>") {
			t.Errorf("rotate: %d, token %q, shown on the page it redirects to: %v", p.status, got, strings.Contains(shown.body, got))
		}
		if strings.Contains(b.get(p.header.Get("Location")).body, got) {
			t.Error("the new token is shown again on a reload")
		}
	})
	f := newFixture(t, testenv.SQLite(t), "", withSettings(t)) // the token comes from DEARFRIEND_API_TOKEN
	b := f.browser()
	b.mustSignin(f.mustUser(store.RoleAdmin))
	if strings.Contains(b.get("/admin/settings").body, `action="/admin/settings/token"`) {
		t.Error("the page offers to rotate a token set by the environment")
	}
	if p := b.post("/admin/settings/token", url.Values{"csrf": {b.token()}}); p.status != http.StatusConflict {
		t.Errorf("rotate a token set by the environment: %d, want 409", p.status)
	}
}
