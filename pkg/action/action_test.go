package action_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/action"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/templates"
)

type fixture struct {
	s        *store.Store
	signer   *track.Signer
	srv      *httptest.Server
	petition *store.Petition
	jane     *store.Contact
	campaign *store.Campaign
	janeLink string // Jane's action link from her send
	client   *http.Client
	confirms *confirmer
	shift    atomic.Int64 // how far the handler's clock is ahead, in nanoseconds
}

// advance moves the handler's clock forward by d.
func (f *fixture) advance(d time.Duration) { f.shift.Add(int64(d)) }

// confirmer records the confirmations queued.
type confirmer struct {
	mu    sync.Mutex
	links map[int64]string // by signature; "" for a plain thank-you
}

func (c *confirmer) Confirm(ctx context.Context, id int64) error {
	return c.ConfirmChanges(ctx, id, "")
}

func (c *confirmer) ConfirmChanges(_ context.Context, id int64, link string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.links[id] = link
	return nil
}

func (c *confirmer) all() map[int64]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.links)
}

// newClient is a browser: it keeps the cookies it is given.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func mustFixture(t *testing.T, dsn string, opts ...func(*action.Deps)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: testenv.Store(t, dsn), signer: track.NewSigner("test secret"), client: newClient(t),
		confirms: &confirmer{links: map[int64]string{}}}
	pages, err := fs.Sub(templates.FS, "pages")
	if err != nil {
		t.Fatal(err)
	}
	deps := action.Deps{Store: f.s, Signer: f.signer, PublicURL: "https://act.example.org",
		Org: action.Org{Name: "Friends of the River", PostalAddress: "1 Main St"}, Pages: pages,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Confirm: f.confirms,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.shift.Load())) }}
	for _, opt := range opts {
		opt(&deps)
	}
	h, err := action.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)

	f.petition = &store.Petition{Slug: "river", Title: "Save the river", Target: "The Governor", PetitionText: "Dear Governor,\nsave it.", Goal: 1000, Open: true}
	if err := f.s.CreatePetition(ctx, f.petition); err != nil {
		t.Fatal(err)
	}
	f.jane = &store.Contact{Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}
	if err := f.s.CreateContact(ctx, f.jane); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "l"}
	if err := f.s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddListMembers(ctx, l.ID, []int64{f.jane.ID}); err != nil {
		t.Fatal(err)
	}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
	if err := f.s.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	f.campaign = &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := f.s.CreateCampaign(ctx, f.campaign); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.StartCampaign(ctx, f.campaign.ID); err != nil {
		t.Fatal(err)
	}
	lo, hi, _, err := f.s.SendRange(ctx, f.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := f.s.PendingRecipients(ctx, f.campaign.ID, lo, hi)
	if err != nil || len(rs) != 1 {
		t.Fatalf("recipients %v, %v", rs, err)
	}
	f.janeLink = track.NewLinks(f.srv.URL, f.signer).Action(rs[0].SendID, 0, "river")
	return f
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its body and the CSRF token of its form.
func (f *fixture) get(t *testing.T, u string) (string, string) {
	t.Helper()
	resp, err := f.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
	}
	m := csrfRe.FindStringSubmatch(string(b))
	if m == nil {
		return string(b), ""
	}
	return string(b), m[1]
}

func (f *fixture) post(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	resp, err := f.client.PostForm(f.srv.URL+"/a/river/sign", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postAll posts n forms at once and fails unless each one signs.
func (f *fixture) postAll(t *testing.T, n int, form func(i int) url.Values) {
	t.Helper()
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range codes {
		wg.Go(func() { codes[i], _ = f.post(t, form(i)) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("post %d: status %d", i, c)
		}
	}
}

// wantCount fails the test unless the petition has want signatures.
func (f *fixture) wantCount(t *testing.T, want int64) {
	t.Helper()
	n, err := f.s.CountSignatures(context.Background(), f.petition.ID)
	if err != nil || n != want {
		t.Fatalf("count %d, %v; want %d", n, err, want)
	}
}

// TestRecognizedSigner checks that a recipient's link is recognized, one
// button signs them attributed to the campaign, and 20 clicks at once count once.
func TestRecognizedSigner(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		page, csrf := f.get(t, f.janeLink)
		for _, want := range []string{"Not Jane? Sign as someone else", "Dear Governor", "The Governor", "0</strong> signatures of a goal of 1,000"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(page, `name="email"`) {
			t.Error("a recognized recipient is asked for their email")
		}
		token := strings.SplitN(f.janeLink, "?r=", 2)[1]
		f.postAll(t, 20, func(int) url.Values { return url.Values{"r": {token}, "csrf": {csrf}} })
		f.wantCount(t, 1)
		// The signature is Jane's and names her campaign.
		status, body := f.post(t, url.Values{"r": {token}, "csrf": {csrf}})
		if status != http.StatusOK || !strings.Contains(body, "You already signed") || !strings.Contains(body, "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fact.example.org%2Fa%2Friver%3Fref%3D") {
			t.Errorf("second sign: %d\n%s", status, body)
		}
		n, err := f.s.CountCampaignSignatures(context.Background(), f.petition.ID, f.campaign.ID)
		if err != nil || n != 1 {
			t.Errorf("signatures from the campaign %d, %v; want 1", n, err)
		}
	})
}

// TestForgedToken checks that a token that does not verify is an unknown
// visitor: the page asks for the form, and a one-button post signs no one.
func TestForgedToken(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		good := strings.SplitN(f.janeLink, "?r=", 2)[1]
		forged := good[:len(good)-2] + "AA"
		if forged == good {
			forged = good[:len(good)-2] + "BB"
		}
		page, csrf := f.get(t, f.srv.URL+"/a/river?r="+forged)
		if strings.Contains(page, "Jane") || !strings.Contains(page, `name="email"`) {
			t.Fatalf("a forged token was recognized:\n%s", page)
		}
		status, body := f.post(t, url.Values{"r": {forged}, "csrf": {csrf}})
		if status != http.StatusUnprocessableEntity || strings.Contains(body, "Jane") {
			t.Errorf("post with a forged token: %d\n%s", status, body)
		}
		// The CSRF token of Jane's page is not valid with a forged token either.
		_, janeCSRF := f.get(t, f.janeLink)
		if status, _ := f.post(t, url.Values{"r": {forged}, "csrf": {janeCSRF}}); status != http.StatusForbidden {
			t.Errorf("forged token with Jane's CSRF: %d, want 403", status)
		}
		if status, _ := f.post(t, url.Values{"r": {good}}); status != http.StatusForbidden {
			t.Errorf("no CSRF token: %d, want 403", status)
		}
		f.wantCount(t, 0)
	})
}

