package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/delivery"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// taken is the answer of POST /api/v1/bounces.
type taken struct{ Events, Matched, Ignored, Duplicates int }

// postReport posts body to /api/v1/bounces as contentType.
func (h *harness) postReport(contentType string, body []byte) (int, taken, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.app.URL()+"/api/v1/bounces", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out taken
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

func (h *harness) postJSONReport(v any) taken {
	h.t.Helper()
	b, _ := json.Marshal(v)
	code, out, raw := h.postReport("application/json", b)
	if code != 200 {
		h.t.Fatalf("post %s: %d %s", b, code, raw)
	}
	return out
}

// TestFeedbackLoop: reports posted to the API, raw and JSON, are matched
// by VERP token, Message-ID and address, and acted on by the policy; a
// forged token, another deployment's Message-ID and bad input change nothing.
func TestFeedbackLoop(t *testing.T) {
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
			h := start(t, b, map[string]string{"DEARFRIEND_BOUNCE_SOFT_LIMIT": "2"})
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"complaint", "bounce"}}, nil); code != 201 {
				t.Fatalf("create webhook: %d", code)
			}
			const hard, complainer, vacation = "userunknown@libsisimai.org", "kijitora@example.com", "kijitora@example.net"
			emails := []string{hard, complainer, vacation}
			for i := range 8 {
				emails = append(emails, fmt.Sprintf("t%02d@example.org", i))
			}
			camp := h.sendTo(emails)
			ctx := context.Background()
			st := h.app.Store()
			sendOf := func(email string) *store.Send {
				snd, err := st.LastSendTo(ctx, email)
				if err != nil {
					t.Fatal(err)
				}
				return snd
			}
			read := func(name string) []byte {
				return testenv.BounceCase(t, name)
			}

			// A real Postfix DSN, by address: hard, suppressed; twice counts once.
			for i, want := range []taken{{Events: 1, Matched: 1}, {Events: 1, Duplicates: 1}} {
				if code, got, raw := h.postReport("message/rfc822", read("lhost-postfix-33.eml")); code != 200 || got != want {
					t.Errorf("DSN post %d: %d %s, want %+v", i, code, raw, want)
				}
			}
			if s := contactStatus(t, h, hard); s != store.ContactBounced {
				t.Errorf("%s is %s after a hard DSN, want bounced", hard, s)
			}
			if ok, _ := st.IsSuppressed(ctx, hard); !ok {
				t.Errorf("%s not suppressed after a hard DSN", hard)
			}
			c, _ := st.ContactByEmail(ctx, hard)
			hist, err := st.ContactHistory(ctx, c.ID, 20)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, it := range hist {
				found = found || it.Kind == "bounce_hard" && strings.HasPrefix(it.Detail, "api: ") && strings.Contains(it.Detail, "5.1.1")
			}
			if !found {
				t.Errorf("history of %s: %+v, want a bounce_hard with the report's words", hard, hist)
			}

			// A real ARF complaint: complained, suppressed, counted, webhook.
			if code, got, raw := h.postReport("message/rfc822", read("arf-18.eml")); code != 200 || got.Matched != 1 {
				t.Errorf("ARF post: %d %s, want 1 matched", code, raw)
			}
			if s := contactStatus(t, h, complainer); s != store.ContactComplained {
				t.Errorf("complainer is %s, want complained", s)
			}
			// An auto-reply is ignored.
			if code, got, raw := h.postReport("text/plain", read("rfc3834-01.eml")); code != 200 || got != (taken{Events: 1, Ignored: 1}) {
				t.Errorf("auto-reply post: %d %s, want 1 ignored", code, raw)
			}
			if s := contactStatus(t, h, vacation); s != store.ContactSubscribed {
				t.Errorf("vacationer is %s, want subscribed", s)
			}

			// By VERP token; a forged one changes nothing.
			signer := track.NewSigner(strings.Repeat("s", 40))
			tok := signer.Sign(track.KindBounce, sendOf("t00@example.org").ID, 0)
			if got := h.postJSONReport(map[string]any{"token": "bounce+" + tok + "@bounces.example.org", "status": "5.1.1", "diagnostic": "550 5.1.1 no such user"}); got.Matched != 1 {
				t.Errorf("by token: %+v, want matched", got)
			}
			forged := track.NewSigner(strings.Repeat("f", 40)).Sign(track.KindBounce, sendOf("t01@example.org").ID, 0)
			if got := h.postJSONReport(map[string]any{"token": forged, "recipient": "t01@example.org", "kind": "hard"}); got.Ignored != 1 {
				t.Errorf("forged token: %+v, want ignored", got)
			}
			// A genuine token of a send that does not exist: ignored.
			if got := h.postJSONReport(map[string]any{"token": signer.Sign(track.KindBounce, 1<<40, 0), "kind": "hard"}); got != (taken{Events: 1, Ignored: 1}) {
				t.Errorf("token of no send: %+v, want ignored", got)
			}
			// By Message-ID; another deployment's changes nothing.
			dep, err := st.SettingValue(ctx, delivery.SettingDeploymentID)
			if err != nil {
				t.Fatal(err)
			}
			mid := func(email, deployment string) string {
				return fmt.Sprintf("<c%d.s%d.%s@example.org>", camp, sendOf(email).ID, deployment)
			}
			if got := h.postJSONReport([]map[string]any{{"message_id": mid("t02@example.org", dep), "kind": "hard", "diagnostic": "user unknown"},
				{"message_id": mid("t03@example.org", "otherdeployment"), "recipient": "t03@example.org", "kind": "hard"}}); got != (taken{Events: 2, Matched: 1, Ignored: 1}) {
				t.Errorf("by Message-ID: %+v, want 1 matched and 1 ignored", got)
			}
			for email, want := range map[string]string{"t00@example.org": store.ContactBounced, "t01@example.org": store.ContactSubscribed,
				"t02@example.org": store.ContactBounced, "t03@example.org": store.ContactSubscribed} {
				if s := contactStatus(t, h, email); s != want {
					t.Errorf("%s is %s, want %s", email, s, want)
				}
			}

			// Soft: suppressed at the second within the window.
			h.postJSONReport(map[string]any{"recipient": "t04@example.org", "kind": "soft", "diagnostic": "452 4.2.2 mailbox full", "event_id": "soft-1"})
			if s := contactStatus(t, h, "t04@example.org"); s != store.ContactSubscribed {
				t.Errorf("after one soft bounce: %s, want subscribed", s)
			}
			h.postJSONReport(map[string]any{"recipient": "t04@example.org", "kind": "soft", "diagnostic": "452 4.2.2 mailbox full", "event_id": "soft-2"})
			if s := contactStatus(t, h, "t04@example.org"); s != store.ContactBounced {
				t.Errorf("after two soft bounces: %s, want bounced", s)
			}
			// A refusal of the sender never suppresses; it is a block.
			h.postJSONReport(map[string]any{"recipient": "t05@example.org", "status": "5.7.1", "diagnostic": "550 5.7.1 Service unavailable; client host blocked using Spamhaus"})
			if s := contactStatus(t, h, "t05@example.org"); s != store.ContactSubscribed {
				t.Errorf("after a block: %s, want subscribed", s)
			}

			var rep store.Report
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp), nil, &rep)
			wantB := store.Bounces{Hard: 3, Soft: 2, Block: 1, Complaint: 1, BlockByRelay: map[string]int64{h.capture.Addr(): 1}, // the relay that took the message, reported later
				Reported: map[string]int64{"hard": 3, "soft": 2, "block": 1, "complaint": 1}}
			if rep.Bounces == nil || fmt.Sprint(*rep.Bounces) != fmt.Sprint(wantB) || rep.Complaints != 1 {
				t.Errorf("stats bounces %+v, complaints %d; want %+v and 1", rep.Bounces, rep.Complaints, wantB)
			}
			var days struct {
				ByDay []store.BounceDay `json:"by_day"`
			}
			if code := h.call("GET", "/api/v1/stats/bounces?days=7", nil, &days); code != 200 || len(days.ByDay) != 1 || days.ByDay[0].Hard != 3 || days.ByDay[0].Complaint != 1 {
				t.Errorf("bounces by day: %d %+v", code, days.ByDay)
			}

			// Bad input: 400 or 413 naming what is wrong, nothing stored changes.
			for _, bad := range []struct {
				ct, body string
				code     int
			}{
				{"application/json", `{"recipient": "t06@example.org", "kind": "hard"`, 400},
				{"application/json", `{"recipient": "t06@example.org", "kind": "hard", "colour": 1}`, 400},
				{"application/json", `{"recipient": "t06@example.org", "kind": "sideways"}`, 422},
				{"application/json", `[{"kind": "hard"}]`, 422},
				{"image/png", `x`, 400},
				{"message/rfc822", strings.Repeat("x", 11<<20), 413},
			} {
				if code, _, raw := h.postReport(bad.ct, []byte(bad.body)); code != bad.code || !strings.Contains(raw, `"message"`) {
					t.Errorf("bad post %.60q (%s): %d %s, want %d with a message", bad.body, bad.ct, code, raw, bad.code)
				}
			}
			if s := contactStatus(t, h, "t06@example.org"); s != store.ContactSubscribed {
				t.Errorf("after bad input: %s, want subscribed", s)
			}

			resp, err := http.Get(h.app.URL() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range []string{`dearfriend_reports_total{kind="duplicate",source="api"} 1`, `dearfriend_reports_total{kind="complaint",source="api"} 1`,
				`dearfriend_reports_total{kind="soft",source="api"} 2`} {
				if !strings.Contains(string(metrics), line) {
					t.Errorf("/metrics lacks %s:\n%s", line, grepLines(string(metrics), "dearfriend_reports"))
				}
			}

			// Webhooks: the complaint and the suppressing bounces.
			events := map[string]int{}
			for deadline := time.Now().Add(30 * time.Second); events["complaint"] < 1 || events["bounce"] < 4; {
				select {
				case body := <-hooks:
					events[fmt.Sprint(body["event"])]++
				case <-time.After(time.Until(deadline)):
					t.Fatalf("webhooks received: %v, want a complaint and 4 bounces", events)
				}
			}
		})
	}
}

// sendTo sends a campaign to emails and waits for it to finish.
func (h *harness) sendTo(emails []string) int64 {
	h.t.Helper()
	var list store.List
	h.call("POST", "/api/v1/lists", map[string]any{"name": "Feedback"}, &list)
	for _, e := range emails {
		if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": e, "lists": []int64{list.ID}}, nil); code != 201 {
			h.t.Fatalf("create contact %s: %d", e, code)
		}
	}
	var msg store.Message
	h.call("POST", "/api/v1/messages", map[string]any{"subject": "Act now", "from_name": "Maya", "from_email": "action@example.org",
		"html": `<p>Dear Friend,</p><p><a href="https://example.org/sign">Sign</a></p>`}, &msg)
	var camp store.Campaign
	h.call("POST", "/api/v1/campaigns", map[string]any{"name": "feedback", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
	if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
		h.t.Fatalf("send: %d", code)
	}
	h.waitFinished(camp.ID)
	return camp.ID
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
