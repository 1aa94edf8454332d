package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/web"
)

// mustOutbox starts a capture server, sends it the given testdata messages
// over SMTP (IDs 1, 2, ... in order) and serves its outbox at /outbox.
func mustOutbox(tb testing.TB, files ...string) *httptest.Server {
	tb.Helper()
	capture, err := devsvc.StartCapture("", devsvc.CaptureOptions{})
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
	mux.Handle("/outbox/", web.NewOutbox(capture, "/outbox"))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
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

func TestOutboxListEmpty(t *testing.T) {
	t.Parallel()
	_, body := mustGet(t, mustOutbox(t), "/outbox/", http.StatusOK)
	assertContains(t, "empty list", body, "No messages yet.")
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
