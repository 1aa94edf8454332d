package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestScheduleInTimeZone schedules from the review form in a chosen time
// zone: an unknown zone is refused at its field, a time is stored as the
// instant it names there; and a campaign delivered at a time in each
// recipient's own zone reaches those whose time has come, while the others
// wait in the ledger for theirs (contacts without a zone take the
// campaign's).
func TestScheduleInTimeZone(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, fastSweep, map[string]string{"DEARFRIEND_CONFIRM_ABOVE": "1000", "DEARFRIEND_TIME_ZONE": "America/New_York"})
			base, ctx := h.app.URL(), context.Background()
			if _, err := admin.CreateUser(ctx, h.app.Store(), "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			organizer := signedInClient(t, base, "maya@example.org", "correct horse battery")
			camp, emails := h.mustDraftCampaign(4)
			zones := []string{"Asia/Tokyo", "Pacific/Kiritimati", "America/Los_Angeles", ""}
			for i, z := range zones {
				c, err := h.app.Store().ContactByEmail(ctx, emails[i])
				if err != nil {
					t.Fatal(err)
				}
				if _, err := h.app.Store().UpdateContact(ctx, c.ID, store.ContactPatch{TimeZone: &z}); err != nil {
					t.Fatal(err)
				}
			}
			schedule := func(id int64, form url.Values) fetched {
				t.Helper()
				page := fmt.Sprintf("%s/admin/campaigns/%d", base, id)
				form.Set("csrf", csrfOf(t, getPage(t, organizer, page).body))
				form.Set("when", "later")
				return postPage(t, organizer, page+"/send", form)
			}
			campaign := func(id int64) store.Campaign {
				var c store.Campaign
				h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", id), nil, &c)
				return c
			}

			// The organization's zone is the schedule's default, kept over the browser's.
			if review := getPage(t, organizer, fmt.Sprintf("%s/admin/campaigns/%d", base, camp)).body; !strings.Contains(review, "<option selected>America/New_York</option>") ||
				strings.Contains(review, "data-browser-zone") {
				t.Errorf("the review does not default to the organization's zone:\n%s", review)
			}
			p := schedule(camp, url.Values{"send_at": {"2099-05-01T09:00"}, "time_zone": {"Mars/Olympus_Mons"}})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="f-time_zone-error">&#34;Mars/Olympus_Mons&#34; is not an IANA time zone`) {
				t.Fatalf("an unknown zone: %d\n%s", p.status, p.body)
			}
			if c := campaign(camp); c.Status != store.CampaignDraft {
				t.Fatalf("after a refused schedule the campaign is %s", c.Status)
			}

			// Nine in the morning in Kolkata (UTC+5:30) is 03:30 UTC.
			var other store.Campaign
			c := campaign(camp)
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "kolkata", "message_id": c.MessageID, "audience": c.Audience}, &other); code != http.StatusCreated {
				t.Fatalf("create draft: %d", code)
			}
			if p := schedule(other.ID, url.Values{"send_at": {"2099-05-01T09:00"}, "time_zone": {"Asia/Kolkata"}}); p.status != http.StatusOK || !strings.Contains(p.body, "at 09:00 on Fri 1 May 2099 Asia/Kolkata") {
				t.Fatalf("schedule in Kolkata: %d\n%s", p.status, p.body)
			}
			if got := campaign(other.ID); got.SendAt == nil || !got.SendAt.Equal(time.Date(2099, 5, 1, 3, 30, 0, 0, time.UTC)) || got.TimeZone != "Asia/Kolkata" {
				t.Errorf("scheduled at %v in %q, want 2099-05-01 03:30 UTC in Asia/Kolkata", got.SendAt, got.TimeZone)
			}

			// Two hours from now as a wall clock: past already in Tokyo and
			// Kiritimati, hours ahead in Los Angeles and New York (the
			// campaign's zone, for the contact without one).
			wall := time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")
			p = schedule(camp, url.Values{"send_at": {wall}, "time_zone": {"America/New_York"}, "local": {"1"}})
			if p.status != http.StatusOK || !strings.Contains(p.body, "time zone (America/New_York for contacts without one)") {
				t.Fatalf("schedule at local time: %d\n%s", p.status, p.body)
			}
			deadline := time.Now().Add(time.Minute)
			for h.received(emails[0]) == 0 || h.received(emails[1]) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("after a minute Tokyo got %d, Kiritimati %d; want 1 each (campaign %s)", h.received(emails[0]), h.received(emails[1]), campaign(camp).Status)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// The relay takes a message before its outcome is written; wait
			// for the two outcomes, then look at the rest.
			var prog store.Progress
			for {
				h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/progress", camp), nil, &prog)
				if prog.Sent >= 2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if h.received(emails[2]) != 0 || h.received(emails[3]) != 0 || prog.Status != store.CampaignSending || prog.Sent != 2 {
				t.Errorf("Los Angeles got %d, New York %d; progress %+v: want the two waiting for their time and the campaign sending",
					h.received(emails[2]), h.received(emails[3]), prog)
			}
		})
	}
}

// received counts the messages the relay took for email.
func (h *harness) received(email string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byRcpt[email]
}
