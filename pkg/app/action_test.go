package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestPetitionEndToEnd creates a petition, sends a campaign whose message links
// to it with action_link, opens the link from a captured message, sees the
// page recognize the recipient, signs with one button and sees the count rise
// by one, attributed to the campaign; a second click counts nothing more.
func TestPetitionEndToEnd(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			var pet struct {
				ID              int64 `json:"id"`
				TotalSignatures int64 `json:"total_signatures"`
			}
			if code := h.call("POST", "/api/v1/petitions", map[string]any{"slug": "northfork", "title": "Protect the North Fork",
				"target": "Governor Reyes", "petition_text": "Deny the permit.", "goal": 100}, &pet); code != 201 {
				t.Fatalf("create petition: %d", code)
			}
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": "jane@example.org", "first_name": "Jane", "last_name": "Doe", "lists": []int64{list.ID}}, nil); code != 201 {
				t.Fatalf("create contact: %d", code)
			}
			var msg store.Message
			h.call("POST", "/api/v1/messages", map[string]any{"subject": "Add your name", "from_name": "Maya", "from_email": "action@example.org",
				"html": `<p>Dear {{ .FirstName }},</p><p><a href="{{ action_link "northfork" }}">ADD YOUR NAME</a></p>`}, &msg)
			var camp store.Campaign
			h.call("POST", "/api/v1/campaigns", map[string]any{"name": "alert", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp.ID)

			e := parseEmail(t, h.capture.Messages()[0].Data)
			link := regexp.MustCompile(`href="(http://[^"]+/a/northfork\?r=[^"]+)"`).FindStringSubmatch(e.html)
			if link == nil {
				t.Fatalf("no action link in:\n%s", e.html)
			}
			page := h.mustGetPage(link[1])
			if !strings.Contains(page, "Not Jane? Sign as someone else") || !strings.Contains(page, "<strong>0</strong> signatures") {
				t.Fatalf("the page does not recognize Jane or miscounts:\n%s", page)
			}
			form := url.Values{}
			for _, m := range regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
				form.Set(m[1], m[2])
			}
			base := link[1][:strings.Index(link[1], "/a/")]
			for range 2 {
				resp, err := h.browser.PostForm(base+"/a/northfork/sign", form)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), "<strong>1</strong> signature") {
					t.Fatalf("sign: %d\n%s", resp.StatusCode, body)
				}
			}
			if code := h.call("GET", fmt.Sprintf("/api/v1/petitions/%d", pet.ID), nil, &pet); code != 200 || pet.TotalSignatures != 1 {
				t.Errorf("petition: %d, total_signatures %d; want 1", code, pet.TotalSignatures)
			}
			if n, err := h.app.Store().CountCampaignSignatures(context.Background(), pet.ID, camp.ID); err != nil || n != 1 {
				t.Errorf("signatures attributed to the campaign: %d, %v; want 1", n, err)
			}
			var rep store.Report
			if code := h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp.ID), nil, &rep); code != 200 || rep.Actions != 1 || rep.ActionRate != 1 {
				t.Errorf("campaign stats: %d, %d actions, action rate %v; want 1 of 1 delivered", code, rep.Actions, rep.ActionRate)
			}
		})
	}
}

// newBrowser returns a client that keeps cookies as a browser does: the sign
// forms' CSRF tokens are bound to a visitor cookie. Each harness has its own:
// a cookie jar ignores ports, so apps of tests running in parallel on
// 127.0.0.1 would overwrite each other's visitor cookie in a shared one.
func newBrowser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return &http.Client{Jar: jar}
}

// mustGetPage gets u with the harness's browser and returns the page.
func (h *harness) mustGetPage(u string) string {
	t := h.t
	t.Helper()
	resp, err := h.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return string(b)
}
