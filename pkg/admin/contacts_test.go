package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// editForm is the contact edit form as a browser posts it.
func editForm(csrf string, changes map[string]string) url.Values {
	v := url.Values{"csrf": {csrf}, "first_name": {"Jane"}, "last_name": {"Okafor"}, "postal_code": {""}, "region": {""},
		"country": {""}, "time_zone": {""}, "source": {""}, "status": {store.ContactSubscribed}}
	for k, x := range changes {
		v.Set(k, x)
	}
	return v
}

func TestChangesNeedTokenAndRole(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		c := f.mustContact("jane@example.org", "Jane")
		path := "/admin/contacts/" + strconv.FormatInt(c.ID, 10)

		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))
		if p := organizer.post(path, editForm("", map[string]string{"first_name": "Mallory"})); p.status != http.StatusForbidden {
			t.Errorf("POST without the CSRF token: %d, want 403", p.status)
		}
		if p := organizer.post(path, editForm("forged", map[string]string{"first_name": "Mallory"})); p.status != http.StatusForbidden {
			t.Errorf("POST with a wrong CSRF token: %d, want 403", p.status)
		}

		viewer := f.browser()
		viewer.mustSignin(f.mustUser(store.RoleViewer))
		if p := viewer.post(path, editForm(viewer.token(), map[string]string{"first_name": "Mallory"})); p.status != http.StatusForbidden {
			t.Errorf("a viewer's POST with a good token: %d, want 403", p.status)
		}
		if p := viewer.get(path + "/edit"); p.status != http.StatusForbidden {
			t.Errorf("a viewer opening the edit form: %d, want 403", p.status)
		}
		if p := viewer.get("/admin/users"); p.status != http.StatusForbidden {
			t.Errorf("a viewer opening the users page: %d, want 403", p.status)
		}
		view := viewer.get(path)
		if view.status != http.StatusOK || strings.Contains(view.body, path+"/edit") {
			t.Errorf("a viewer's contact page: %d, and it must not offer Edit", view.status)
		}
		got, err := f.st.GetContact(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != "Jane" {
			t.Fatalf("a refused POST changed the contact: first name %q", got.FirstName)
		}

		p := organizer.post(path, editForm(organizer.token(), map[string]string{"first_name": "  Janet ", "country": "NG"}))
		if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?saved=contact" {
			t.Fatalf("an organizer's edit: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		if got, _ = f.st.GetContact(context.Background(), c.ID); got.FirstName != "Janet" || got.Country != "NG" {
			t.Errorf("after the edit: %q %q, want Janet NG (trimmed as the API trims)", got.FirstName, got.Country)
		}
		mustContain(t, organizer.get(path+"?saved=contact"), "The contact is saved.", "Janet")
	})
}

func TestEditContactShowsErrorsAtTheirField(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		c := f.mustContact("left@example.org", "Lee")
		if _, err := f.st.UpdateContact(context.Background(), c.ID, store.ContactPatch{Status: ptr(store.ContactUnsubscribed)}); err != nil {
			t.Fatal(err)
		}
		path := "/admin/contacts/" + strconv.FormatInt(c.ID, 10)
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleAdmin))
		for _, tc := range []struct {
			name    string
			changes map[string]string
			want    []string
		}{
			{"time zone", map[string]string{"time_zone": "Mars/Olympus", "first_name": "Kept"},
				[]string{`id="f-time_zone-error"`, "is not an IANA time zone", `value="Mars/Olympus"`, `value="Kept"`}},
			{"resubscribe", map[string]string{"status": store.ContactSubscribed},
				[]string{`id="f-status-error"`, "only the person can subscribe again"}},
			// Refused before any screen reads the form (the input rule of
			// every admin form): a 422 naming the field.
			{"two lines", map[string]string{"region": "a\nb"},
				[]string{"Region: must be one line."}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.post(path, editForm(b.token(), tc.changes))
				if p.status != http.StatusUnprocessableEntity {
					t.Errorf("status %d, want 422", p.status)
				}
				mustContain(t, p, tc.want...)
			})
		}
		got, _ := f.st.GetContact(context.Background(), c.ID)
		if got.FirstName != "Lee" || got.Status != store.ContactUnsubscribed {
			t.Errorf("a refused edit changed the contact: %q %s", got.FirstName, got.Status)
		}
	})
}

func TestContactsSearchPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	cs := make([]store.Contact, 60)
	for i := range cs {
		cs[i] = store.Contact{Email: fmt.Sprintf("river%02d@example.org", i), FirstName: "River"}
	}
	if _, err := f.st.InsertContacts(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	f.mustContact("other@example.org", "Other")
	b := f.browser()
	b.mustSignin(f.mustUser(store.RoleViewer))

	first := b.get("/admin/contacts?q=RIV")
	mustContain(t, first, "river00@example.org", "river49@example.org", `rel="next"`)
	if strings.Contains(first.body, "river50@") || strings.Contains(first.body, "other@") {
		t.Error("the first page holds more than a page, or a contact that does not match")
	}
	next := strings.ReplaceAll(nextLink.FindStringSubmatch(first.body)[1], "&amp;", "&")
	second := b.get(next)
	mustContain(t, second, "river50@example.org", "river59@example.org", "First page")
	if strings.Contains(second.body, "river49@") || strings.Contains(second.body, `rel="next"`) {
		t.Error("the second page repeats the first page, or offers a page after the last")
	}
	if p := b.get("/admin/contacts?q=" + strings.Repeat("x", 201)); p.status != http.StatusUnprocessableEntity {
		t.Errorf("a search of 201 characters: %d, want 422", p.status)
	}
}

