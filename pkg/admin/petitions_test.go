package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// petitionValues is a valid petition form; set overrides fields.
func petitionValues(csrf string, set map[string]string) url.Values {
	v := url.Values{"csrf": {csrf}, "title": {"Save the Northfork"}, "slug": {"northfork"}, "kind": {"petition"},
		"target": {"Governor Ruiz"}, "petition_text": {"<p>Deny the permit.</p>"}, "goal": {"1000"}, "state": {"open"},
		"thank_you_text": {"Thank you!"}, "share_text": {"I signed."}, "org_order": {"approved"}}
	for k, s := range set {
		v.Set(k, s)
	}
	return v
}

func TestPetitionScreens(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := context.Background()
		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleOrganizer))
		token := b.token()

		// Bad input: each error at its field, what was typed kept, nothing created.
		p := b.post("/admin/petitions", petitionValues(token, map[string]string{"slug": "Not A Slug", "goal": "lots"}))
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad petition: %d, want 422\n%s", p.status, p.body)
		}
		mustContain(t, p, `id="f-goal-error">Type a whole number of signatures, or 0 for no goal.`,
			`id="f-slug-error">Must be 1 to 64 lowercase letters`, `value="Not A Slug"`, `value="lots"`, "&lt;p&gt;Deny the permit.&lt;/p&gt;</textarea>")
		if ps, _ := f.st.ListPetitions(ctx); len(ps) != 0 {
			t.Fatalf("a refused form created %d petitions", len(ps))
		}

		p = b.post("/admin/petitions", petitionValues(token, nil))
		if p.status != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "?saved=created") {
			t.Fatalf("create: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
		}
		pet, err := f.st.PetitionBySlug(ctx, "northfork")
		if err != nil {
			t.Fatal(err)
		}
		if pet.Title != "Save the Northfork" || pet.Target != "Governor Ruiz" || pet.Goal != 1000 || !pet.Open {
			t.Errorf("created %+v", pet)
		}
		id := strconv.FormatInt(pet.ID, 10)

		// The same slug again is refused at the slug field.
		p = b.post("/admin/petitions", petitionValues(token, map[string]string{"title": "Another"}))
		mustContain(t, p, `id="f-slug-error">A petition with slug &#34;northfork&#34; already exists.`)

		// Edit: close it and change the goal.
		p = b.post("/admin/petitions/"+id, petitionValues(token, map[string]string{"state": "closed", "goal": "500", "title": "Save the Northfork River"}))
		if p.status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", p.status, p.body)
		}
		if pet, _ = f.st.GetPetition(ctx, pet.ID); pet.Open || pet.Goal != 500 || pet.Title != "Save the Northfork River" {
			t.Errorf("after edit: %+v", pet)
		}
		p = b.post("/admin/petitions/"+id, petitionValues(token, map[string]string{"title": ""}))
		mustContain(t, p, `id="f-title-error">Is required, at most 200 characters.`)

		// Signatures: 51 people, one brought by a campaign; the page lists 50 and links the next.
		var people []*store.Contact
		for i := range 51 {
			people = append(people, f.mustContact(fmt.Sprintf("s%02d@example.org", i), fmt.Sprintf("Signer%02d", i)))
		}
		c, rs := mustSentCampaign(t, f.st, "Northfork alert", people[:1])
		for i, person := range people {
			at := store.Attribution{City: "Riverton"}
			if i == 0 {
				at.CampaignID, at.SendID = c.ID, rs[0].SendID
			}
			if _, err := f.st.Sign(ctx, pet.ID, person.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		p = b.get("/admin/petitions/" + id)
		mustContain(t, p, "Save the Northfork River", "51 of a goal of 500 (10.2%)", "Signer00", "Signer49", `rel="next"`,
			`>Northfork alert</a>: 1`, `role="img"`, "Signatures by day (UTC)")
		if strings.Contains(p.body, "Signer50") {
			t.Error("the first page lists the 51st signature")
		}
		next := nextLink.FindStringSubmatch(p.body)
		if next == nil {
			t.Fatal("no next page link")
		}
		mustContain(t, b.get(strings.ReplaceAll(next[1], "&amp;", "&")), "Signer50", "First page")

		// The export is the API's: names, no email address.
		resp, err := b.c.Get(f.srv.URL + "/admin/petitions/" + id + "/signatures.csv")
		if err != nil {
			t.Fatal(err)
		}
		csv := read(t, resp)
		if ct := csv.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.HasPrefix(csv.body, "first_name,last_name,city,") ||
			!strings.Contains(csv.body, "Signer50,,Riverton") || strings.Contains(csv.body, "@example.org") {
			t.Errorf("export: %s\n%s", ct, csv.body)
		}
	})
}

