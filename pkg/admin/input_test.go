package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestInputRules checks that every admin form and query refuses, with a 422
// naming the field, CR LF, NUL, other control characters and invalid UTF-8,
// and changes nothing; a petition's text keeps its lines.
func TestInputRules(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		c := f.mustContact("jane@example.org", "Jane")
		path := "/admin/contacts/" + strconv.FormatInt(c.ID, 10)
		admin := f.browser()
		admin.mustSignin(f.mustUser(store.RoleAdmin))
		token := admin.token()
		for _, tc := range []struct {
			name, path string
			form       url.Values
			field      string
		}{
			{"header injection in a contact's name", path, editForm(token, map[string]string{"first_name": "Evil\r\nBcc: x@example.org"}), "First_name"},
			{"NUL in a contact's postal code", path, editForm(token, map[string]string{"postal_code": "1\x00"}), "Postal_code"},
			{"invalid UTF-8 in a region", path, editForm(token, map[string]string{"region": "N\xffY"}), "Region"},
			{"LF in a tag", path + "/tags", url.Values{"csrf": {token}, "tags": {"a\nb"}}, "Tags"},
			{"LF in a petition title", "/admin/petitions", url.Values{"csrf": {token}, "slug": {"s"}, "title": {"a\nb"}}, "Title"},
			{"escape in a user's email", "/admin/users", url.Values{"csrf": {token}, "email": {"x@example.org\x1b"}, "role": {"viewer"}}, "Email"},
			{"C1 control in a topic", "/admin/settings/topics", url.Values{"csrf": {token}, "name": {"News\u0085"}}, "Name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := admin.post(tc.path, tc.form)
				if p.status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422:\n%s", p.status, p.body)
				}
				mustContain(t, p, tc.field+": ")
			})
		}
		got, err := f.st.GetContact(context.Background(), c.ID)
		if err != nil || got.FirstName != "Jane" || got.PostalCode != "" {
			t.Errorf("contact after refused forms: %+v, %v", got, err)
		}
		if p := admin.get("/admin/contacts?q=%00"); p.status != http.StatusUnprocessableEntity {
			t.Errorf("NUL in the search: %d, want 422", p.status)
		}
		if p := f.browser().post("/admin/signin", url.Values{"email": {"a@example.org\x00"}, "password": {"x"}}); p.status != http.StatusUnprocessableEntity {
			t.Errorf("NUL in the sign-in form: %d, want 422", p.status)
		}
		// A petition's text may hold lines.
		p := admin.post("/admin/petitions", url.Values{"csrf": {token}, "slug": {"river"}, "title": {"Save the river"},
			"petition_text": {"Dear Governor,\r\nsave it."}, "goal": {"0"}, "kind": {"petition"}, "org_order": {""}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create petition: %d\n%s", p.status, p.body)
		}
		pet, err := f.st.PetitionBySlug(context.Background(), "river")
		if err != nil || pet.PetitionText != "Dear Governor,\r\nsave it." {
			t.Errorf("petition %+v, %v", pet, err)
		}
	})
}
