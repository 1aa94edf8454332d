package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminSendControls drives a send from the admin UI's forms, as a
// browser without JavaScript would: the typed confirmation (asked always
// with a threshold of 0), pause, resume and cancel on the progress page,
// which a viewer sees without buttons and cannot use; and a schedule, whose
// time must be ahead.
func TestAdminSendControls(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_WORKERS": "2", "DEARFRIEND_BATCH_SIZE": "20", "DEARFRIEND_CONFIRM_ABOVE": "0"})
			base := h.app.URL()
			const password = "correct horse battery"
			for email, role := range map[string]string{"maya@example.org": store.RoleOrganizer, "vic@example.org": store.RoleViewer} {
				if _, err := admin.CreateUser(context.Background(), h.app.Store(), email, role, password); err != nil {
					t.Fatal(err)
				}
			}
			organizer := signedInClient(t, base, "maya@example.org", password)
			viewer := signedInClient(t, base, "vic@example.org", password)
			camp, _ := h.mustDraftCampaign(300)
			// Slow enough that the buttons are pressed while it sends.
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{"per_second": 20}, nil); code != http.StatusOK {
				t.Fatalf("set rate: %d", code)
			}
			page := fmt.Sprintf("/admin/campaigns/%d", camp)
			status := func() string {
				var c store.Campaign
				h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c)
				return c.Status
			}
			post := func(c *http.Client, path string, form url.Values) int {
				t.Helper()
				form.Set("csrf", csrfOf(t, getPage(t, c, base+page).body))
				resp, err := c.PostForm(base+path, form)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}

			review := getPage(t, organizer, base+page)
			if !strings.Contains(review.body, `id="recipients">300<`) || !strings.Contains(review.body, `id="f-confirm"`) {
				t.Fatalf("review lacks the count of 300 or the confirmation field:\n%s", review.body)
			}
			if code := post(organizer, page+"/send", url.Values{"when": {"now"}, "confirm": {"299"}}); code != http.StatusUnprocessableEntity || status() != store.CampaignDraft {
				t.Fatalf("send with the wrong number: %d, campaign %s; want 422 and still a draft", code, status())
			}
			if code := post(organizer, page+"/send", url.Values{"when": {"now"}, "confirm": {"300"}}); code != http.StatusOK || status() != store.CampaignSending {
				t.Fatalf("send: %d, campaign %s", code, status())
			}

			progress := getPage(t, organizer, base+page)
			for _, want := range []string{`action="` + page + `/pause"`, `action="` + page + `/cancel"`, `http-equiv="refresh"`, `id="total">300<`} {
				if !strings.Contains(progress.body, want) {
					t.Errorf("organizer's progress page lacks %s", want)
				}
			}
			if seen := getPage(t, viewer, base+page).body; strings.Contains(seen, "/pause") || strings.Contains(seen, "/cancel") {
				t.Error("a viewer's progress page shows the pause or cancel button")
			}
			if code := post(viewer, page+"/pause", url.Values{}); code != http.StatusForbidden || status() != store.CampaignSending {
				t.Errorf("a viewer's pause: %d, campaign %s; want 403 and still sending", code, status())
			}
			for _, step := range []struct{ action, want string }{
				{"pause", store.CampaignPaused}, {"resume", store.CampaignSending}, {"cancel", store.CampaignCancelled},
			} {
				if code := post(organizer, page+"/"+step.action, url.Values{}); code != http.StatusOK || status() != step.want {
					t.Fatalf("%s: %d, campaign %s; want %s", step.action, code, status(), step.want)
				}
			}
			if body := getPage(t, organizer, base+page).body; strings.Contains(body, `http-equiv="refresh"`) || strings.Contains(body, "/resume") {
				t.Error("a cancelled campaign's page still reloads itself or offers to resume")
			}

			// A schedule in the past is refused at its field; one ahead holds.
			var c store.Campaign
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c)
			var later store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "later", "message_id": c.MessageID, "audience": c.Audience}, &later); code != http.StatusCreated {
				t.Fatalf("create draft: %d", code)
			}
			camp, page = later.ID, fmt.Sprintf("/admin/campaigns/%d", later.ID)
			if code := post(organizer, page+"/send", url.Values{"when": {"later"}, "send_at": {"2001-01-01T09:00"}, "confirm": {"300"}}); code != http.StatusUnprocessableEntity {
				t.Errorf("schedule in the past: %d, want 422", code)
			}
			if code := post(organizer, page+"/send", url.Values{"when": {"later"}, "send_at": {"2099-05-01T09:00"}, "confirm": {"300"}}); code != http.StatusOK || status() != store.CampaignScheduled {
				t.Errorf("schedule: %d, campaign %s; want scheduled", code, status())
			}

			// The sent message is what its recipients got: saving over it is refused.
			msgPage := fmt.Sprintf("/admin/messages/%d", c.MessageID)
			edit := url.Values{"csrf": {csrfOf(t, getPage(t, organizer, base+msgPage).body)}, "subject": {"Changed"},
				"from_email": {"action@example.org"}, "html": {"<p>changed</p>"}}
			if p := postPage(t, organizer, base+msgPage, edit); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "copy it to change it") {
				t.Errorf("saving over a sent message: %d\n%s", p.status, p.body)
			}

			// The wizard's optional A/B step: a subject that does not compile
			// is refused at its field; two good ones make a test of A and B.
			wizard := url.Values{"csrf": {csrfOf(t, getPage(t, organizer, base+"/admin/campaigns/new").body)}, "do": {"next"},
				"name": {"ab"}, "message": {fmt.Sprint(c.MessageID)}, "lists": {fmt.Sprint(c.Audience.Lists[0])},
				"subject_b": {"Last chance, {{ .Nope"}, "ab_share": {"20"}, "ab_metric": {"clicks"}, "ab_wait": {"90m"}}
			resp, err := organizer.PostForm(base+"/admin/campaigns/new", wizard)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("a subject B that does not compile: %d, want 422", resp.StatusCode)
			}
			wizard.Set("subject_b", `Last chance, {{ .FirstName | default "friend" }}`)
			resp, err = organizer.PostForm(base+"/admin/campaigns/new", wizard)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var variants struct {
				AB       store.ABTest    `json:"ab_test"`
				Variants []store.Variant `json:"variants"`
			}
			abID := strings.TrimPrefix(resp.Request.URL.Path, "/admin/campaigns/")
			h.call("GET", "/api/v1/campaigns/"+abID+"/variants", nil, &variants)
			if len(variants.Variants) != 2 || variants.Variants[1].Subject != `Last chance, {{ .FirstName | default "friend" }}` ||
				variants.AB.Share != 20 || variants.AB.Metric != "clicks" || variants.AB.WaitSeconds != 5400 {
				t.Errorf("A/B campaign %s: %+v", abID, variants)
			}
		})
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// postPage posts a form and reads the answer.
func postPage(t *testing.T, c *http.Client, u string, form url.Values) fetched {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, string(b)}
}
