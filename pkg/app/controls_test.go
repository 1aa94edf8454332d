package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestPauseResumeTenTimes pauses and resumes one campaign ten times while it
// sends: a pause holds (no message leaves once it took effect, and the ledger
// agrees with the relay), and in the end each recipient has exactly one
// message: no duplicates, nobody skipped.
func TestPauseResumeTenTimes(t *testing.T) {
	t.Parallel()
	const n = 2000
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_WORKERS": "2", "DEARFRIEND_BATCH_SIZE": "20"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "pause"), nil, nil); code != http.StatusConflict {
				t.Fatalf("pause a draft: %d, want 409", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "resume"), nil, nil); code != http.StatusConflict {
				t.Fatalf("resume a sending campaign: %d, want 409", code)
			}
			for i := range 10 {
				h.waitSentMore(camp, h.capture.Count())
				if code := h.call("POST", h.campaignPath(camp, "pause"), nil, nil); code != http.StatusOK {
					t.Fatalf("pause %d: %d", i, code)
				}
				if i%5 == 0 { // the pause holds; the others only pause and go on, to keep the test short
					held := h.waitHeld()
					var p store.Progress
					h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
					if p.Status != store.CampaignPaused || p.Remaining == 0 || p.Sent+p.Remaining != n {
						t.Fatalf("pause %d: progress %+v, want paused with %d sent + remaining", i, p, n)
					}
					if p.Sent != held {
						t.Errorf("pause %d: ledger says %d sent, the relay got %d", i, p.Sent, held)
					}
				}
				if code := h.call("POST", h.campaignPath(camp, "resume"), nil, nil); code != http.StatusOK {
					t.Fatalf("resume %d: %d", i, code)
				}
			}
			h.waitFinished(camp)
			if got := h.capture.Count(); got != n {
				t.Errorf("captured %d messages, want %d", got, n)
			}
			h.mu.Lock()
			for _, e := range emails {
				if h.byRcpt[e] != 1 {
					t.Errorf("%s received %d messages, want 1", e, h.byRcpt[e])
				}
			}
			h.mu.Unlock()
			var p store.Progress
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.Status != store.CampaignSent || p.Sent != n || p.Remaining != 0 || p.Skipped != 0 || p.ETASeconds != nil {
				t.Errorf("progress at the end = %+v, want sent %d, nothing remaining or skipped", p, n)
			}
			if code := h.call("POST", h.campaignPath(camp, "cancel"), nil, nil); code != http.StatusConflict {
				t.Errorf("cancel a sent campaign: %d, want 409", code)
			}
		})
	}
}

// TestCancel cancels a paused campaign: what was waiting is skipped, nothing
// more is sent, and it cannot be resumed.
func TestCancel(t *testing.T) {
	t.Parallel()
	const n = 500
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_WORKERS": "1", "DEARFRIEND_BATCH_SIZE": "10"})
			camp, _ := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitSentMore(camp, 0)
			if code := h.call("POST", h.campaignPath(camp, "pause"), nil, nil); code != http.StatusOK {
				t.Fatalf("pause: %d", code)
			}
			held := h.waitHeld()
			if code := h.call("POST", h.campaignPath(camp, "cancel"), nil, nil); code != http.StatusOK {
				t.Fatalf("cancel: %d", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "resume"), nil, nil); code != http.StatusConflict {
				t.Errorf("resume a cancelled campaign: %d, want 409", code)
			}
			var p store.Progress
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.Status != store.CampaignCancelled || p.Remaining != 0 || p.Sent != held || p.Sent+p.Skipped != n {
				t.Errorf("progress = %+v, want cancelled, %d sent, the other %d skipped", p, held, n-held)
			}
			if got := h.capture.Count(); got != held {
				t.Errorf("captured %d messages after the cancel, want the %d sent before it", got, held)
			}
		})
	}
}

func (h *harness) campaignPath(id int64, action string) string {
	return fmt.Sprintf("/api/v1/campaigns/%d/%s", id, action)
}

// waitSentMore waits until the relay got more than had messages.
func (h *harness) waitSentMore(camp int64, had int64) {
	h.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if h.capture.Count() > had {
			return
		}
	}
	h.t.Fatalf("campaign %d: no message after %d for a minute", camp, had)
}

// waitHeld waits until a pause holds: no message reaches the relay for 600 ms
// (longer than a worker trusts a status it read). It fails the test when that
// takes more than 3 s, and returns the number of messages received.
func (h *harness) waitHeld() int64 {
	h.t.Helper()
	start := time.Now()
	for got := h.capture.Count(); time.Since(start) < 3*time.Second; {
		time.Sleep(600 * time.Millisecond)
		now := h.capture.Count()
		if now == got {
			return now
		}
		got = now
	}
	h.t.Fatalf("messages still arrive %v after the pause", time.Since(start))
	return 0
}

// mustDraftCampaign imports n contacts into a new list and makes a draft
// campaign to them. It returns the campaign's id and the addresses.
func (h *harness) mustDraftCampaign(n int) (int64, []string) {
	h.t.Helper()
	var csv strings.Builder
	csv.WriteString("email,first_name\n")
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("supporter%05d@example.org", i)
		fmt.Fprintf(&csv, "%s,Friend%d\n", emails[i], i)
	}
	var list store.List
	if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list); code != http.StatusCreated {
		h.t.Fatalf("create list: %d", code)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", fmt.Sprint(list.ID))
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, csv.String())
	mw.Close()
	req, err := http.NewRequest("POST", h.app.URL()+"/api/v1/imports", &buf)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var imp store.Import
	if err := json.Unmarshal(raw, &imp); err != nil || resp.StatusCode != http.StatusAccepted {
		h.t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	for deadline := time.Now().Add(time.Minute); imp.Status == store.ImportRunning && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		h.call("GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp)
	}
	if imp.Status != store.ImportDone || imp.Imported != int64(n) {
		h.t.Fatalf("import %+v, want done with %d imported", imp, n)
	}
	var msg store.Message
	if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Call the Governor today", "from_name": "Maya Ortiz",
		"from_email": "action@example.org", "html": "<p>Dear {{ .FirstName }}, call now.</p>"}, &msg); code != http.StatusCreated {
		h.t.Fatalf("create message: %d", code)
	}
	var camp store.Campaign
	if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "controls", "message_id": msg.ID,
		"audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != http.StatusCreated {
		h.t.Fatalf("create campaign: %d", code)
	}
	return camp.ID, emails
}
