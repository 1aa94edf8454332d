package track

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestPreferences: topics, frequency, name and postal code, pause, unsubscribe
// and resubscribe, each behind its CSRF token, each touching only the contact
// of the signed link; what the page shows is escaped.
func TestPreferences(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 2, time.Nanosecond)
		ctx := context.Background()
		alerts := &store.Topic{Name: "Action alerts"}
		news := &store.Topic{Name: "Newsletter <monthly>"}
		for _, tp := range []*store.Topic{alerts, news} {
			if err := f.st.CreateTopic(ctx, tp); err != nil {
				t.Fatal(err)
			}
		}
		a, b := f.contacts[0], f.contacts[1]
		prefsA := f.links.Preferences(f.sends[0])

		page := do(t, "GET", prefsA, browserUA, "")
		if page.code != 200 || !strings.Contains(page.body, "Newsletter &lt;monthly&gt;") || strings.Contains(page.body, "<monthly>") {
			t.Fatalf("preferences page: %d, topic name not escaped or missing:\n%s", page.code, page.body)
		}
		csrf := csrfOf(t, page.body)

		for name, body := range map[string]string{
			"no CSRF token":      form("action", "unsubscribe"),
			"unsubscribe's form": form("action", "unsubscribe", "csrf", f.signer.CSRF(formUnsubscribe, strings.TrimPrefix(prefsA, f.srv.URL+"/p/"))),
			"another link's":     form("action", "unsubscribe", "csrf", csrfOf(t, do(t, "GET", f.links.Preferences(f.sends[1]), browserUA, "").body)),
		} {
			if got := do(t, "POST", prefsA, browserUA, body); got.code != 403 {
				t.Errorf("%s: %d, want 403", name, got.code)
			}
		}

		// A contact id in the form is ignored: only the token names the contact.
		got := do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "save", "contact_id", itoa64(b.ID),
			"topic", itoa64(alerts.ID), "frequency", "weekly", "first_name", `<script>alert("x")</script>`, "postal_code", "10001"))
		if got.code != 200 || !strings.Contains(got.body, "saved") || strings.Contains(got.body, "<script>alert") {
			t.Fatalf("save: %d\n%s", got.code, got.body)
		}
		type view struct {
			First, Postal, Frequency string
			OptedOut                 map[int64]bool
			Paused                   bool
		}
		look := func(id int64) view {
			p, err := f.st.GetPreferences(ctx, id, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return view{p.Contact.FirstName, p.Contact.PostalCode, p.Frequency, p.OptedOut, p.PausedUntil != nil}
		}
		wantA := view{`<script>alert("x")</script>`, "10001", store.FrequencyWeekly, map[int64]bool{news.ID: true}, false}
		if diff := cmp.Diff(wantA, look(a.ID)); diff != "" {
			t.Errorf("contact A after save (-want +got):\n%s", diff)
		}
		wantB := view{b.FirstName, "", store.FrequencyAll, map[int64]bool{}, false}
		if diff := cmp.Diff(wantB, look(b.ID)); diff != "" {
			t.Errorf("contact B changed by A's form (-want +got):\n%s", diff)
		}

		if got := do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "pause", "days", "45")); got.code != 400 {
			t.Errorf("pause 45 days: %d, want 400", got.code)
		}
		if got := do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "frobnicate")); got.code != 400 {
			t.Errorf("unknown action: %d, want 400", got.code)
		}
		if got := do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "pause", "days", "60")); got.code != 200 || !strings.Contains(got.body, "paused until") {
			t.Fatalf("pause 60 days: %d\n%s", got.code, got.body)
		}
		p, _ := f.st.GetPreferences(ctx, a.ID, time.Now())
		if p.PausedUntil == nil || time.Until(*p.PausedUntil) < 59*24*time.Hour || time.Until(*p.PausedUntil) > 61*24*time.Hour {
			t.Errorf("paused until %v, want about 60 days from now", p.PausedUntil)
		}
		do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "resume"))
		if look(a.ID).Paused {
			t.Error("still paused after resume")
		}

		do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "unsubscribe"))
		if c, _ := f.st.GetContact(ctx, a.ID); c.Status != store.ContactUnsubscribed {
			t.Fatalf("after unsubscribe from the preference center: %s", c.Status)
		}
		got = do(t, "POST", prefsA, browserUA, form("csrf", csrf, "action", "resubscribe"))
		c, _ := f.st.GetContact(ctx, a.ID)
		sup, _ := f.st.IsSuppressed(ctx, a.Email)
		if got.code != 200 || c.Status != store.ContactSubscribed || sup {
			t.Errorf("after resubscribe: %d, %s, suppressed %v; want 200, subscribed, not suppressed", got.code, c.Status, sup)
		}
		if len(f.notified) != 1 {
			t.Errorf("%d webhook notifications, want 1 (the unsubscribe)", len(f.notified))
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestPreferencesInputRules checks that the preference center refuses, with
// a 422 naming the field, CR LF, NUL, control characters and invalid UTF-8,
// and saves nothing of that form.
func TestPreferencesInputRules(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 1, time.Nanosecond)
		ctx := context.Background()
		a := f.contacts[0]
		prefs := f.links.Preferences(f.sends[0])
		csrf := csrfOf(t, do(t, "GET", prefs, browserUA, "").body)
		for _, tc := range []struct{ name, field, value string }{
			{"header injection in a first name", "first_name", "Evil\r\nBcc: x@example.org"},
			{"NUL in a postal code", "postal_code", "1\x00"},
			{"invalid UTF-8 in a first name", "first_name", "Jos\xe9"},
			{"escape in a frequency", "frequency", "weekly\x1b"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := map[string]string{"csrf": csrf, "action": "save", "frequency": "weekly", "first_name": "Ann", "postal_code": "10001"}
				v[tc.field] = tc.value
				got := do(t, "POST", prefs, browserUA, form("csrf", v["csrf"], "action", "save", "frequency", v["frequency"],
					"first_name", v["first_name"], "postal_code", v["postal_code"]))
				if got.code != 422 || !strings.Contains(got.body, tc.field+": ") {
					t.Errorf("%d, want 422 naming %s:\n%s", got.code, tc.field, got.body)
				}
			})
		}
		p, err := f.st.GetPreferences(ctx, a.ID, time.Now())
		if err != nil || p.Contact.FirstName != a.FirstName || p.Contact.PostalCode != "" || p.Frequency != store.FrequencyAll {
			t.Errorf("after refused forms: %+v, %v", p, err)
		}
	})
}

// TestUnsubscribeReasonRule checks that a reason typed with a NUL or control
// characters is dropped, not stored, and never stops the unsubscribe.
func TestUnsubscribeReasonRule(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 1, time.Nanosecond)
		unsub := f.links.Unsubscribe(f.sends[0])
		csrf := csrfOf(t, do(t, "GET", unsub, browserUA, "").body)
		got := do(t, "POST", unsub, browserUA, form("csrf", csrf, "scope", "all", "reason", "too_many", "reason_text", "bad\x00text\x1b"))
		if got.code != 200 {
			t.Fatalf("unsubscribe: %d\n%s", got.code, got.body)
		}
		if c, _ := f.st.GetContact(context.Background(), f.contacts[0].ID); c.Status != store.ContactUnsubscribed {
			t.Errorf("status %s, want unsubscribed", c.Status)
		}
		if len(f.notified) != 1 || f.notified[0]["reason"] != "too_many" {
			t.Errorf("notified %v; want one unsubscribe with the reason too_many alone", f.notified)
		}
	})
}
