package app_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestPreviewAndTestSend renders a saved message for a contact and for the
// sample contact, downloads it as .eml, and sends a test that arrives marked
// as one and whose tracked links count nothing.
func TestPreviewAndTestSend(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			var jane store.Contact
			if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": "jane@example.org", "first_name": "Jane"}, &jane); code != 201 {
				t.Fatalf("create contact: %d", code)
			}
			mustPetition(t, h, "northfork", 0) // action_link names it
			var msg struct {
				store.Message
				Warnings []string
			}
			code := h.call("POST", "/api/v1/messages", map[string]any{
				"subject": `{{ .FirstName | default "Friend" }}, add your name`, "from_name": "Maya", "from_email": "action@example.org",
				"html": `<p>Dear {{ .FirstName | default "Friend" }},</p>
<p onclick="steal()"><a href="https://example.org/petitions/northfork">Read the petition</a></p>
<p><a class="button" href="{{ action_link "northfork" }}">ADD YOUR NAME</a> or <a href="{{ share_x "https://example.org/petitions/northfork" }}">post it</a></p>
<script>steal()</script>`}, &msg)
			if code != 201 {
				t.Fatalf("create message: %d", code)
			}
			wantWarnings := []string{"onclick attribute removed from <p>: mail clients do not run scripts", "<script> removed: mail clients do not run or show it"}
			if fmt.Sprint(msg.Warnings) != fmt.Sprint(wantWarnings) {
				t.Errorf("warnings = %q, want %q", msg.Warnings, wantWarnings)
			}
			base := fmt.Sprintf("/api/v1/messages/%d", msg.ID)

			resp, body := h.get(fmt.Sprintf("%s/preview?contact_id=%d", base, jane.ID))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Dear Jane,") {
				t.Fatalf("preview as Jane: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			for _, gone := range []string{"<script", "onclick", "steal()"} {
				if strings.Contains(body, gone) {
					t.Errorf("preview still holds %q", gone)
				}
			}
			if _, body := h.get(base + "/preview"); !strings.Contains(body, "Dear Friend,") || !strings.Contains(body, "friend@example.org") {
				t.Errorf("preview as the sample contact lacks the fallbacks:\n%s", body)
			}

			resp, body = h.get(fmt.Sprintf("%s/preview.eml?contact_id=%d", base, jane.ID))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "message/rfc822" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("preview.eml: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
			}
			eml := parseEmail(t, []byte(body))
			if got := eml.header.Get("Subject"); got != "Jane, add your name" {
				t.Errorf("eml Subject = %q", got)
			}
			if !strings.Contains(eml.html, "Dear Jane,") || !strings.Contains(eml.text, "Dear Jane,") {
				t.Errorf("eml parts lack the salutation")
			}
			// A preview carries the campaign messages' headers, org short name included.
			if got := eml.header.Get("Feedback-Id"); !strings.HasSuffix(got, ":northfork-river-alliance:dearfriend") {
				t.Errorf("eml Feedback-ID = %q, want the org short name", got)
			}

			var queued struct{ Emails []string }
			if code := h.call("POST", base+"/test", map[string]any{"emails": []string{"Staff@Example.org", "boss@example.org"}}, &queued); code != 202 {
				t.Fatalf("test send: %d", code)
			}
			h.waitCaptured(2)
			for _, m := range h.capture.Messages() {
				e := parseEmail(t, m.Data)
				if got := e.header.Get("Subject"); got != "[Test] Friend, add your name" || e.header.Get("X-Dearfriend-Test") != "1" {
					t.Errorf("test to %v: Subject %q, X-Dearfriend-Test %q", m.To, got, e.header.Get("X-Dearfriend-Test"))
				}
				// A test names no send: no pixel and no tracked link; the links
				// that would name a send open a page that says it is a test.
				if dead := regexp.MustCompile(`(?:href|src)="http://[^"]+/(?:t/c|t/o|u|p|v)/[^"]*"|\?r=`).FindString(e.html); dead != "" {
					t.Errorf("test message has a link that names a send: %s", dead)
				}
				links := regexp.MustCompile(`href="(http://[^"]+/t/test/[^"]+)"`).FindAllStringSubmatch(e.html, -1)
				if len(links) < 3 {
					t.Fatalf("test message has %d links to the test page:\n%s", len(links), e.html)
				}
				for _, l := range links {
					resp, err := http.Get(strings.ReplaceAll(l[1], "&amp;", "&"))
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.Contains(string(b), "This is a test email") {
						t.Errorf("GET %s from a test message: %d, want the test page", l[1], resp.StatusCode)
					}
				}
			}
			if fmt.Sprint(queued.Emails) != "[Staff@example.org boss@example.org]" { // the domain lowercased, the local part as written
				t.Errorf("queued to %q", queued.Emails)
			}

			tests := []struct {
				name, method, path string
				body               any
				status             int
				field, message     string
			}{
				{"eleven addresses", "POST", base + "/test", map[string]any{"emails": strings.Split(strings.Repeat("a@example.org,", 11), ",")[:11]}, 422, "emails", "1 to 10"},
				{"bad address", "POST", base + "/test", map[string]any{"emails": []string{"a@example.org", "nope"}}, 422, "emails[1]", ""},
				{"unknown message", "POST", "/api/v1/messages/999999/test", map[string]any{"emails": []string{"a@example.org"}}, 404, "", ""},
				{"unknown contact", "GET", base + "/preview?contact_id=999999", nil, 422, "contact_id", "does not exist"},
				{"unknown message preview", "GET", "/api/v1/messages/999999/preview", nil, 404, "", ""},
				{"shortener", "POST", "/api/v1/messages", map[string]any{"subject": "Hi", "from_name": "M", "from_email": "a@example.org",
					"html": `<p><a href="https://bit.ly/abc">sign</a></p>`}, 422, "html", `link "https://bit.ly/abc" goes through the URL shortener bit.ly`},
				{"unreadable CSS", "POST", "/api/v1/messages", map[string]any{"subject": "Hi", "from_name": "M", "from_email": "a@example.org",
					"html": `<style>.x { color: red; </style><p class="x">a</p>`}, 422, "html", `rule ".x": missing '}'`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var e apiError
					code := h.call(tt.method, tt.path, tt.body, &e)
					if code != tt.status || e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.message) {
						t.Fatalf("got %d field %q message %q; want %d field %q message containing %q", code, e.Error.Field, e.Error.Message, tt.status, tt.field, tt.message)
					}
				})
			}
			time.Sleep(200 * time.Millisecond) // a wrongly queued test would have arrived by now
			if n := h.capture.Count(); n != 2 {
				t.Errorf("%d messages captured, want the 2 tests", n)
			}
		})
	}
}