// TestLetterOrganizations approves and rejects organizations of a sign-on
// letter; a viewer can read the letter but decides nothing.
func TestLetterOrganizations(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	ctx := context.Background()
	letter := &store.Petition{Slug: "letter", Title: "Open letter", Kind: store.PetitionKindLetter, Open: true}
	if err := f.st.CreatePetition(ctx, letter); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"River Keepers", "Spam Inc"} {
		o := &store.OrganizationSignature{PetitionID: letter.ID, Organization: name, ContactName: "Ana", Email: strings.ReplaceAll(name, " ", "") + "@example.org"}
		if _, err := f.st.SignLetter(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := f.st.OrganizationSignatures(ctx, letter.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	orgs := map[string]store.OrganizationSignature{}
	for _, o := range signed {
		orgs[o.Organization] = o
	}
	base := "/admin/petitions/" + strconv.FormatInt(letter.ID, 10)
	decide := func(b *browser, org, verb string) page {
		return b.post(base+"/organizations/"+strconv.FormatInt(orgs[org].ID, 10)+"/"+verb, url.Values{"csrf": {b.token()}})
	}

	viewer := f.browser()
	viewer.mustSignin(f.mustUser(store.RoleViewer))
	p := viewer.get(base)
	mustContain(t, p, "River Keepers", "Spam Inc", "pending")
	if strings.Contains(p.body, "/approve") {
		t.Error("a viewer is shown the approve buttons")
	}
	if p := decide(viewer, "River Keepers", "approve"); p.status != http.StatusForbidden {
		t.Errorf("a viewer approves: %d, want 403", p.status)
	}
	if p := viewer.get(base + "/edit"); p.status != http.StatusForbidden {
		t.Errorf("a viewer opens the edit form: %d, want 403", p.status)
	}
	if p := viewer.post("/admin/petitions", petitionValues(viewer.token(), map[string]string{"slug": "by-viewer"})); p.status != http.StatusForbidden {
		t.Errorf("a viewer creates a petition: %d, want 403", p.status)
	}
	if p := viewer.get(base + "/signatures.csv"); p.status != http.StatusForbidden {
		t.Errorf("a viewer exports signatures: %d, want 403", p.status)
	}

	org := f.browser()
	org.mustSignin(f.mustUser(store.RoleOrganizer))
	// Without the CSRF token nothing is decided.
	if p := org.post(base+"/organizations/"+strconv.FormatInt(orgs["River Keepers"].ID, 10)+"/approve", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("approve without CSRF: %d, want 403", p.status)
	}
	if p := decide(org, "River Keepers", "approve"); p.status != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", p.status, p.body)
	}
	if p := decide(org, "Spam Inc", "reject"); p.status != http.StatusSeeOther {
		t.Fatalf("reject: %d\n%s", p.status, p.body)
	}
	approved, err := f.st.ApprovedOrganizations(ctx, letter)
	if err != nil {
		t.Fatal(err)
	}
	if len(approved) != 1 || approved[0].Organization != "River Keepers" {
		t.Errorf("approved: %+v, want River Keepers alone", approved)
	}
	p = org.get(base + "?saved=approved")
	mustContain(t, p, "The organization is approved", `status-approved">approved`, `status-rejected">rejected`)
	if p := org.get(base + "/signatures.csv"); !strings.Contains(p.body, "River Keepers,Ana,") || strings.Contains(p.body, "Spam Inc") {
		t.Errorf("letter export:\n%s", p.body)
	}
	// A letter counts organizations, as its chart says, and numbers are
	// written as people read them.
	letter.Goal = 50000
	if err := f.st.UpdatePetition(ctx, letter); err != nil {
		t.Fatal(err)
	}
	mustContain(t, org.get(base), "1 approved of a goal of 50,000", "Organizations signed on: 2</title>", "Organizations signed on by day (UTC)",
		`<text class="unit" x="4" y="30.0" dy="-8">organizations</text>`)
	mustContain(t, org.get("/admin/petitions"), `data-label="Signatures">1 <span class="sub">organizations</span>`, `data-label="Goal">50,000<`)
}
