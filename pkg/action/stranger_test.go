package action_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestStrangerCannotRewrite checks that a visitor who is not recognized and
// types a known supporter's address signs for them (once, not listed by
// name) but changes nothing of them; the changes wait for the link mailed to
// the address, whose GET only asks and whose POST applies them.
func TestStrangerCannotRewrite(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		ctx := context.Background()
		unsub := store.ContactUnsubscribed
		if _, err := f.s.UpdateContact(ctx, f.jane.ID, store.ContactPatch{Status: &unsub}); err != nil {
			t.Fatal(err)
		}
		type view struct {
			Status, First, Last, Postal string
			Consent                     bool
		}
		look := func() view {
			c, err := f.s.GetContact(ctx, f.jane.ID)
			if err != nil {
				t.Fatal(err)
			}
			return view{c.Status, c.FirstName, c.LastName, c.PostalCode, c.ConsentAt != nil}
		}
		before := look()

		_, csrf := f.get(t, f.srv.URL+"/a/river")
		evil := url.Values{"csrf": {csrf}, "email": {"jane@example.org"}, "first_name": {"Evil"}, "last_name": {"Twin"},
			"postal_code": {"66666"}, "city": {"Mordor"}, "opt_in": {"1"}, "show_name": {"1"}}
		for range 2 {
			status, body := f.post(t, evil)
			if status != http.StatusOK || strings.Contains(body, "Jane") {
				t.Fatalf("stranger's sign: %d (and the page must not show Jane's name)\n%s", status, body)
			}
		}
		if diff := cmp.Diff(before, look()); diff != "" {
			t.Errorf("a stranger changed Jane (-want +got):\n%s", diff)
		}
		f.wantCount(t, 1)
		if page, _ := f.get(t, f.srv.URL+"/a/river"); strings.Contains(page, "Evil") || strings.Contains(page, "Mordor") {
			t.Errorf("the stranger's name is public before any confirmation:\n%s", page)
		}
		sent := f.confirms.all()
		if len(sent) != 1 {
			t.Fatalf("confirmations %v, want one", sent)
		}
		var link string
		for _, l := range sent {
			link = l
		}
		if !strings.HasPrefix(link, "https://act.example.org/a/river/confirm/") {
			t.Fatalf("confirmation link %q", link)
		}
		link = f.srv.URL + strings.TrimPrefix(link, "https://act.example.org")

		// A scanner's GET changes nothing; an altered link is refused.
		page, _ := f.get(t, link)
		if !strings.Contains(page, "Confirm these changes") || !strings.Contains(page, "My name is Evil Twin") {
			t.Errorf("confirmation page:\n%s", page)
		}
		if diff := cmp.Diff(before, look()); diff != "" {
			t.Errorf("GET of the link changed Jane (-want +got):\n%s", diff)
		}
		if resp, err := f.client.PostForm(link[:len(link)-2]+"xx", nil); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("altered link: %v, %v; want 404", resp.StatusCode, err)
		}
		resp, err := f.client.PostForm(link, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("confirm: %v, %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		if diff := cmp.Diff(view{store.ContactSubscribed, "Evil", "Twin", "66666", true}, look()); diff != "" {
			t.Errorf("after confirming (-want +got):\n%s", diff)
		}
		if page, _ := f.get(t, f.srv.URL+"/a/river"); !strings.Contains(page, "<li>Evil, Mordor</li>") {
			t.Errorf("the confirmed signer is not listed:\n%s", page)
		}
		f.wantCount(t, 1)
	})
}

// TestStrangerConfirmationExpires checks that a confirmation link older than
// 7 days applies nothing.
func TestStrangerConfirmationExpires(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		f.post(t, url.Values{"csrf": {csrf}, "email": {"jane@example.org"}, "first_name": {"Evil"}, "last_name": {"Twin"}})
		var link string
		for _, l := range f.confirms.all() {
			link = f.srv.URL + strings.TrimPrefix(l, "https://act.example.org")
		}
		f.advance(8 * 24 * time.Hour)
		resp, err := f.client.PostForm(link, nil)
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("expired link: %v, %v; want 404", resp.StatusCode, err)
		}
		if c, _ := f.s.GetContact(context.Background(), f.jane.ID); c.FirstName != "Jane" {
			t.Errorf("an expired link renamed Jane to %q", c.FirstName)
		}
	})
}

// TestRecognizedStillUpdates checks that a recipient recognized by their
// link is listed by name at once, as before.
func TestRecognizedStillUpdates(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.janeLink)
		token := strings.SplitN(f.janeLink, "?r=", 2)[1]
		if status, body := f.post(t, url.Values{"r": {token}, "csrf": {csrf}, "city": {"Albany"}, "show_name": {"1"}}); status != 200 {
			t.Fatalf("sign: %d\n%s", status, body)
		}
		if page, _ := f.get(t, f.srv.URL+"/a/river"); !strings.Contains(page, "<li>Jane, Albany</li>") {
			t.Errorf("a recognized signer is not listed:\n%s", page)
		}
		for id, link := range f.confirms.all() {
			if link != "" {
				t.Errorf("signature %d: a recognized signer was asked to confirm: %s", id, link)
			}
		}
	})
}

