package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestReputationGuard: a campaign whose first answers are 40% hard bounces
// pauses itself, says why in the API and a webhook; the organizer's resume
// acknowledges those numbers, and the rest is sent without a new pause.
func TestReputationGuard(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			hooks := make(chan map[string]any, 100)
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var body map[string]any
				json.NewDecoder(r.Body).Decode(&body)
				hooks <- body
			}))
			defer receiver.Close()
			h := startWith(t, b, func(_ string, to []string) error {
				if strings.HasPrefix(to[0], "dead") {
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
				}
				return nil
			}, map[string]string{"DEARFRIEND_BATCH_SIZE": "10", "DEARFRIEND_WORKERS": "1", "DEARFRIEND_BOUNCE_GUARD_MIN": "10",
				"DEARFRIEND_BOUNCE_GUARD_HARD": "0.2"})
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"campaign.paused"}}, nil); code != 201 {
				t.Fatalf("create webhook: %d", code)
			}
			var emails []string
			for i := range 40 {
				if i < 10 && i%2 == 0 { // the first batch: half dead
					emails = append(emails, fmt.Sprintf("dead%02d@example.org", i))
				} else {
					emails = append(emails, fmt.Sprintf("live%02d@example.org", i))
				}
			}
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Guarded"}, &list)
			for _, e := range emails {
				if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": e, "lists": []int64{list.ID}}, nil); code != 201 {
					t.Fatalf("create contact %s: %d", e, code)
				}
			}
			var msg store.Message
			h.call("POST", "/api/v1/messages", map[string]any{"subject": "Act now", "from_name": "Maya", "from_email": "action@example.org",
				"html": `<p>Dear Friend,</p>`}, &msg)
			var camp store.Campaign
			h.call("POST", "/api/v1/campaigns", map[string]any{"name": "guarded", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
				t.Fatalf("send: %d", code)
			}
			var got store.Campaign
			for deadline := time.Now().Add(time.Minute); got.Status != store.CampaignPaused; {
				if time.Now().After(deadline) {
					t.Fatalf("campaign is %s, want paused by the guard", got.Status)
				}
				time.Sleep(50 * time.Millisecond)
				h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), nil, &got)
			}
			if !strings.Contains(got.PauseReason, "hard bounces") {
				t.Errorf("pause reason %q, want one naming hard bounces", got.PauseReason)
			}
			var p store.Progress
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/progress", camp.ID), nil, &p)
			if p.PauseReason != got.PauseReason {
				t.Errorf("progress pause reason %q, want %q", p.PauseReason, got.PauseReason)
			}
			if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, h.app.URL(), "maya@example.org", "correct horse battery")
			page := getPage(t, c, fmt.Sprintf("%s/admin/campaigns/%d", h.app.URL(), camp.ID))
			if page.status != 200 || !strings.Contains(page.body, `id="pause-reason"`) || !strings.Contains(page.body, "hard bounces are 50.0%") {
				t.Errorf("admin campaign page (%d) does not show the guard's reason", page.status)
			}
			select {
			case body := <-hooks:
				data, _ := body["data"].(map[string]any)
				if body["event"] != "campaign.paused" || data["reason"] != got.PauseReason || data["rate"] != "hard" {
					t.Errorf("webhook %v, want campaign.paused with the reason", body)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no campaign.paused webhook")
			}
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/resume", camp.ID), nil, nil); code != 200 {
				t.Fatalf("resume: %d", code)
			}
			h.waitFinished(camp.ID)
			got = store.Campaign{}
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), nil, &got)
			if got.PauseReason != "" {
				t.Errorf("pause reason %q after the resume, want none", got.PauseReason)
			}
			var rep store.Report
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp.ID), nil, &rep)
			if rep.Sent != 35 || rep.Bounced != 5 {
				t.Errorf("sent %d, bounced %d; want 35 and 5", rep.Sent, rep.Bounced)
			}
		})
	}
}