// TestUnknownVisitor checks the form: each bad input is named next to its
// field with what was typed kept, nothing is stored, and a good one signs.
func TestUnknownVisitor(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		good := url.Values{"csrf": {csrf}, "email": {"Sam@Example.ORG"}, "first_name": {"Sam"}, "last_name": {"Lee"}, "postal_code": {"12345"}, "comment": {"For the fish"}}
		with := func(k, v string) url.Values {
			u := url.Values{}
			for kk, vv := range good {
				u[kk] = vv
			}
			u.Set(k, v)
			return u
		}
		long := strings.Repeat("é", action.MaxComment+1)
		for _, tc := range []struct {
			name, field string
			form        url.Values
			want        []string
		}{
			{"invalid email", "email", with("email", "sam@@example"), []string{`id="email-error"`, `value="sam@@example"`, `value="Sam"`, "For the fish"}},
			{"empty email", "email", with("email", " "), []string{`id="email-error"`, "Please enter your email address."}},
			{"empty first name", "first_name", with("first_name", ""), []string{`id="first_name-error"`, `value="Sam@Example.ORG"`}},
			{"empty last name", "last_name", with("last_name", "  "), []string{`id="last_name-error"`}},
			{"comment too long", "comment", with("comment", long), []string{`id="comment-error"`, "10001 characters", long}},
			{"megabyte comment", "comment", with("comment", strings.Repeat("x", 1<<20)), []string{`id="comment-error"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := f.post(t, tc.form)
				if status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", status)
				}
				for _, w := range tc.want {
					if !strings.Contains(body, w) {
						t.Errorf("page lacks %.80q", w)
					}
				}
				if n := strings.Count(body, `class="error"`); n != 1 {
					t.Errorf("%d messages, want 1 (for %s)", n, tc.field)
				}
			})
		}
		f.wantCount(t, 0)
		if _, err := f.s.ContactByEmail(context.Background(), "Sam@example.org"); err == nil {
			t.Fatal("bad input stored a contact")
		}
		status, body := f.post(t, good)
		if status != http.StatusOK || !strings.Contains(body, "Thank you, Sam!") {
			t.Fatalf("good form: %d\n%s", status, body)
		}
		c, err := f.s.ContactByEmail(context.Background(), "Sam@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Sam", "Lee", "12345", store.ContactUnsubscribed}, []string{c.FirstName, c.LastName, c.PostalCode, c.Status}); diff != "" {
			t.Errorf("contact (-want +got):\n%s", diff)
		}
		f.wantCount(t, 1)
	})
}

// TestConcurrentVisitors checks that 200 people signing at once through the
// form give exactly 200.
func TestConcurrentVisitors(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		f.postAll(t, 200, func(i int) url.Values {
			return url.Values{"csrf": {csrf}, "email": {fmt.Sprintf("p%d@example.org", i)}, "first_name": {"P"}, "last_name": {"Q"}}
		})
		f.wantCount(t, 200)
	})
}

// TestClosedPetition checks that a closed petition says so and accepts nothing.
func TestClosedPetition(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		p := &store.Petition{Slug: "shut", Title: "Shut", Open: false}
		if err := f.s.CreatePetition(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		page, csrf := f.get(t, f.srv.URL+"/a/shut")
		if !strings.Contains(page, "This petition is closed") || csrf != "" {
			t.Fatalf("closed page offers a form or does not say it is closed:\n%s", page)
		}
		resp, err := http.PostForm(f.srv.URL+"/a/shut/sign", url.Values{"email": {"x@example.org"}, "first_name": {"X"}, "last_name": {"Y"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n, err := f.s.CountSignatures(context.Background(), p.ID)
		if resp.StatusCode != http.StatusConflict || err != nil || n != 0 {
			t.Errorf("post to a closed petition: %d, count %d, %v; want 409 and 0", resp.StatusCode, n, err)
		}
	})
}

// TestSignOnLetter checks a letter signed by organizations: the form names
// its mistakes, a signature waits for approval, and the letter lists the
// approved ones only, alphabetically as the letter asks.
func TestSignOnLetter(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		ctx := context.Background()
		p := &store.Petition{Slug: "coalition", Title: "Coalition letter", Open: true, Kind: store.PetitionKindLetter, OrgOrder: store.OrgOrderAlphabetical}
		if err := f.s.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		page, csrf := f.get(t, f.srv.URL+"/a/coalition")
		if !strings.Contains(page, `name="organization"`) || strings.Contains(page, `name="first_name"`) {
			t.Fatalf("a letter's page does not ask for an organization:\n%s", page)
		}
		post := func(org, email, website string) (int, string) {
			resp, err := f.client.PostForm(f.srv.URL+"/a/coalition/sign", url.Values{"csrf": {csrf}, "organization": {org},
				"contact_name": {"Robin"}, "email": {email}, "website": {website}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		status, body := post("", "robin@example.org", "ftp://files.example.org")
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="organization-error"`) ||
			!strings.Contains(body, `id="website-error"`) || !strings.Contains(body, `value="ftp://files.example.org"`) {
			t.Fatalf("bad letter form: %d\n%s", status, body)
		}
		ids := map[string]int64{}
		for _, org := range []string{"Zeta Trust", "alpha fund", "Mid Org"} {
			email := strings.ToLower(strings.Fields(org)[0]) + "@example.org"
			if status, body := post(org, email, "https://"+strings.ToLower(strings.Fields(org)[0])+".example.org"); status != 200 || !strings.Contains(body, "Thank you for signing on!") {
				t.Fatalf("%s signs on: %d\n%s", org, status, body)
			}
		}
		if _, body := post("Zeta Trust again", "zeta@example.org", ""); !strings.Contains(body, "already signed on") {
			t.Errorf("second signature of one email:\n%s", body)
		}
		pending, err := f.s.OrganizationSignatures(ctx, p.ID, store.OrgPending)
		if err != nil || len(pending) != 3 {
			t.Fatalf("pending %v, %v; want 3", pending, err)
		}
		for _, o := range pending {
			ids[o.Organization] = o.ID
		}
		if page, _ := f.get(t, f.srv.URL+"/a/coalition"); strings.Contains(page, "Zeta Trust") {
			t.Fatal("a pending organization is listed")
		}
		for org, status := range map[string]string{"Zeta Trust": store.OrgApproved, "Mid Org": store.OrgRejected} {
			if _, err := f.s.DecideOrganization(ctx, p.ID, ids[org], status); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.DecideOrganization(ctx, p.ID, ids["alpha fund"], store.OrgApproved); err != nil {
			t.Fatal(err)
		}
		page, _ = f.get(t, f.srv.URL+"/a/coalition")
		a, z := strings.Index(page, "alpha fund"), strings.Index(page, "Zeta Trust")
		if a < 0 || z < 0 || a > z || strings.Contains(page, "Mid Org") || !strings.Contains(page, "2</strong> organizations on the letter") {
			t.Errorf("letter lists (alphabetically, approved only, counted):\n%s", page)
		}
		p.OrgOrder = store.OrgOrderApproved
		orgs, err := f.s.ApprovedOrganizations(ctx, p)
		if err != nil || len(orgs) != 2 || orgs[0].Organization != "Zeta Trust" {
			t.Errorf("in the order approved: %v, %v; want Zeta Trust first", orgs, err)
		}
		if _, err := f.s.DecideOrganization(ctx, f.petition.ID, ids["alpha fund"], store.OrgApproved); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("deciding through another petition: %v, want not found", err)
		}
	})
}

// TestRecentSigners checks that the page lists a signer's first name and
// city only when they tick the box, and never their last name.
func TestRecentSigners(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn)
		_, csrf := f.get(t, f.srv.URL+"/a/river")
		for _, form := range []url.Values{
			{"csrf": {csrf}, "email": {"sam@example.org"}, "first_name": {"Sam"}, "last_name": {"Leeward"}, "city": {"Albany"}, "show_name": {"1"}},
			{"csrf": {csrf}, "email": {"kim@example.org"}, "first_name": {"Kim"}, "last_name": {"Park"}, "city": {"Troy"}},
		} {
			if status, body := f.post(t, form); status != 200 {
				t.Fatalf("sign: %d\n%s", status, body)
			}
		}
		page, _ := f.get(t, f.srv.URL+"/a/river")
		if !strings.Contains(page, "<li>Sam, Albany</li>") || strings.Contains(page, "Kim") || strings.Contains(page, "Troy") || strings.Contains(page, "Leeward") {
			t.Errorf("recent signers show what they should not, or miss Sam:\n%s", page)
		}
	})
}
