package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestStrangerConfirmationMail checks the whole path of a stranger's sign
// with a known supporter's address: the supporter is not changed, the
// signature counts, the email mailed to the address carries a link (not
// tracked) whose page asks and whose button applies the changes.
func TestStrangerConfirmationMail(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			ctx := context.Background()
			pet := mustPetition(t, h, "fork", 0)
			jane := &store.Contact{Email: "jane@example.org", FirstName: "Jane", LastName: "Doe", Status: store.ContactUnsubscribed}
			if err := h.app.Store().CreateContact(ctx, jane); err != nil {
				t.Fatal(err)
			}
			page := h.mustGetPage(h.app.URL() + "/a/fork")
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if csrf == nil {
				t.Fatalf("no CSRF token:\n%s", page)
			}
			form := url.Values{"csrf": {csrf[1]}, "email": {"jane@example.org"}, "first_name": {"Evil"}, "last_name": {"Twin"},
				"postal_code": {"66666"}, "opt_in": {"1"}, "show_name": {"1"}, "city": {"Mordor"}}
			if code := h.postForm(h.app.URL()+"/a/fork/sign", "198.51.100.7", form); code != 200 {
				t.Fatalf("sign: %d", code)
			}
			look := func() []string {
				c, err := h.app.Store().GetContact(ctx, jane.ID)
				if err != nil {
					t.Fatal(err)
				}
				return []string{c.Status, c.FirstName, c.LastName, c.PostalCode}
			}
			if d := cmp.Diff([]string{store.ContactUnsubscribed, "Jane", "Doe", ""}, look()); d != "" {
				t.Errorf("the stranger changed Jane (-want +got):\n%s", d)
			}
			if n := mustCount(t, h, pet.ID); n != 1 {
				t.Errorf("%d signatures, want 1", n)
			}
			e := parseEmail(t, waitMessageTo(t, h, "jane@example.org"))
			link := regexp.MustCompile(`href="(http://[^"]+/a/fork/confirm/[^"]+)"`).FindStringSubmatch(e.html)
			if link == nil {
				t.Fatalf("no confirmation link in:\n%s", e.html)
			}
			if page := h.mustGetPage(link[1]); !strings.Contains(page, "Confirm these changes") {
				t.Fatalf("confirmation page:\n%s", page)
			}
			if look()[0] != store.ContactUnsubscribed {
				t.Fatal("opening the link subscribed Jane")
			}
			resp, err := h.browser.PostForm(link[1], nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("confirm: %d", resp.StatusCode)
			}
			if d := cmp.Diff([]string{store.ContactSubscribed, "Evil", "Twin", "66666"}, look()); d != "" {
				t.Errorf("after confirming (-want +got):\n%s", d)
			}
		})
	}
}
