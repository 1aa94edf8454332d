package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// mustUserID returns the id of the user with email.
func (f *fixture) mustUserID(email string) string {
	f.t.Helper()
	u, err := f.st.UserByEmail(context.Background(), email)
	if err != nil {
		f.t.Fatal(err)
	}
	return strconv.FormatInt(u.ID, 10)
}

// signedOut reports whether the browser's session no longer works.
func (b *browser) signedOut() bool {
	b.f.t.Helper()
	p := b.get("/admin/")
	return p.status == http.StatusSeeOther && p.header.Get("Location") == "/admin/signin?next=%2Fadmin%2F"
}

func TestLastAdminStays(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		email, password := f.mustUser(store.RoleAdmin)
		me := f.mustUserID(email)
		b := f.browser()
		b.mustSignin(email, password)
		for _, tc := range []struct {
			name, path string
			form       url.Values
		}{
			{"demote", "/admin/users/" + me + "/role", url.Values{"role": {store.RoleOrganizer}}},
			{"disable", "/admin/users/" + me + "/disable", url.Values{}},
		} {
			tc.form.Set("csrf", b.token())
			p := b.post(tc.path, tc.form)
			if p.status != http.StatusConflict {
				t.Errorf("%s the last admin: %d, want 409", tc.name, p.status)
			}
			mustContain(t, p, `role="alert"`, "The last admin who can sign in is "+email+": make another user an admin first.")
		}
		if u, _ := f.st.UserByEmail(context.Background(), email); u.Role != store.RoleAdmin || u.DisabledAt != nil {
			t.Fatalf("a refused change changed the last admin: %+v", u)
		}
		if p := b.post("/admin/users/"+me+"/role", url.Values{"csrf": {b.token()}, "role": {"owner"}}); p.status != http.StatusConflict {
			t.Errorf("an unknown role: %d, want a refusal", p.status)
		} else {
			mustContain(t, p, "Must be viewer, organizer or admin.")
		}
		if p := b.post("/admin/users/999999/disable", url.Values{"csrf": {b.token()}}); p.status != http.StatusNotFound {
			t.Errorf("disabling an unknown user: %d, want 404", p.status)
		}

		// With a second admin, the first may step down.
		other, _ := f.mustUser(store.RoleOrganizer)
		if p := b.post("/admin/users/"+f.mustUserID(other)+"/role", url.Values{"csrf": {b.token()}, "role": {store.RoleAdmin}}); p.status != http.StatusSeeOther {
			t.Fatalf("promoting: %d\n%s", p.status, p.body)
		}
		if p := b.post("/admin/users/"+me+"/role", url.Values{"csrf": {b.token()}, "role": {store.RoleViewer}}); p.status != http.StatusSeeOther {
			t.Fatalf("stepping down: %d\n%s", p.status, p.body)
		}
		if p := b.get("/admin/users"); p.status != http.StatusForbidden {
			t.Errorf("a viewer now, the users page: %d, want 403", p.status)
		}
	})
}

func TestDisableUser(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		admin := f.browser()
		admin.mustSignin(f.mustUser(store.RoleAdmin))
		email, password := f.mustUser(store.RoleOrganizer)
		id := f.mustUserID(email)
		them := f.browser()
		them.mustSignin(email, password)

		p := admin.post("/admin/users/"+id+"/disable", url.Values{"csrf": {admin.token()}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/users?done=disabled" {
			t.Fatalf("disabling: %d %s", p.status, p.header.Get("Location"))
		}
		mustContain(t, admin.get("/admin/users?done=disabled"), "The user is disabled", "disabled</span>", `aria-label="Enable `+email+`"`)
		if !them.signedOut() {
			t.Error("the disabled user's session still works")
		}
		if p := f.browser().signin(email, password); p.status != http.StatusForbidden {
			t.Errorf("a disabled user signing in: %d, want 403", p.status)
		} else {
			mustContain(t, p, "This account is disabled.")
		}

		if p := admin.post("/admin/users/"+id+"/enable", url.Values{"csrf": {admin.token()}}); p.status != http.StatusSeeOther {
			t.Fatalf("enabling: %d", p.status)
		}
		f.browser().mustSignin(email, password)
	})
}

var resetURL = regexp.MustCompile(`<code>https?://[^/]+(/admin/reset/[^<]+)</code>`)

