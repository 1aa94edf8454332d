package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestOptOutHoldsInAnyCase unsubscribes a supporter in one click, then
// meets the same address in upper case through the API and an import: the
// opt-out holds and the next campaign does not mail them.
func TestOptOutHoldsInAnyCase(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			for _, e := range []string{"supporter0999@example.org", "other@example.org"} {
				if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": e, "lists": []int64{list.ID}}, nil); code != 201 {
					t.Fatalf("create %s: %d", e, code)
				}
			}
			var msg store.Message
			h.call("POST", "/api/v1/messages", map[string]any{"subject": "Alert", "from_name": "Maya", "from_email": "action@example.org",
				"html": "<p>Dear Friend,</p>"}, &msg)
			campaign := func(name string) int64 {
				t.Helper()
				var camp store.Campaign
				h.call("POST", "/api/v1/campaigns", map[string]any{"name": name, "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
				if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
					t.Fatalf("send %s: %d", name, code)
				}
				h.waitFinished(camp.ID)
				return camp.ID
			}
			campaign("first")
			var unsub string
			for _, m := range h.capture.Messages() {
				if m.To[0] == "supporter0999@example.org" {
					lu := parseEmail(t, m.Data).header.Get("List-Unsubscribe")
					if u := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(lu); u != nil {
						unsub = u[1]
					}
				}
			}
			if unsub == "" {
				t.Fatal("no one-click unsubscribe URL in the message to supporter0999@")
			}
			if resp := mustDo(t, "POST", unsub, "List-Unsubscribe=One-Click"); resp.StatusCode != 200 {
				t.Fatalf("one-click: %d", resp.StatusCode)
			}

			var e apiError
			if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": "Supporter0999@Example.org", "lists": []int64{list.ID}}, &e); code != 409 {
				t.Errorf("API create in upper case: %d %+v, want 409", code, e.Error)
			}
			imp := h.mustImport("email,first_name\nSupporter0999@Example.org,Sue\nSUPPORTER0999@EXAMPLE.ORG,Sue\n", list.Name)
			if got := [3]int64{imp.Imported, imp.Updated, imp.Rejected}; got != [3]int64{0, 1, 1} {
				t.Errorf("import imported/updated/rejected = %v, want [0 1 1]: the existing contact updated, the repeat reported", got)
			}
			var found struct{ Contacts []store.Contact }
			h.call("GET", "/api/v1/contacts?email="+url.QueryEscape("SUPPORTER0999@example.ORG"), nil, &found)
			if len(found.Contacts) != 1 || found.Contacts[0].Status != store.ContactUnsubscribed || found.Contacts[0].FirstName != "Sue" {
				t.Errorf("contact after the upper-case comebacks: %+v, want one, unsubscribed, named Sue", found.Contacts)
			}
			if n, err := h.app.Store().CountContacts(context.Background()); err != nil || n != 2 {
				t.Errorf("contacts = %d, %v; want 2", n, err)
			}

			had := h.capture.Count()
			campaign("second")
			if got := h.capture.Count() - had; got != 1 {
				t.Errorf("second campaign sent %d messages, want 1 (other@ only)", got)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			for rcpt, n := range h.byRcpt {
				if strings.EqualFold(rcpt, "supporter0999@example.org") && n != 1 {
					t.Errorf("%s received %d messages, want 1: the first campaign only", rcpt, n)
				}
			}
		})
	}
}

// mustImport uploads file into the list named list and waits for its end.
func (h *harness) mustImport(file, list string) store.Import {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", list)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, file)
	mw.Close()
	req, _ := http.NewRequest("POST", h.app.URL()+"/api/v1/imports", &buf)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var imp store.Import
	if err := json.NewDecoder(resp.Body).Decode(&imp); err != nil || resp.StatusCode != 202 {
		h.t.Fatalf("upload: %d, %v", resp.StatusCode, err)
	}
	for deadline := time.Now().Add(30 * time.Second); imp.Status == store.ImportRunning; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatalf("import %d still running after 30 s", imp.ID)
		}
		h.call("GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp)
	}
	if imp.Status != store.ImportDone {
		h.t.Fatalf("import %s: %s", imp.Status, imp.Error)
	}
	return imp
}

// TestTestSendOncePerPerson queues a test to one staff address written
// three ways and another: two messages, one per person.
func TestTestSendOncePerPerson(t *testing.T) {
	t.Parallel()
	h := start(t, backends(t)[0])
	var msg store.Message
	h.call("POST", "/api/v1/messages", map[string]any{"subject": "Alert", "from_name": "Maya", "from_email": "action@example.org",
		"html": "<p>Dear Friend,</p>"}, &msg)
	var queued struct{ Emails []string }
	if code := h.call("POST", fmt.Sprintf("/api/v1/messages/%d/test", msg.ID), map[string]any{
		"emails": []string{"Staff@Example.org", "staff@example.org", "boss@example.org", "STAFF@EXAMPLE.ORG"}}, &queued); code != 202 {
		t.Fatalf("test send: %d", code)
	}
	if fmt.Sprint(queued.Emails) != "[Staff@example.org boss@example.org]" {
		t.Errorf("queued to %q, want Staff@example.org (as first written) and boss@example.org", queued.Emails)
	}
	h.waitCaptured(2)
}

// TestSignFormOncePerPersonAnyCase signs a petition's public form as
// CaseTest@, casetest@ and CASETEST@example.org: one signature.
func TestSignFormOncePerPersonAnyCase(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_TRUST_PROXY": "true"})
			pet := mustPetition(t, h, "casetest", 0)
			page := h.mustGetPage(h.app.URL() + "/a/casetest")
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if csrf == nil {
				t.Fatalf("no CSRF token on the page:\n%s", page)
			}
			for i, email := range []string{"CaseTest@example.org", "casetest@example.org", "CASETEST@EXAMPLE.ORG"} {
				form := url.Values{"csrf": {csrf[1]}, "email": {email}, "first_name": {"Casey"}, "last_name": {"Test"}}
				if code := h.postForm(h.app.URL()+"/a/casetest/sign", fmt.Sprintf("198.51.100.%d", i+1), form); code != 200 {
					t.Fatalf("%s signs: %d", email, code)
				}
			}
			if n := mustCount(t, h, pet.ID); n != 1 {
				t.Errorf("%d signatures, want 1", n)
			}
		})
	}
}
