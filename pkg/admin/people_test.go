package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// mustPerson makes Jane: custom fields, a list, a tag, sent a campaign,
// a petition and a letter signed.
func (f *fixture) mustPerson() (*store.Contact, *store.Campaign) {
	f.t.Helper()
	ctx := context.Background()
	jane := &store.Contact{Email: "jane@example.org", FirstName: "Jane", Attributes: map[string]any{"gift": 25.0, "donor": true, "chapter": "Albany"}}
	if err := f.st.CreateContact(ctx, jane); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.AddContactTags(ctx, jane.ID, []string{"volunteer"}); err != nil {
		f.t.Fatal(err)
	}
	c, _ := mustSentCampaign(f.t, f.st, "Protect the Northfork", []*store.Contact{jane})
	p := &store.Petition{Slug: "northfork", Title: "Save the Northfork", Open: true}
	letter := &store.Petition{Slug: "letter", Title: "Letter to the Governor", Kind: store.PetitionKindLetter, Open: true}
	for _, x := range []*store.Petition{p, letter} {
		if err := f.st.CreatePetition(ctx, x); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := f.st.Sign(ctx, p.ID, jane.ID, store.Attribution{CampaignID: c.ID, Comment: "For the river"}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.SignLetter(ctx, &store.OrganizationSignature{PetitionID: letter.ID, Organization: "River Friends",
		ContactName: "Jane", Email: "Jane@example.org"}); err != nil {
		f.t.Fatal(err)
	}
	return jane, c
}

func TestContactProfileAndLists(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		jane, _ := f.mustPerson()
		other := &store.List{Name: "Volunteers"}
		if err := f.st.CreateList(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		path := "/admin/contacts/" + strconv.FormatInt(jane.ID, 10)
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))
		mustContain(t, b.get(path), "Protect the Northfork", // the list mustSentCampaign made, and the campaign
			"<dt>chapter</dt><dd>Albany", "<dt>gift</dt><dd>25", "volunteer",
			"Save the Northfork", "For the river", "Letter to the Governor", "for River Friends (pending)",
			`<option value="`+strconv.FormatInt(other.ID, 10)+`">Volunteers</option>`, "export.json", "/erase")

		for _, tc := range []struct {
			name, list string
		}{{"no list", ""}, {"not a number", "x"}, {"gone", "999999"}} {
			p := b.post(path+"/lists", url.Values{"csrf": {b.token()}, "list": {tc.list}})
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", tc.name, p.status)
			}
			mustContain(t, p, `id="f-list-error"`)
		}
		p := b.post(path+"/lists", url.Values{"csrf": {b.token()}, "list": {strconv.FormatInt(other.ID, 10)}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?saved=listed" {
			t.Fatalf("adding to a list: %d %s", p.status, p.header.Get("Location"))
		}
		lists := func() []string {
			ls, err := f.st.ContactLists(context.Background(), jane.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, l := range ls {
				names = append(names, l.Name)
			}
			return names
		}
		if got := strings.Join(lists(), ","); got != "Protect the Northfork,Volunteers" {
			t.Errorf("lists after adding: %s", got)
		}
		mustContain(t, b.get(path+"?saved=listed"), "The contact is added to the list.", `aria-label="Remove from the list Volunteers"`)
		p = b.post(path+"/lists/remove", url.Values{"csrf": {b.token()}, "list": {strconv.FormatInt(other.ID, 10)}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("taking off a list: %d", p.status)
		}
		if got := strings.Join(lists(), ","); got != "Protect the Northfork" {
			t.Errorf("lists after removing: %s", got)
		}
		if p := b.post(path+"/lists/remove", url.Values{"csrf": {b.token()}, "list": {"x"}}); p.status != http.StatusBadRequest {
			t.Errorf("removing from list x: %d, want 400", p.status)
		}
	})
}

func TestEditCustomFields(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		jane := &store.Contact{Email: "jane@example.org", FirstName: "Jane", Attributes: map[string]any{"gift": 25.0, "donor": true, "chapter": "Albany"}}
		if err := f.st.CreateContact(context.Background(), jane); err != nil {
			t.Fatal(err)
		}
		path := "/admin/contacts/" + strconv.FormatInt(jane.ID, 10)
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))
		mustContain(t, b.get(path+"/edit"), `name="attr.gift" type="text" value="25"`, `name="attr.donor" type="text" value="true"`,
			`name="attr.chapter" type="text" value="Albany"`, `id="f-new_key"`)
		form := func(changes map[string]string) url.Values {
			v := editForm(b.token(), map[string]string{"attr.gift": "25", "attr.donor": "true", "attr.chapter": "Albany", "new_type": "string"})
			for k, x := range changes {
				v.Set(k, x)
			}
			return v
		}
		for _, tc := range []struct {
			name    string
			changes map[string]string
			want    []string
		}{
			{"a number that is not", map[string]string{"attr.gift": "lots"}, []string{`id="f-attr.gift-error"`, `is not a number`, `value="lots"`}},
			{"a bool that is not", map[string]string{"attr.donor": "maybe"}, []string{`id="f-attr.donor-error"`, "is not true or false"}},
			{"a new field without a name", map[string]string{"new_value": "x"}, []string{`id="f-new_key-error"`, "Name the new custom field."}},
			{"a bad name", map[string]string{"new_key": "Member Since", "new_value": "x"}, []string{`id="f-new_key-error"`, "lower-case letters"}},
			{"a name taken", map[string]string{"new_key": "gift", "new_value": "3"}, []string{`id="f-new_key-error"`, "change it above"}},
			{"no value", map[string]string{"new_key": "since"}, []string{`id="f-new_value-error"`}},
			{"a bad date", map[string]string{"new_key": "since", "new_type": "date", "new_value": "soon"}, []string{`id="f-new_value-error"`, "is not a date"}},
			{"a bad type", map[string]string{"new_key": "since", "new_type": "color", "new_value": "red"}, []string{`id="f-new_type-error"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.post(path, form(tc.changes))
				if p.status != http.StatusUnprocessableEntity {
					t.Errorf("status %d, want 422", p.status)
				}
				mustContain(t, p, tc.want...)
			})
		}
		got, _ := f.st.GetContact(context.Background(), jane.ID)
		if len(got.Attributes) != 3 || got.Attributes["gift"] != 25.0 {
			t.Fatalf("a refused edit changed the custom fields: %v", got.Attributes)
		}
		p := b.post(path, form(map[string]string{"attr.gift": "40.5", "attr.chapter": "", "new_key": "since", "new_type": "date", "new_value": "2026-05-04"}))
		if p.status != http.StatusSeeOther {
			t.Fatalf("a good edit: %d\n%s", p.status, p.body)
		}
		got, _ = f.st.GetContact(context.Background(), jane.ID)
		want := map[string]any{"gift": 40.5, "donor": true, "since": "2026-05-04"}
		if len(got.Attributes) != len(want) || got.Attributes["gift"] != 40.5 || got.Attributes["donor"] != true || got.Attributes["since"] != "2026-05-04" {
			t.Errorf("custom fields after the edit: %v, want %v", got.Attributes, want)
		}
	})
}

func TestExportAndErase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		jane, c := f.mustPerson()
		path := "/admin/contacts/" + strconv.FormatInt(jane.ID, 10)
		viewer := f.browser()
		viewer.mustSignin(f.mustUser(store.RoleViewer))
		for _, p := range []page{viewer.get(path + "/export.json"), viewer.get(path + "/erase"),
			viewer.post(path+"/erase", url.Values{"csrf": {viewer.token()}, "confirm": {jane.Email}})} {
			if p.status != http.StatusForbidden {
				t.Errorf("a viewer exporting or erasing: %d, want 403", p.status)
			}
		}

		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))
		p := b.get(path + "/export.json")
		if p.status != http.StatusOK || p.header.Get("Content-Disposition") != `attachment; filename="contact-`+strconv.FormatInt(jane.ID, 10)+`.json"` {
			t.Fatalf("export: %d %q", p.status, p.header.Get("Content-Disposition"))
		}
		var rec store.PersonRecord
		if err := json.Unmarshal([]byte(p.body), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Contact.Email != jane.Email || rec.Contact.Attributes["chapter"] != "Albany" || len(rec.Lists) != 1 || len(rec.Tags) != 1 ||
			len(rec.Signatures) != 1 || len(rec.Letters) != 1 || len(rec.Sends) != 1 || rec.Sends[0].Campaign != "Protect the Northfork" {
			t.Errorf("the export: %+v", rec)
		}

		mustContain(t, b.get(path+"/erase"), "Type the address to confirm", jane.Email)
		for _, typed := range []string{"", "lin@example.org"} {
			p := b.post(path+"/erase", url.Values{"csrf": {b.token()}, "confirm": {typed}})
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("confirming with %q: %d, want 422", typed, p.status)
			}
			mustContain(t, p, `id="f-confirm-error"`, "Type the address jane@example.org to confirm.")
		}
		if _, err := f.st.GetContact(context.Background(), jane.ID); err != nil {
			t.Fatalf("a refused erasure erased: %v", err)
		}
		for _, p := range []page{b.get("/admin/contacts/999999/erase"), b.post("/admin/contacts/999999/erase", url.Values{"csrf": {b.token()}, "confirm": {"x@example.org"}})} {
			if p.status != http.StatusNotFound {
				t.Errorf("erasing an unknown id: %d, want 404", p.status)
			}
		}
		before, err := f.st.Stats(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}

		p = b.post(path+"/erase", url.Values{"csrf": {b.token()}, "confirm": {"JANE@example.org"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/contacts?erased=") {
			t.Fatalf("erasing: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
		}
		mustContain(t, b.get(p.header.Get("Location")), "The person&#39;s data is erased.")
		if _, err := f.st.GetContact(context.Background(), jane.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("the erased contact: %v, want not found", err)
		}
		for _, p := range []page{b.get(path), b.get(path + "/export.json"), b.post(path+"/erase", url.Values{"csrf": {b.token()}, "confirm": {jane.Email}})} {
			if p.status != http.StatusNotFound {
				t.Errorf("the erased contact's pages: %d, want 404", p.status)
			}
		}
		if strings.Contains(b.get("/admin/contacts").body, "jane@") {
			t.Error("the contacts list still shows Jane")
		}
		after, err := f.st.Stats(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if before.Sends[store.SendSent] != 1 || after.Sends[store.SendSent] != 1 {
			t.Errorf("the campaign's sent count: %d before, %d after; want 1 and 1", before.Sends[store.SendSent], after.Sends[store.SendSent])
		}
		sups, err := f.st.SuppressionsOf(context.Background(), "jane@example.org")
		if err != nil || len(sups) != 1 || sups[0].Reason != store.ErasedReason {
			t.Errorf("the suppression left: %+v, %v", sups, err)
		}
	})
}
