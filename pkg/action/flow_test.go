package action_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/action"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// noRedirects is a client that keeps cookies and shows redirects as they are.
func (f *fixture) noRedirects() *http.Client {
	return &http.Client{Jar: f.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signAndFollow posts form to slug's sign URL and wants a 303 to its
// thank-you page; it returns that page's address.
func (f *fixture) signAndFollow(t *testing.T, slug string, form url.Values) string {
	t.Helper()
	resp, err := f.noRedirects().PostForm(f.srv.URL+"/a/"+slug+"/sign", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/a/"+slug+"/thanks?t=") {
		t.Fatalf("sign: %s, Location %q; want 303 to the thank-you page\n%s", resp.Status, loc, b)
	}
	return f.srv.URL + loc
}

// TestThankYouRedirect checks post, redirect, get: a signature answers
// with a 303 to a thank-you page of its own, which can be loaded again
// (a reload) with the same thanks, count and share links, and whose
// address cannot be altered to thank someone else.
func TestThankYouRedirect(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		ctx := context.Background()
		f.petition.ThankYouText = "The Governor reads every name."
		if err := f.s.UpdatePetition(ctx, f.petition); err != nil {
			t.Fatal(err)
		}
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		thanks := f.signAndFollow(t, "river", url.Values{"csrf": {csrf}, "email": {"sam@example.org"}, "first_name": {"Sam"}, "last_name": {"Lee"}})
		sam, err := f.s.ContactByEmail(ctx, "sam@example.org")
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for i := range 2 { // the page, then a reload
			page, _ := f.get(t, thanks)
			for _, want := range []string{"Thank you, Sam!", "The Governor reads every name.", "<strong>1</strong> signature of a goal of 1,000",
				"https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fact.example.org%2Fa%2Friver%3Fref%3D" + itoa(sam.ID)} {
				if !strings.Contains(page, want) {
					t.Errorf("load %d lacks %q", i+1, want)
				}
			}
			if i == 0 {
				first = page
			} else if page != first {
				t.Errorf("a reload shows another page:\n%s\nthen\n%s", first, page)
			}
		}
		f.wantCount(t, 1)
		// Signing again is thanked as a repeat, on a page of its own.
		again := f.signAndFollow(t, "river", url.Values{"csrf": {csrf}, "email": {"sam@example.org"}, "first_name": {"Sam"}, "last_name": {"Lee"}})
		if page, _ := f.get(t, again); !strings.Contains(page, "You already signed") {
			t.Errorf("a second signature:\n%s", page)
		}
		// An altered or foreign address goes to the petition, thanking no one.
		u, _ := url.Parse(thanks)
		tok := u.Query().Get("t")
		for _, bad := range []string{"", "x", strings.Replace(tok, "1.", "0.", 1), tok + "A", "1.1.U2Ft." + tok[strings.LastIndexByte(tok, '.')+1:]} {
			resp, err := f.noRedirects().Get(f.srv.URL + "/a/river/thanks?" + url.Values{"t": {bad}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/a/river" {
				t.Errorf("t=%q: %s to %q, want 303 to /a/river", bad, resp.Status, resp.Header.Get("Location"))
			}
		}
		// A thank-you address of one petition is not one of another.
		other := &store.Petition{Slug: "lake", Title: "Lake", Open: true}
		if err := f.s.CreatePetition(ctx, other); err != nil {
			t.Fatal(err)
		}
		resp, err := f.noRedirects().Get(f.srv.URL + "/a/lake/thanks?" + url.Values{"t": {tok}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("river's thanks on lake: %s, want 303", resp.Status)
		}
	})
}

// TestLetterThankYou checks a sign-on letter's thank-you page: a page of
// its own after a 303, the organizer's thank-you text, share links, and
// the count as it stands at once (approved organizations), not as cached.
func TestLetterThankYou(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		ctx := context.Background()
		p := &store.Petition{Slug: "coalition", Title: "Coalition letter", Open: true, Kind: store.PetitionKindLetter,
			ThankYouText: "Our coalition grows with you.", ShareText: "Sign on to the coalition letter"}
		if err := f.s.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		_, csrf := f.get(t, f.srv.URL+"/a/coalition")
		sign := func(org, email string) string {
			return f.signAndFollow(t, "coalition", url.Values{"csrf": {csrf}, "organization": {org}, "contact_name": {"Robin"}, "email": {email}})
		}
		first := sign("River Keepers", "rk@example.org")
		pending, err := f.s.OrganizationSignatures(ctx, p.ID, store.OrgPending)
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending %v, %v", pending, err)
		}
		if _, err := f.s.DecideOrganization(ctx, p.ID, pending[0].ID, store.OrgApproved); err != nil {
			t.Fatal(err)
		}
		second := sign("Lake Friends", "lf@example.org")
		page, _ := f.get(t, second)
		for _, want := range []string{"Thank you for signing on!", "Our coalition grows with you.", "<strong>1</strong> organization on the letter",
			"https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fact.example.org%2Fa%2Fcoalition",
			"https://x.com/intent/post?url=https%3A%2F%2Fact.example.org%2Fa%2Fcoalition&amp;text=Sign&#43;on&#43;to&#43;the&#43;coalition&#43;letter", "River Keepers"} {
			if !strings.Contains(page, want) {
				t.Errorf("letter's thank-you page lacks %q\n%s", want, page)
			}
		}
		// The first signer's page, loaded again, counts what is approved now.
		if page, _ := f.get(t, first); !strings.Contains(page, "<strong>1</strong> organization on the letter") {
			t.Errorf("the first thank-you page, reloaded, does not count the approval:\n%s", page)
		}
		if page, _ := f.get(t, sign("River Keepers", "rk@example.org")); !strings.Contains(page, "already signed on") {
			t.Errorf("signing twice:\n%s", page)
		}
	})
}