// get fetches path from the API with the test token and returns the body as text.
func (h *harness) get(path string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest("GET", h.app.URL()+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, string(b)
}

// waitCaptured waits until the capture server holds n messages.
func (h *harness) waitCaptured(n int64) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.capture.Count() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d messages captured after 30 s, want %d", h.capture.Count(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCampaignUTM sends a campaign with UTM parameters: they are stored with
// it, and its tracked links redirect to targets carrying them, without
// changing a parameter the link already had.
func TestCampaignUTM(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			var list store.List
			if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Staff"}, &list); code != 201 {
				t.Fatalf("create list: %d", code)
			}
			if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": "ada@example.org", "lists": []int64{list.ID}}, nil); code != 201 {
				t.Fatalf("create contact: %d", code)
			}
			var msg store.Message
			if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Hi", "from_name": "M", "from_email": "action@example.org",
				"html": `<p><a href="https://example.org/sign?utm_source=partner#form">sign</a></p>`}, &msg); code != 201 {
				t.Fatalf("create message: %d", code)
			}
			utm := map[string]any{"utm_source": "email", "utm_medium": "alert", "utm_campaign": "north fork"}
			var camp store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "c", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}, "utm": utm}, &camp); code != 201 {
				t.Fatalf("create campaign: %d", code)
			}
			var got store.Campaign
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), nil, &got)
			if want := (store.UTM{Source: "email", Medium: "alert", Campaign: "north fork"}); got.UTM != want {
				t.Fatalf("stored UTM = %+v, want %+v", got.UTM, want)
			}
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp.ID)
			e := parseEmail(t, h.capture.Messages()[0].Data)
			click := regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`).FindStringSubmatch(e.html)
			if click == nil {
				t.Fatalf("no tracked link:\n%s", e.html)
			}
			resp := mustDo(t, "GET", click[1], "")
			if want := "https://example.org/sign?utm_source=partner&utm_medium=alert&utm_campaign=north+fork#form"; resp.StatusCode != 302 || resp.Header.Get("Location") != want {
				t.Errorf("click: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
			}
			var bad apiError
			utm["utm_medium"] = "a\nb"
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "d", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}, "utm": utm}, &bad); code != 422 || bad.Error.Field != "utm.utm_medium" {
				t.Errorf("UTM with a line break: %d %+v, want 422 on utm.utm_medium", code, bad.Error)
			}
		})
	}
}
