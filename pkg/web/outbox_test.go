package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/web"
)

// mustOutbox starts a capture server that keeps what it receives in a
// SQLite database, sends it the given testdata messages over SMTP (IDs 1,
// 2, ... in order) and serves its outbox at /outbox.
func mustOutbox(tb testing.TB, files ...string) *httptest.Server {
	tb.Helper()
	srv, _ := mustOutboxOn(tb, testenv.MigratedSQLite(tb), web.OutboxOptions{}, files...)
	return srv
}

// mustOutboxOn is mustOutbox on the database dsn with opts; it returns the
// capture server's address too.
func mustOutboxOn(tb testing.TB, dsn string, opts web.OutboxOptions, files ...string) (*httptest.Server, string) {
	tb.Helper()
	st := testenv.Store(tb, dsn)
	capture, err := devsvc.StartCapture("", devsvc.CaptureOptions{Keep: web.KeepOutbox(st)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { capture.Close() })
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			tb.Fatal(err)
		}
		if err := smtp.SendMail(capture.Addr(), nil, "bounce+s345@example.org", []string{"ada@example.net"}, raw); err != nil {
			tb.Fatalf("send %s: %v", f, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/outbox/", web.NewOutbox(st, "/outbox", opts))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv, capture.Addr()
}

func mustGet(tb testing.TB, srv *httptest.Server, path string, wantStatus int) (*http.Response, string) {
	tb.Helper()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(srv.URL + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		tb.Fatalf("GET %s = %d; want %d\n%s", path, resp.StatusCode, wantStatus, body)
	}
	return resp, string(body)
}

func assertContains(tb testing.TB, what, body string, wants ...string) {
	tb.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			tb.Errorf("%s does not contain %q", what, want)
		}
	}
}

func assertNotContains(tb testing.TB, what, body string, unwanted ...string) {
	tb.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			tb.Errorf("%s contains %q", what, u)
		}
	}
}

func TestOutboxList(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "latin1.eml", "nested.eml")
	resp, body := mustGet(t, srv, "/outbox/", http.StatusOK)

	assertContains(t, "list", body,
		"Add your name — &lt;b&gt;today&lt;/b&gt;", // decoded, then escaped
		"Plain and old",
		`href="/outbox/2"`,
		`href="/outbox/1"`,
		"ada@example.net",
	)
	assertNotContains(t, "list", body, "<b>today</b>")
	if strings.Index(body, "Add your name") > strings.Index(body, "Plain and old") {
		t.Error("list is not newest first")
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", got)
	}
}

// The page's only style is the inline <style>, allowed by its hash: no
// 'unsafe-inline'. A template edit that changes the CSS must keep the hash
// in step.
func TestOutboxStyleHash(t *testing.T) {
	t.Parallel()
	resp, body := mustGet(t, mustOutbox(t), "/outbox/", http.StatusOK)
	_, rest, ok := strings.Cut(body, "<style>")
	css, _, ok2 := strings.Cut(rest, "</style>")
	if !ok || !ok2 {
		t.Fatal("no <style> element")
	}
	sum := sha256.Sum256([]byte(css))
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) {
		t.Errorf("Content-Security-Policy = %q; want it to contain %q", csp, want)
	}
}

// An empty outbox says what to do: send the campaign ready to go when
// there is one, else any campaign or a test.
func TestOutboxListEmpty(t *testing.T) {
	t.Parallel()
	_, body := mustGet(t, mustOutbox(t), "/outbox/", http.StatusOK)
	assertContains(t, "empty list", body, "<strong>No mail yet.</strong>", "Send a campaign from Campaigns, or a test of a message from Messages")
	assertNotContains(t, "empty list", body, `role="search"`) // nothing to search

	suggest := func(context.Context) (string, string, bool) {
		return "Northfork <permit> alert", "/admin/campaigns/1", true
	}
	srv, _ := mustOutboxOn(t, testenv.MigratedSQLite(t), web.OutboxOptions{Suggest: suggest, AdminURL: "/admin/"})
	_, body = mustGet(t, srv, "/outbox/", http.StatusOK)
	assertContains(t, "empty list with a draft", body,
		`Send campaign <a href="/admin/campaigns/1">“Northfork &lt;permit&gt; alert”</a> from Campaigns`, `<a href="/admin/">← Admin</a>`)
}

