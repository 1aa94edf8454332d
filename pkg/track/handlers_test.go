package track

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

type eventSummary struct {
	Kind    string
	Machine bool
	Link    bool
}

// summarize lists events sorted: batches are written side by side, in no set order.
func summarize(es []store.Event) []eventSummary {
	out := []eventSummary{}
	for _, e := range es {
		out = append(out, eventSummary{e.Kind, e.Machine, e.LinkID != nil})
	}
	slices.SortFunc(out, func(a, b eventSummary) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

// TestOpensAndClicks: every open and click is recorded, people apart from
// machines; the redirect goes to the campaign's link; view in browser counts nothing.
func TestOpensAndClicks(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 2, time.Nanosecond)
		send := f.sends[0]
		linkID := f.linkID(t, "https://example.org/sign?x=1&y=<2>")
		click := f.links.Click(send, linkID)

		steps := []struct {
			method, url, ua string
			code            int
			loc             string
		}{
			{"GET", f.links.Open(send), browserUA, 200, ""},
			{"GET", f.links.Open(send), "Mozilla/5.0", 200, ""},
			{"GET", click, browserUA, 302, "https://example.org/sign?x=1&y=<2>"},
			{"HEAD", click, browserUA, 302, "https://example.org/sign?x=1&y=<2>"},
			{"GET", click, "Mozilla/5.0 (compatible; proofpoint)", 302, "https://example.org/sign?x=1&y=<2>"},
			{"GET", f.links.View(send), browserUA, 200, ""},
		}
		for _, s := range steps {
			if got := do(t, s.method, s.url, s.ua, ""); got.code != s.code || got.loc != s.loc {
				t.Fatalf("%s %s (%s): %d to %q, want %d to %q", s.method, s.url, s.ua, got.code, got.loc, s.code, s.loc)
			}
		}
		want := []eventSummary{
			{store.EventClick, false, true}, {store.EventClick, true, true}, {store.EventClick, true, true},
			{store.EventOpen, false, false}, {store.EventOpen, true, false},
		}
		if diff := cmp.Diff(want, summarize(f.events(t))); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		rep, err := f.st.CampaignReport(context.Background(), f.camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantOpens := store.Engagement{Total: 2, Unique: 1, HumanTotal: 1, HumanUnique: 1}
		wantClicks := store.Engagement{Total: 3, Unique: 1, HumanTotal: 1, HumanUnique: 1}
		if diff := cmp.Diff([]store.Engagement{wantOpens, wantClicks, wantClicks}, []store.Engagement{rep.Opens, rep.Clicks, rep.Links[0].Engagement}); diff != "" {
			t.Errorf("opens, clicks, clicks of the link (-want +got):\n%s", diff)
		}
	})
}

