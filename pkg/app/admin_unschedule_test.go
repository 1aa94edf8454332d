package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminUnschedule: a scheduled campaign's page offers to take it back
// to its review, a draft again with a notice, from where it is sent now;
// its schedule is gone. Taking back one that is no longer scheduled is
// refused with a sentence and changes nothing; a viewer sees no button
// and is refused.
func TestAdminUnschedule(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_CONFIRM_ABOVE": "100"})
			base := h.app.URL()
			const password = "correct horse battery"
			for email, role := range map[string]string{"maya@example.org": store.RoleOrganizer, "vic@example.org": store.RoleViewer} {
				if _, err := admin.CreateUser(context.Background(), h.app.Store(), email, role, password); err != nil {
					t.Fatal(err)
				}
			}
			organizer := signedInClient(t, base, "maya@example.org", password)
			viewer := signedInClient(t, base, "vic@example.org", password)
			camp, _ := h.mustDraftCampaign(3)
			page := fmt.Sprintf("%s/admin/campaigns/%d", base, camp)
			campaign := func() *store.Campaign {
				t.Helper()
				c, err := h.app.Store().GetCampaign(context.Background(), camp)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			post := func(c *http.Client, path string, form url.Values) fetched {
				t.Helper()
				form.Set("csrf", csrfOf(t, getPage(t, c, page).body))
				return postPage(t, c, page+path, form)
			}

			if p := post(organizer, "/send", url.Values{"when": {"later"}, "send_at": {"2099-05-01T09:00"}, "time_zone": {"America/New_York"}}); p.status != http.StatusOK || campaign().Status != store.CampaignScheduled {
				t.Fatalf("schedule: %d, campaign %s", p.status, campaign().Status)
			}
			if body := getPage(t, viewer, page).body; strings.Contains(body, "/unschedule") {
				t.Error("a viewer's page of the scheduled campaign offers to unschedule it")
			}
			if p := post(viewer, "/unschedule", url.Values{}); p.status != http.StatusForbidden || campaign().Status != store.CampaignScheduled {
				t.Errorf("a viewer's unschedule: %d, campaign %s; want 403 and still scheduled", p.status, campaign().Status)
			}
			scheduled := getPage(t, organizer, page).body
			if !strings.Contains(scheduled, fmt.Sprintf(`action="/admin/campaigns/%d/unschedule"`, camp)) || !strings.Contains(scheduled, "America/New_York") {
				t.Fatalf("the scheduled campaign's page lacks the unschedule button or its time:\n%s", scheduled)
			}

			p := post(organizer, "/unschedule", url.Values{})
			if c := campaign(); p.status != http.StatusOK || c.Status != store.CampaignDraft || c.SendAt != nil {
				t.Fatalf("unschedule: %d, campaign %s at %v; want a draft without a time", p.status, c.Status, c.SendAt)
			}
			for _, want := range []string{"The campaign is a draft again: send it now, or choose another time.", `id="recipients">3<`, `id="send"`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("the review after unscheduling lacks %q:\n%s", want, p.body)
				}
			}
			if p := postPage(t, organizer, page+"/unschedule", url.Values{"csrf": {csrfOf(t, p.body)}}); p.status != http.StatusConflict ||
				!strings.Contains(p.body, "This campaign is not scheduled any more") || campaign().Status != store.CampaignDraft {
				t.Errorf("unscheduling a draft: %d, campaign %s\n%s", p.status, campaign().Status, p.body)
			}

			if p := post(organizer, "/send", url.Values{"when": {"now"}}); p.status != http.StatusOK {
				t.Fatalf("send now: %d\n%s", p.status, p.body)
			}
			h.waitFinished(camp)
			if c := campaign(); c.Status != store.CampaignSent {
				t.Errorf("after sending now the campaign is %s", c.Status)
			}
		})
	}
}