// TestOutboxPagesAndSearch keeps 120 messages on each backend and reads
// them 50 a page, newest first, both ways, and searches recipients and
// subjects whatever the case; a search that matches nothing says so.
func TestOutboxPagesAndSearch(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		srv, addr := mustOutboxOn(t, dsn, web.OutboxOptions{})
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 1; i <= 120; i++ {
			subject := fmt.Sprintf("Alert %03d", i)
			if i%40 == 0 {
				subject += " about the 50% Rule_Change"
			}
			mustSend(t, c, fmt.Sprintf("friend%03d@example.net", i), subject)
		}
		subjects := func(body string) []string {
			var out []string
			for _, m := range regexp.MustCompile(`>(Alert \d+)[^<]*</a>`).FindAllStringSubmatch(body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		want := func(from, to int) []string {
			var out []string
			for i := from; i >= to; i-- {
				out = append(out, fmt.Sprintf("Alert %03d", i))
			}
			return out
		}
		_, page1 := mustGet(t, srv, "/outbox/", http.StatusOK)
		if d := cmp.Diff(want(120, 71), subjects(page1)); d != "" {
			t.Errorf("page 1 (-want +got):\n%s", d)
		}
		assertContains(t, "page 1", page1, "120 messages.")
		assertNotContains(t, "page 1", page1, "Newer")
		older := regexp.MustCompile(`<a href="(/outbox/\?before=\d+)" rel="next">`).FindStringSubmatch(page1)
		if older == nil {
			t.Fatalf("page 1 has no link to older messages:\n%s", page1)
		}
		_, page2 := mustGet(t, srv, html.UnescapeString(older[1]), http.StatusOK)
		if d := cmp.Diff(want(70, 21), subjects(page2)); d != "" {
			t.Errorf("page 2 (-want +got):\n%s", d)
		}
		newer := regexp.MustCompile(`<a href="(/outbox/\?after=\d+)" rel="prev">`).FindStringSubmatch(page2)
		if newer == nil {
			t.Fatalf("page 2 has no link to newer messages")
		}
		_, back := mustGet(t, srv, html.UnescapeString(newer[1]), http.StatusOK)
		if d := cmp.Diff(want(120, 71), subjects(back)); d != "" {
			t.Errorf("newer than page 2 (-want +got):\n%s", d)
		}

		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"FRIEND007@", []string{"Alert 007"}},
			{"50% rule_", []string{"Alert 120", "Alert 080", "Alert 040"}}, // LIKE's wildcards are taken as typed
			{"alert 11", want(119, 110)},
			{"nobody@example.net", nil},
		} {
			_, body := mustGet(t, srv, "/outbox/?q="+url.QueryEscape(tt.q), http.StatusOK)
			if d := cmp.Diff(tt.want, subjects(body)); d != "" {
				t.Errorf("search %q (-want +got):\n%s", tt.q, d)
			}
			if tt.want == nil {
				assertContains(t, "search with no match", body, "No message to or about “nobody@example.net”.")
			}
		}
		mustGet(t, srv, "/outbox/?before=x", http.StatusBadRequest)
	})
}

// mustSend sends a short message to rcpt over the open connection c.
func mustSend(tb testing.TB, c *smtp.Client, rcpt, subject string) {
	tb.Helper()
	if err := c.Mail("alerts@example.org"); err != nil {
		tb.Fatal(err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		tb.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(w, "From: alerts@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nDear friend.\r\n", rcpt, subject)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestOutboxDetail(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "nested.eml")
	_, body := mustGet(t, srv, "/outbox/1", http.StatusOK)

	assertContains(t, "detail", body,
		"<h1>Add your name — &lt;b&gt;today&lt;/b&gt;</h1>",
		"Défense des Forêts &lt;alerts@example.org&gt;", // decoded From header, escaped
		"bounce&#43;s345@example.org → ada@example.net", // the envelope
		// text part: quoted-printable undone, soft break joined, escaped
		"Our forests need you — café crème. This line is long enough to be wrapped by a soft line break.",
		"https://example.org/p/1 &lt;not a tag&gt;",
		`<iframe src="/outbox/1/html" sandbox="allow-popups allow-popups-to-escape-sandbox"`,
		`href="/outbox/1/raw"`,
		"petition.pdf", "application/pdf",
		"List-Unsubscribe</td><td>&lt;https://example.org/u/tok123&gt;, &lt;mailto:unsub@example.org?subject=tok123&gt;",
	)
	// The HTML part is only ever in the sandboxed frame, never inline.
	assertNotContains(t, "detail", body, "<script>", "ADD YOUR NAME")
}

func TestOutboxHTMLPart(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "nested.eml", "latin1.eml")
	resp, body := mustGet(t, srv, "/outbox/1/html", http.StatusOK)

	// base64 undone, served as the recipient's client would show it.
	assertContains(t, "html part", body, `<a href="https://example.org/p/1">ADD YOUR NAME</a> — merci, café crème.`)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "sandbox") || strings.Contains(csp, "allow-scripts") || strings.Contains(csp, "allow-same-origin") {
		t.Errorf("Content-Security-Policy = %q; want a sandbox without scripts or same origin", csp)
	}
	assertContains(t, "Content-Security-Policy", csp, "default-src 'none'", "frame-ancestors 'self'")
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}

	// A text-only message has no HTML part.
	mustGet(t, srv, "/outbox/2/html", http.StatusNotFound)
}

func TestOutboxLatin1(t *testing.T) {
	t.Parallel()
	_, body := mustGet(t, mustOutbox(t, "latin1.eml"), "/outbox/1", http.StatusOK)
	assertContains(t, "detail", body, "<pre>Café crème for everyone.")
	assertNotContains(t, "detail", body, "<iframe")
}

func TestOutboxRaw(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "nested.eml")
	want, err := os.ReadFile(filepath.Join("testdata", "nested.eml"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := mustGet(t, srv, "/outbox/1/raw", http.StatusOK)
	if body != string(want) {
		t.Errorf("raw download differs from what was sent:\n%s", body)
	}
	for name, want := range map[string]string{
		"Content-Type":        "message/rfc822",
		"Content-Disposition": `attachment; filename="message-1.eml"`,
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
}

func TestOutboxNotFound(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "latin1.eml")
	for _, path := range []string{"/outbox/2", "/outbox/0", "/outbox/-1", "/outbox/abc", "/outbox/2/raw", "/outbox/9/html", "/outbox/1/nope"} {
		mustGet(t, srv, path, http.StatusNotFound)
	}
}

func TestOutboxOnlyGET(t *testing.T) {
	t.Parallel()
	srv := mustOutbox(t, "latin1.eml")
	resp, err := srv.Client().Post(srv.URL+"/outbox/1", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d; want 405", resp.StatusCode)
	}
}