// TestScannerWindow: a click within seconds of delivery is a scanner's, whatever its agent.
func TestScannerWindow(t *testing.T) {
	f := mustFixture(t, testenv.SQLite(t), 1, time.Hour)
	if got := do(t, "GET", f.links.Click(f.sends[0], f.linkID(t, "https://example.org/a")), browserUA, ""); got.code != 302 {
		t.Fatalf("click: %d", got.code)
	}
	if diff := cmp.Diff([]eventSummary{{store.EventClick, true, true}}, summarize(f.events(t))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestBadTokens: a forged, truncated, altered or misused token gets a 404,
// never a redirect, and records nothing; a stored link that is not http(s) is never followed.
func TestBadTokens(t *testing.T) {
	f := mustFixture(t, testenv.SQLite(t), 1, time.Nanosecond)
	send := f.sends[0]
	linkID := f.linkID(t, "https://example.org/ok")
	click := f.signer.Sign(KindClick, send, linkID)
	other := NewSigner(strings.Repeat("z", 32))
	cases := map[string]string{
		"forged click":           "/t/c/" + other.Sign(KindClick, send, linkID),
		"truncated click":        "/t/c/" + click[:len(click)-4],
		"altered click":          "/t/c/" + click[:5] + flip(click[5]) + click[6:],
		"open token as click":    "/t/c/" + f.signer.Sign(KindOpen, send, 0),
		"click naming no link":   "/t/c/" + f.signer.Sign(KindClick, send, 99999),
		"javascript link":        "/t/c/" + f.signer.Sign(KindClick, send, f.linkID(t, "javascript:alert(1)")),
		"forged open":            "/t/o/" + other.Sign(KindOpen, send, 0) + ".gif",
		"click token as open":    "/t/o/" + click,
		"forged unsubscribe":     "/u/" + other.Sign(KindUnsubscribe, send, 0),
		"unsubscribe, no send":   "/u/" + f.signer.Sign(KindUnsubscribe, 99999, 0),
		"forged preferences":     "/p/" + other.Sign(KindPreferences, send, 0),
		"forged view":            "/v/" + other.Sign(KindView, send, 0),
		"redirect in the path":   "/t/c/" + url.PathEscape("https://evil.example/"),
		"open token on the page": "/p/" + f.signer.Sign(KindOpen, send, 0),
	}
	for name, path := range cases {
		for _, method := range []string{"GET", "POST"} {
			if method == "POST" && !strings.HasPrefix(path, "/u/") && !strings.HasPrefix(path, "/p/") {
				continue
			}
			got := do(t, method, f.srv.URL+path, browserUA, "List-Unsubscribe=One-Click")
			if got.code != 404 || got.loc != "" {
				t.Errorf("%s: %s %s: %d to %q, want 404 and no redirect", name, method, path, got.code, got.loc)
			}
		}
	}
	if es := f.events(t); len(es) != 0 {
		t.Errorf("bad tokens recorded %d events", len(es))
	}
	if c, _ := f.st.GetContact(context.Background(), f.contacts[0].ID); c.Status != store.ContactSubscribed {
		t.Errorf("contact is %s after bad unsubscribe tokens", c.Status)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// TestUnsubscribe: the page changes nothing; its form needs its CSRF token;
// leaving one list keeps the rest; one-click leaves everything with a bare 200.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 2, time.Nanosecond)
		ctx := context.Background()
		a, b := f.contacts[0], f.contacts[1]
		unsubA, unsubB := f.links.Unsubscribe(f.sends[0]), f.links.Unsubscribe(f.sends[1])

		page := do(t, "GET", unsubA, browserUA, "")
		if page.code != 200 || !strings.Contains(page.body, "Only "+f.list.Name) || !strings.Contains(page.body, "I get too much email") {
			t.Fatalf("unsubscribe page: %d\n%s", page.code, page.body)
		}
		csrfA := csrfOf(t, page.body)
		csrfB := csrfOf(t, do(t, "GET", unsubB, browserUA, "").body)
		for name, body := range map[string]string{
			"no CSRF token":        form("scope", "all"),
			"another link's token": form("csrf", csrfB, "scope", "all"),
			"preferences token":    form("csrf", f.signer.CSRF(formPreferences, strings.TrimPrefix(unsubA, f.srv.URL+"/u/")), "scope", "all"),
		} {
			if got := do(t, "POST", unsubA, browserUA, body); got.code != 403 {
				t.Errorf("%s: %d, want 403", name, got.code)
			}
		}
		if c, _ := f.st.GetContact(ctx, a.ID); c.Status != store.ContactSubscribed {
			t.Fatalf("after GET and refused POSTs the contact is %s", c.Status)
		}

		scope := "list:" + itoa64(f.list.ID)
		got := do(t, "POST", unsubA, browserUA, form("csrf", csrfA, "scope", scope, "reason", "too_many", "reason_text", "<b>twice</b> a day"))
		if got.code != 200 || !strings.Contains(got.body, f.list.Name) || strings.Contains(got.body, "<b>twice") {
			t.Fatalf("leave one list: %d\n%s", got.code, got.body)
		}
		if c, _ := f.st.GetContact(ctx, a.ID); c.Status != store.ContactSubscribed {
			t.Errorf("after leaving one list the contact is %s, want still subscribed", c.Status)
		}
		if ls, _ := f.st.MemberLists(ctx, a.ID, []int64{f.list.ID}); len(ls) != 0 {
			t.Errorf("still a member of %v after leaving it", ls)
		}
		if got := do(t, "POST", unsubA, browserUA, form("csrf", csrfA, "scope", "list:424242")); got.code != 400 {
			t.Errorf("a list outside the campaign: %d, want 400", got.code)
		}

		oneClick := do(t, "POST", unsubB, "", "List-Unsubscribe=One-Click")
		if oneClick.code != 200 || oneClick.body != "" {
			t.Fatalf("one-click: %d %q, want 200 and no page", oneClick.code, oneClick.body)
		}
		if c, _ := f.st.GetContact(ctx, b.ID); c.Status != store.ContactUnsubscribed {
			t.Errorf("after one-click the contact is %s", c.Status)
		}
		if sup, _ := f.st.IsSuppressed(ctx, b.Email); !sup {
			t.Error("after one-click the address is not suppressed")
		}

		type unsub struct {
			Contact int64
			Reason  string
			List    bool
		}
		var gotEv []unsub
		for _, e := range f.events(t) {
			gotEv = append(gotEv, unsub{e.ContactID, e.Reason, e.ListID != nil})
		}
		wantEv := []unsub{{a.ID, "too_many: <b>twice</b> a day", true}, {b.ID, "", false}}
		if diff := cmp.Diff(wantEv, gotEv); diff != "" {
			t.Errorf("unsubscribe events (-want +got):\n%s", diff)
		}
		if len(f.notified) != 2 || f.notified[1]["email"] != b.Email || f.notified[1]["event"] != store.EventUnsubscribe {
			t.Errorf("webhook notifications = %v, want both unsubscribes", f.notified)
		}
	})
}