// TestCSRFPerVisitor checks that a sign form's token works for the visitor
// it was drawn for only, and for two hours only: another visitor's token,
// one embedded in another site, or an old one signs nothing, and the form is
// drawn again with what was typed.
func TestCSRFPerVisitor(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "email": {"sam@example.org"}, "first_name": {"Sam"}, "last_name": {"Lee"}}
		}
		other := newClient(t)
		post := func(c *http.Client, v url.Values) (int, string) {
			t.Helper()
			resp, err := c.PostForm(f.srv.URL+"/a/river/sign", v)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		status, body := post(other, form(csrf))
		if status != http.StatusForbidden || !strings.Contains(body, "This form has expired") || !strings.Contains(body, `value="sam@example.org"`) {
			t.Errorf("another visitor's token: %d\n%s", status, body)
		}
		if status, _ := post(http.DefaultClient, form(csrf)); status != http.StatusForbidden {
			t.Errorf("a token posted without the visitor cookie: %d, want 403", status)
		}
		f.advance(2*time.Hour + time.Minute)
		status, body = f.post(t, form(csrf))
		if status != http.StatusForbidden {
			t.Errorf("a token over two hours old: %d, want 403", status)
		}
		f.wantCount(t, 0)
		// The form drawn again carries a fresh token that works.
		fresh := csrfRe.FindStringSubmatch(body)
		if fresh == nil {
			t.Fatalf("no fresh token in:\n%s", body)
		}
		if status, body := f.post(t, form(fresh[1])); status != http.StatusOK {
			t.Fatalf("fresh token: %d\n%s", status, body)
		}
		f.wantCount(t, 1)
	})
}

// TestInputRules checks that the petition and letter forms refuse, at the
// field, what would break a mail header or the database later: CR LF in a
// name, a NUL, invalid UTF-8; a comment may hold lines. Nothing is stored.
func TestInputRules(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		ctx := context.Background()
		letter := &store.Petition{Slug: "coalition", Title: "Coalition letter", Open: true, Kind: store.PetitionKindLetter}
		if err := f.s.CreatePetition(ctx, letter); err != nil {
			t.Fatal(err)
		}
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		_, letterCSRF := f.get(t, f.srv.URL+"/a/coalition")
		person := url.Values{"email": {"sam@example.org"}, "first_name": {"Sam"}, "last_name": {"Lee"}, "comment": {"one\r\ntwo"}}
		org := url.Values{"organization": {"Org"}, "contact_name": {"Robin"}, "email": {"robin@example.org"}}
		for _, tc := range []struct {
			name, slug, field, value string
		}{
			{"header injection in a name", "river", "first_name", "Evil\r\nBcc: all@example.org"},
			{"LF in a last name", "river", "last_name", "a\nb"},
			{"NUL in a city", "river", "city", "Troy\x00"},
			{"invalid UTF-8 in a postal code", "river", "postal_code", "12\xff"},
			{"NUL in a comment", "river", "comment", "hi\x00"},
			{"control character in an email", "river", "email", "sam@example.org\x07"},
			{"NUL in a hidden field", "river", "ref", "\x00"},
			{"CR LF in an organization", "coalition", "organization", "Org\r\nBcc: x@example.org"},
			{"invalid UTF-8 in a contact name", "coalition", "contact_name", "Rob\xc3"},
			{"NUL in a website", "coalition", "website", "https://x.example.org/\x00"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form, token := person, csrf
				if tc.slug == "coalition" {
					form, token = org, letterCSRF
				}
				v := url.Values{"csrf": {token}}
				for k, vv := range form {
					v[k] = vv
				}
				v.Set(tc.field, tc.value)
				resp, err := f.client.PostForm(f.srv.URL+"/a/"+tc.slug+"/sign", v)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := `id="` + tc.field + `-error"`
				if tc.field == "ref" {
					want = "The form could not be read"
				}
				if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), want) {
					t.Errorf("status %d, want 422 with %s:\n%s", resp.StatusCode, want, b)
				}
			})
		}
		f.wantCount(t, 0)
		if orgs, err := f.s.OrganizationSignatures(ctx, letter.ID, store.OrgPending); err != nil || len(orgs) != 0 {
			t.Errorf("letter signatures %v, %v; want none", orgs, err)
		}
		if _, err := f.s.ContactByEmail(ctx, "sam@example.org"); err == nil {
			t.Error("a refused form stored a contact")
		}
		// A NUL in the page's query is refused, not a database error.
		resp, err := f.client.Get(f.srv.URL + "/a/river?ref=%00")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("NUL in the query: %d, want 422", resp.StatusCode)
		}
		// A multi-line comment is fine.
		v := url.Values{"csrf": {csrf}}
		for k, vv := range person {
			v[k] = vv
		}
		if status, body := f.post(t, v); status != http.StatusOK {
			t.Errorf("a comment of two lines: %d\n%s", status, body)
		}
	})
}
