package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func TestAddUserForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	adminEmail, password := f.mustUser(store.RoleAdmin)
	b := f.browser()
	b.mustSignin(adminEmail, password)
	form := func(email, role, password string) url.Values {
		return url.Values{"csrf": {b.token()}, "email": {email}, "role": {role}, "password": {password}}
	}

	p := b.post("/admin/users", form(adminEmail, store.RoleViewer, "long enough password"))
	if p.status != http.StatusUnprocessableEntity {
		t.Errorf("an email taken: %d, want 422", p.status)
	}
	mustContain(t, p, `id="f-email-error"`, "already exists", `value="`+adminEmail+`"`)
	if p := b.post("/admin/users", form("new@example.org", store.RoleViewer, "short")); p.status != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d, want 422", p.status)
	} else {
		mustContain(t, p, `id="f-password-error"`, "Must be 10 to 72 characters.")
	}

	p = b.post("/admin/users", form("new@example.org", store.RoleOrganizer, "long enough password"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("a good user: %d\n%s", p.status, p.body)
	}
	if u, err := f.st.UserByEmail(context.Background(), "new@example.org"); err != nil || u.Role != store.RoleOrganizer {
		t.Errorf("the new user: %+v, %v", u, err)
	}
	f.browser().mustSignin("new@example.org", "long enough password")
}
