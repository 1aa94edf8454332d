package admin_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/templates"
)

// fixture is the admin UI on a test server over a real database, with a
// clock the test moves.
type fixture struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server

	mu  sync.Mutex
	now time.Time
}

// newFixture starts the admin UI; each of more adjusts its dependencies.
func newFixture(t *testing.T, dsn, publicURL string, more ...func(*admin.Deps)) *fixture {
	t.Helper()
	f := &fixture{t: t, st: testenv.Store(t, dsn), now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	pages, err := fs.Sub(templates.FS, "admin")
	if err != nil {
		t.Fatal(err)
	}
	d := admin.Deps{Store: f.st, Templates: pages, PublicURL: publicURL, OutboxURL: "/outbox/",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock}
	for _, m := range more {
		m(&d)
	}
	h, err := admin.New(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	mux := http.NewServeMux()
	h.Routes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// mustUser creates a user of role and returns its email and password.
func (f *fixture) mustUser(role string) (string, string) {
	f.t.Helper()
	email, password := role+"-"+testenv.Random(3)+"@example.org", "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), f.st, email, role, password); err != nil {
		f.t.Fatal(err)
	}
	return email, password
}

// mustContact creates a contact.
func (f *fixture) mustContact(email, first string) *store.Contact {
	f.t.Helper()
	c := &store.Contact{Email: email, FirstName: first}
	if err := f.st.CreateContact(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	f *fixture
	c *http.Client
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer: its status, body and headers.
type page struct {
	status int
	body   string
	header http.Header
}

func (b *browser) get(path string) page {
	b.f.t.Helper()
	resp, err := b.c.Get(b.f.srv.URL + path)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return read(b.f.t, resp)
}

func (b *browser) post(path string, form url.Values) page {
	b.f.t.Helper()
	resp, err := b.c.PostForm(b.f.srv.URL+path, form)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return read(b.f.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, body: string(body), header: resp.Header}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form of a page.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", p.body)
	}
	return m[1]
}

// signin posts the sign-in form as a browser would: the page first, then the form.
func (b *browser) signin(email, password string) page {
	b.f.t.Helper()
	token := b.get("/admin/signin").csrf(b.f.t)
	return b.post("/admin/signin", url.Values{"csrf": {token}, "email": {email}, "password": {password}, "next": {"/admin/"}})
}

// mustSignin signs in and fails the test unless it reached the dashboard.
func (b *browser) mustSignin(email, password string) {
	b.f.t.Helper()
	if p := b.signin(email, password); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/" {
		b.f.t.Fatalf("sign in as %s: %d %s\n%s", email, p.status, p.header.Get("Location"), p.body)
	}
}

// token returns the session's CSRF token from a signed-in page.
func (b *browser) token() string {
	b.f.t.Helper()
	return b.get("/admin/").csrf(b.f.t)
}

func mustContain(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}