// mustResetLink makes a reset link for user id as admin and returns its path.
func mustResetLink(t *testing.T, admin *browser, id string) string {
	t.Helper()
	p := admin.post("/admin/users/"+id+"/reset", url.Values{"csrf": {admin.token()}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/users?reset="+id {
		t.Fatalf("making a reset link: %d %s", p.status, p.header.Get("Location"))
	}
	shown := admin.get(p.header.Get("Location"))
	m := resetURL.FindStringSubmatch(shown.body)
	if m == nil {
		t.Fatalf("no reset link on the page:\n%s", shown.body)
	}
	mustContain(t, admin.get(p.header.Get("Location")), "was shown once already") // a reload does not show it again
	return m[1]
}

func TestResetLink(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		admin := f.browser()
		admin.mustSignin(f.mustUser(store.RoleAdmin))
		email, password := f.mustUser(store.RoleOrganizer)
		id := f.mustUserID(email)
		them := f.browser()
		them.mustSignin(email, password)
		link := mustResetLink(t, admin, id)

		b := f.browser()
		page := b.get(link)
		if page.status != http.StatusOK {
			t.Fatalf("opening the link: %d", page.status)
		}
		mustContain(t, page, "For "+email)
		form := func(pw, again string) url.Values {
			return url.Values{"csrf": {b.get(link).csrf(t)}, "password": {pw}, "password2": {again}}
		}
		for _, tc := range []struct {
			name string
			form func() url.Values // each opens the page: its token replaces the one before
			code int
			want string
		}{
			{"weak", func() url.Values { return form("short", "short") }, http.StatusUnprocessableEntity, `id="f-password-error"`},
			{"differ", func() url.Values { return form("a long new password", "a long new passwort") }, http.StatusUnprocessableEntity, `id="f-password2-error"`},
			{"no token", func() url.Values {
				return url.Values{"password": {"a long new password"}, "password2": {"a long new password"}}
			},
				http.StatusForbidden, "This form has expired."},
		} {
			p := b.post(link, tc.form())
			if p.status != tc.code {
				t.Errorf("%s: %d, want %d", tc.name, p.status, tc.code)
			}
			mustContain(t, p, tc.want)
		}
		if them.signedOut() {
			t.Fatal("a refused reset ended the user's session")
		}
		p := b.post(link, form("a long new password", "a long new password"))
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/signin?done=reset" {
			t.Fatalf("resetting: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
		}
		mustContain(t, b.get("/admin/signin?done=reset"), "Your new password is set.")
		if !them.signedOut() {
			t.Error("the user's session survived the reset")
		}
		if p := f.browser().signin(email, password); p.status != http.StatusUnauthorized {
			t.Errorf("the old password: %d, want 401", p.status)
		}
		f.browser().mustSignin(email, "a long new password")
		if p := b.get(link); p.status != http.StatusGone {
			t.Errorf("a used link: %d, want 410", p.status)
		}
		if p := b.post(link, url.Values{"password": {"another long password"}, "password2": {"another long password"}}); p.status != http.StatusGone {
			t.Errorf("posting to a used link: %d, want 410", p.status)
		}

		// A link expires after a day; a newer link replaces an older one.
		older := mustResetLink(t, admin, id)
		expiring := mustResetLink(t, admin, id)
		if p := b.get(older); p.status != http.StatusGone {
			t.Errorf("a link replaced by a newer one: %d, want 410", p.status)
		}
		csrf := b.get(expiring).csrf(t)
		f.advance(24*time.Hour + time.Minute)
		if p := b.get(expiring); p.status != http.StatusGone {
			t.Errorf("an expired link: %d, want 410", p.status)
		}
		if p := b.post(expiring, url.Values{"csrf": {csrf}, "password": {"another long password"}, "password2": {"another long password"}}); p.status != http.StatusGone {
			t.Errorf("posting to an expired link: %d, want 410", p.status)
		}
		if p := b.get("/admin/reset/not-a-token"); p.status != http.StatusGone {
			t.Errorf("an unknown link: %d, want 410", p.status)
		}
	})
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		email, password := f.mustUser(store.RoleViewer)
		b, other := f.browser(), f.browser()
		b.mustSignin(email, password)
		other.mustSignin(email, password)
		mustContain(t, b.get("/admin/account"), `id="f-current_password"`, `href="/admin/account"`)
		form := func(current, pw, again string) url.Values {
			return url.Values{"csrf": {b.token()}, "current_password": {current}, "password": {pw}, "password2": {again}}
		}
		for _, tc := range []struct {
			name string
			form url.Values
			want string
		}{
			{"wrong current", form("not my password", "a long new password", "a long new password"), `id="f-current_password-error"`},
			{"weak", form(password, "short", "short"), `id="f-password-error"`},
			{"too long", form(password, strings.Repeat("x", 73), ""), "Must be 10 to 72 characters."},
			{"differ", form(password, "a long new password", "a long other password"), `id="f-password2-error"`},
		} {
			p := b.post("/admin/account/password", tc.form)
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", tc.name, p.status)
			}
			mustContain(t, p, tc.want)
		}
		if other.signedOut() {
			t.Fatal("a refused change ended a session")
		}
		p := b.post("/admin/account/password", form(password, "a long new password", "a long new password"))
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/account?saved=password" {
			t.Fatalf("changing: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
		}
		mustContain(t, b.get("/admin/account?saved=password"), "Your password is changed.")
		if !other.signedOut() {
			t.Error("the other session survived the change")
		}
		if b.signedOut() {
			t.Error("the session that changed the password ended")
		}
		f.browser().mustSignin(email, "a long new password")
		if p := b.post("/admin/account/password", url.Values{"current_password": {"a long new password"}, "password": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d, want 403", p.status)
		}
	})
}
