package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestPetitionBotsAndConfirmation floods the sign endpoint with bot posts (no
// CSRF token, a filled honeypot, more than the per-address rate) and finds
// no signature added; then people sign from their own addresses, each new
// signature is announced to the "signature" webhook, and each signer gets one
// confirmation email, except the one whose address is suppressed.
func TestPetitionBotsAndConfirmation(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_SIGN_RATE": "5", "DEARFRIEND_TRUST_PROXY": "true"})
			pet := mustPetition(t, h, "bots", 0)
			hooked := make(chan string, 10)
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var d struct {
					Event string
					Data  struct{ Email string }
				}
				json.NewDecoder(r.Body).Decode(&d)
				hooked <- d.Event + " " + d.Data.Email
			}))
			defer receiver.Close()
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"signature"}}, nil); code != 201 {
				t.Fatalf("create webhook: %d", code)
			}
			signURL := h.app.URL() + "/a/bots/sign"
			page := h.mustGetPage(h.app.URL() + "/a/bots")
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if csrf == nil {
				t.Fatalf("no CSRF token on the page:\n%s", page)
			}
			person := func(email string) url.Values {
				return url.Values{"csrf": {csrf[1]}, "email": {email}, "first_name": {"Pat"}, "last_name": {"Lee"}}
			}

			statuses := map[int]int{}
			for i := range 30 {
				form := person("bot@example.org")
				switch i % 2 {
				case 0:
					form.Del("csrf")
				case 1:
					form.Set("homepage", "http://spam.example")
				}
				statuses[h.postForm(signURL, "203.0.113.9", form)]++
			}
			if statuses[http.StatusForbidden] == 0 || statuses[http.StatusOK] == 0 || statuses[http.StatusTooManyRequests] == 0 ||
				statuses[http.StatusForbidden]+statuses[http.StatusOK]+statuses[http.StatusTooManyRequests] != 30 {
				t.Errorf("bot posts answered %v; want 403 without a token, 200 with the honeypot filled, 429 over the rate", statuses)
			}
			if n := mustCount(t, h, pet.ID); n != 0 {
				t.Fatalf("the flood added %d signatures", n)
			}
			if _, err := h.app.Store().ContactByEmail(context.Background(), "bot@example.org"); err == nil {
				t.Error("a bot post stored a contact")
			}

			// People, each from an address of their own; one is suppressed.
			if _, err := h.app.Store().AddSuppressions(context.Background(), []store.Suppression{{Email: "gone@example.org", Reason: "complaint"}}); err != nil {
				t.Fatal(err)
			}
			for i, email := range []string{"gone@example.org", "sam@example.org", "sam@example.org"} {
				if code := h.postForm(signURL, fmt.Sprintf("198.51.100.%d", i+1), person(email)); code != 200 {
					t.Fatalf("%s signs: %d", email, code)
				}
			}
			if n := mustCount(t, h, pet.ID); n != 2 {
				t.Fatalf("%d signatures, want 2 (gone and sam, once)", n)
			}
			m := waitMessageTo(t, h, "sam@example.org")
			e := parseEmail(t, m)
			if got := e.header.Get("Subject"); got != "Thank you for signing: Protect the North Fork" {
				t.Errorf("confirmation subject %q", got)
			}
			var events []string
			for range 2 {
				select {
				case ev := <-hooked:
					events = append(events, ev)
				case <-time.After(30 * time.Second):
					t.Fatalf("signature webhooks after 30 s: %q, want 2", events)
				}
			}
			slices.Sort(events)
			if d := cmp.Diff([]string{"signature gone@example.org", "signature sam@example.org"}, events); d != "" {
				t.Errorf("signature webhooks (-want +got):\n%s", d)
			}
			if !strings.Contains(e.text, "Dear Pat,") || e.header.Get("List-Unsubscribe") != "" {
				t.Errorf("confirmation: text %q, List-Unsubscribe %q; want a greeting and no list header", e.text, e.header.Get("List-Unsubscribe"))
			}
			// gone@ was enqueued first and its task has ended by the time
			// sam's message is in; sam signed twice and is thanked once.
			h.mu.Lock()
			gone, sam := h.byRcpt["gone@example.org"], h.byRcpt["sam@example.org"]
			h.mu.Unlock()
			if gone != 0 || sam != 1 {
				t.Errorf("confirmations: %d to the suppressed address, %d to sam; want 0 and 1", gone, sam)
			}
		})
	}
}

// postForm posts form to u as a proxy in front would, naming the client address.
func (h *harness) postForm(u, clientAddr string, form url.Values) int {
	t := h.t
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", clientAddr)
	resp, err := h.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func mustCount(t *testing.T, h *harness, petitionID int64) int64 {
	t.Helper()
	n, err := h.app.Store().CountSignatures(context.Background(), petitionID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitMessageTo returns the first message captured for to, waiting up to 30 s.
func waitMessageTo(t *testing.T, h *harness, to string) []byte {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range h.capture.Messages() {
			if len(m.To) > 0 && m.To[0] == to {
				return m.Data
			}
		}
	}
	t.Fatalf("no message to %s within 30 s", to)
	return nil
}