func TestContactHistory(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := context.Background()
		c := f.mustContact("signer@example.org", "Sam")
		p := &store.Petition{Slug: "river", Title: "Save the river", Open: true}
		if err := f.st.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Sign(ctx, p.ID, c.ID, store.Attribution{Comment: "For my children"}); err != nil {
			t.Fatal(err)
		}
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleViewer))
		page := b.get("/admin/contacts/" + strconv.FormatInt(c.ID, 10))
		mustContain(t, page, "signer@example.org", "kind-signature", "Save the river", "For my children")
		if p := b.get("/admin/contacts/999999"); p.status != http.StatusNotFound {
			t.Errorf("a contact that does not exist: %d, want 404", p.status)
		}
	})
}

var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

func ptr[T any](v T) *T { return &v }

func TestContactTags(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		c := f.mustContact("tagged@example.org", "Tam")
		path := "/admin/contacts/" + strconv.FormatInt(c.ID, 10)
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))

		p := b.post(path+"/tags", url.Values{"csrf": {b.token()}, "tags": {"volunteer, semi;colon"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("a tag with a semicolon: %d, want 422", p.status)
		}
		mustContain(t, p, `id="f-tags-error"`, "without , or ;", `value="volunteer, semi;colon"`)
		if p := b.post(path+"/tags", url.Values{"csrf": {b.token()}, "tags": {" "}}); p.status != http.StatusUnprocessableEntity {
			t.Errorf("no tag: %d, want 422", p.status)
		}
		if tags, _ := f.st.ContactTags(context.Background(), c.ID); len(tags) != 0 {
			t.Fatalf("a refused form added tags: %v", tags)
		}

		if p := b.post(path+"/tags", url.Values{"csrf": {b.token()}, "tags": {"volunteer, donor "}}); p.status != http.StatusSeeOther {
			t.Fatalf("good tags: %d\n%s", p.status, p.body)
		}
		if tags, _ := f.st.ContactTags(context.Background(), c.ID); strings.Join(tags, "|") != "donor|volunteer" {
			t.Errorf("tags %v, want donor and volunteer", tags)
		}
		if p := b.post(path+"/tags/remove", url.Values{"csrf": {b.token()}, "tag": {"donor"}}); p.status != http.StatusSeeOther {
			t.Fatalf("remove a tag: %d", p.status)
		}
		page := b.get(path + "?saved=untag")
		mustContain(t, page, "The tag is removed.", `aria-label="Remove the tag volunteer"`)
		if strings.Contains(page.body, `aria-label="Remove the tag donor"`) {
			t.Error("the removed tag is still shown")
		}
	})
}

// TestLiftBounceButton: an organizer lifts a bounce from the contact page;
// a viewer is not offered the button.
func TestLiftBounceButton(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := context.Background()
		c := &store.Contact{Email: "gone@example.org", FirstName: "Gone", Status: store.ContactBounced}
		if err := f.st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.AddSuppressions(ctx, []store.Suppression{{Email: c.Email, Reason: "bounced: 550 5.1.1 no such user"}}); err != nil {
			t.Fatal(err)
		}
		path := "/admin/contacts/" + strconv.FormatInt(c.ID, 10)
		viewer := f.browser()
		viewer.mustSignin(f.mustUser(store.RoleViewer))
		if p := viewer.get(path); strings.Contains(p.body, path+"/bounce/lift") {
			t.Error("a viewer is offered to lift the bounce")
		}
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))
		mustContain(t, b.get(path), `action="`+path+`/bounce/lift"`, "Lift the bounce")
		if p := b.post(path+"/bounce/lift", url.Values{"csrf": {b.token()}}); p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?saved=bounce_lifted" {
			t.Fatalf("lift: %d to %q", p.status, p.header.Get("Location"))
		}
		mustContain(t, b.get(path+"?saved=bounce_lifted"), "The bounce is lifted")
		if got, _ := f.st.GetContact(ctx, c.ID); got.Status != store.ContactSubscribed {
			t.Errorf("contact is %s after the lift, want subscribed", got.Status)
		}
		if ok, err := f.st.IsSuppressed(ctx, c.Email); err != nil || ok {
			t.Errorf("suppressed after the lift = %v, %v", ok, err)
		}
		if p := b.post(path+"/bounce/lift", url.Values{"csrf": {b.token()}}); p.status != http.StatusConflict {
			t.Errorf("lift a contact no longer bounced: %d, want 409", p.status)
		}
	})
}