// clicks records the click events the handler hands over.
type clicks struct {
	mu sync.Mutex
	es []store.Event
}

func (c *clicks) Record(e store.Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.es = append(c.es, e)
	return true
}

func (c *clicks) all() []store.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]store.Event(nil), c.es...)
}

// TestActionLinkClicks checks that a recipient's visit through an action
// link carrying its link is a click of that link, still recognized, and
// that signing through it makes them a clicker in the campaign's report
// even when the visit looked like a scanner's; a link without one counts nothing.
func TestActionLinkClicks(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		rec := &clicks{}
		f := mustFixture(t, dsn, withClicks(rec))
		ctx := context.Background()
		ids, err := f.s.EnsureLinks(ctx, f.campaign.ID, []string{"https://act.example.org/a/river"})
		if err != nil {
			t.Fatal(err)
		}
		sendID, _, err := f.signer.Verify(track.KindAction, strings.SplitN(f.janeLink, "?r=", 2)[1])
		if err != nil {
			t.Fatal(err)
		}
		link := track.NewLinks(f.srv.URL, f.signer).Action(sendID, ids[0], "river")
		// The visit of an old link, without its link, is no click.
		f.get(t, f.janeLink)
		if got := rec.all(); len(got) != 0 {
			t.Fatalf("a link without its link id counted %v", got)
		}
		page, csrf := f.get(t, link)
		if !strings.Contains(page, "Not Jane? Sign as someone else") {
			t.Fatalf("an action link with its link id is not recognized:\n%s", page)
		}
		got := rec.all()
		if len(got) != 1 {
			t.Fatalf("clicks %v, want 1", got)
		}
		e := got[0]
		// Go's client is a scanner's agent: the visit counts as a machine's click.
		if diff := cmp.Diff([]any{store.EventClick, f.campaign.ID, sendID, ids[0], true}, []any{e.Kind, e.CampaignID, e.SendID, *e.LinkID, e.Machine}); diff != "" {
			t.Errorf("click (-want +got):\n%s", diff)
		}
		rep, err := f.s.CampaignReport(ctx, f.campaign.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Clicks.HumanUnique != 0 {
			t.Fatalf("clickers before signing: %d, want 0", rep.Clicks.HumanUnique)
		}
		token := strings.SplitN(link, "?r=", 2)[1]
		for range 2 { // signing twice is one clicker, one click
			f.signAndFollow(t, "river", url.Values{"r": {token}, "csrf": {csrf}})
		}
		rep, err = f.s.CampaignReport(ctx, f.campaign.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Clicks.HumanUnique != 1 || rep.Clicks.HumanTotal != 1 || len(rep.Links) != 1 || rep.Links[0].URL != "https://act.example.org/a/river" || rep.Links[0].HumanUnique != 1 {
			t.Errorf("after signing: clicks %+v, links %+v; want one clicker of the action link", rep.Clicks, rep.Links)
		}
		n, err := f.s.CountCampaignSignatures(ctx, f.petition.ID, f.campaign.ID)
		if err != nil || n != 1 {
			t.Errorf("signatures credited to the campaign: %d, %v; want 1", n, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// withClicks hands the handler's clicks to c.
func withClicks(c *clicks) func(*action.Deps) { return func(d *action.Deps) { d.Clicks = c } }
