package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func TestSignin(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		email, password := f.mustUser(store.RoleOrganizer)
		b := f.browser()

		if p := b.get("/admin/contacts?q=x"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/signin?next=%2Fadmin%2Fcontacts%3Fq%3Dx" {
			t.Errorf("signed out: got %d to %q, want a redirect to the sign-in page and back", p.status, p.header.Get("Location"))
		}
		wrong := b.signin(email, "not the password")
		if wrong.status != http.StatusUnauthorized {
			t.Errorf("wrong password: status %d, want 401", wrong.status)
		}
		mustContain(t, wrong, "The email or the password is not right.", `value="`+email+`"`, `aria-invalid="true"`)
		unknown := b.signin("nobody@example.org", "not the password")
		if unknown.status != wrong.status || !strings.Contains(unknown.body, "The email or the password is not right.") {
			t.Errorf("an unknown email must get the answer a wrong password gets; got %d", unknown.status)
		}

		ok := b.signin(strings.ToUpper(email), password)
		if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/admin/" {
			t.Fatalf("right password: %d to %q, want 303 to /admin/", ok.status, ok.header.Get("Location"))
		}
		var session *http.Cookie
		for _, c := range (&http.Response{Header: ok.header}).Cookies() {
			if c.Name == "dearfriend_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatal("no session cookie set")
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/admin" || session.Secure {
			t.Errorf("session cookie over http: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, /admin, not Secure",
				session.HttpOnly, session.SameSite, session.Path, session.Secure)
		}
		// The database keeps only a hash: the cookie's value names no session.
		if _, _, err := f.st.SessionUser(context.Background(), session.Value, f.clock()); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("the raw session id found a session (err %v); only its hash may be stored", err)
		}
		dash := b.get("/admin/")
		if dash.status != http.StatusOK {
			t.Fatalf("dashboard: %d", dash.status)
		}
		mustContain(t, dash, "<h1>Dashboard</h1>", email, `href="/admin/contacts"`, `href="/outbox/"`)
		if strings.Contains(dash.body, `href="/admin/users"`) {
			t.Error("an organizer sees the admins' Users entry")
		}

		// Signing out ends the session on the server, not only in the browser.
		if p := b.post("/admin/signout", url.Values{"csrf": {b.token()}}); p.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.status)
		}
		b.c.Jar.SetCookies(mustURL(t, f.srv.URL+"/admin/"), []*http.Cookie{session})
		if p := b.get("/admin/"); p.status != http.StatusSeeOther {
			t.Errorf("the old cookie after signing out: %d, want a redirect to sign in", p.status)
		}
	})
}

func TestSessionCookieSecureOverHTTPS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "https://act.example.org")
	email, password := f.mustUser(store.RoleViewer)
	p := f.browser().signin(email, password)
	cookies := (&http.Response{Header: p.header}).Cookies()
	if len(cookies) == 0 || cookies[0].Name != "dearfriend_session" || !cookies[0].Secure {
		t.Errorf("with an https public URL the session cookie must be Secure; got %v", p.header["Set-Cookie"])
	}
}

func TestSigninFormNeedsItsToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	email, password := f.mustUser(store.RoleAdmin)
	p := f.browser().post("/admin/signin", url.Values{"email": {email}, "password": {password}})
	if p.status != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %d, want 403", p.status)
	}
}

func TestSessionSlidesAndExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	email, password := f.mustUser(store.RoleViewer)
	b := f.browser()
	b.mustSignin(email, password)
	// Busy for a day, a request every 10 hours: each renews the session.
	for range 3 {
		f.advance(10 * time.Hour)
		if p := b.get("/admin/"); p.status != http.StatusOK {
			t.Fatalf("after 10 hours of activity: %d, want the page", p.status)
		}
	}
	f.advance(admin.SessionIdle + time.Minute)
	if p := b.get("/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("after %v idle: %d, want a redirect to sign in", admin.SessionIdle, p.status)
	}
}

func TestSigninRateLimit(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		email, password := f.mustUser(store.RoleAdmin)
		b := f.browser()
		for i := range admin.MaxAccountFailures {
			if p := b.signin(email, "wrong "+strings.Repeat("x", i)); p.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i+1, p.status)
			}
		}
		// Locked: even the right password waits, or guessing would go on.
		p := b.signin(email, password)
		if p.status != http.StatusTooManyRequests {
			t.Fatalf("after %d failures: %d, want 429", admin.MaxAccountFailures, p.status)
		}
		mustContain(t, p, "Too many failed sign-ins")
		f.advance(admin.FailureWindow + time.Second)
		b.mustSignin(email, password)

		// One address failing on many accounts is stopped too.
		other, otherPassword := f.mustUser(store.RoleViewer)
		guesser := f.browser()
		for i := range admin.MaxAddressFailures {
			guesser.signin("guess"+strings.Repeat("x", i)+"@example.org", "wrong password")
		}
		if p := f.browser().signin(other, otherPassword); p.status != http.StatusTooManyRequests {
			t.Errorf("after %d failures from one address: %d, want 429", admin.MaxAddressFailures, p.status)
		}
	})
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := testenv.Store(t, dsn)
		ctx := context.Background()
		for _, tc := range []struct {
			name, email, role, password, field string
		}{
			{"bad email", "not-an-email", store.RoleAdmin, "long enough password", "email"},
			{"unknown role", "a@example.org", "owner", "long enough password", "role"},
			{"short password", "a@example.org", store.RoleAdmin, "short", "password"},
			{"password over bcrypt's 72 bytes", "a@example.org", store.RoleAdmin, strings.Repeat("p", 73), "password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := admin.CreateUser(ctx, st, tc.email, tc.role, tc.password)
				if e, ok := errs.As(err); !ok || e.Field != tc.field {
					t.Errorf("got %v, want an error on %q", err, tc.field)
				}
			})
		}
		u, err := admin.CreateUser(ctx, st, "Maya@Example.org", store.RoleAdmin, "long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "maya@example.org" || u.Role != store.RoleAdmin {
			t.Errorf("created %s %s, want maya@example.org admin", u.Email, u.Role)
		}
		got, err := st.UserByEmail(ctx, "maya@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordHash == "long enough password" || bcrypt.CompareHashAndPassword([]byte(got.PasswordHash), []byte("long enough password")) != nil {
			t.Error("the stored password is not a bcrypt hash of the password")
		}
		if _, err := admin.CreateUser(ctx, st, "maya@example.org", store.RoleViewer, "another long password"); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("the same email twice: %v, want a conflict", err)
		}
		first, err := admin.EnsureFirstAdmin(ctx, st, "first@example.org")
		if err != nil || first != "" {
			t.Errorf("EnsureFirstAdmin with users present: %q, %v; want nothing created", first, err)
		}
	})
}

func TestEnsureFirstAdmin(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t, testenv.SQLite(t))
	ctx := context.Background()
	password, err := admin.EnsureFirstAdmin(ctx, st, "first@example.org")
	if err != nil || len(password) < admin.MinPassword {
		t.Fatalf("got %q, %v; want a generated password", password, err)
	}
	u, err := st.UserByEmail(ctx, "first@example.org")
	if err != nil || u.Role != store.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		t.Errorf("first admin: %+v, %v; want an admin whose password is the one returned", u, err)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
