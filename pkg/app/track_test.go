package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestTrackingThroughTheApp follows a campaign with a topic through opens,
// clicks, an unsubscribe and its webhook, the statistics API and the CSV
// export, then shuts the App down and finds every answered open and click in
// the database.
func TestTrackingThroughTheApp(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			hooks := make(chan []byte, 10)
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				hooks <- body
			}))
			defer receiver.Close()

			var bad apiError
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": "ftp://x", "events": []string{"unsubscribe"}}, &bad); code != 422 || bad.Error.Field != "url" {
				t.Errorf("webhook with an ftp URL: %d %+v, want 422 naming url", code, bad)
			}
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"opened"}}, &bad); code != 422 || bad.Error.Field != "events[0]" {
				t.Errorf("webhook with an unknown event: %d %+v, want 422 naming events[0]", code, bad)
			}
			var hook struct {
				ID     int64
				Secret string
			}
			if code := h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"unsubscribe", "bounce"}}, &hook); code != 201 || len(hook.Secret) < 32 {
				t.Fatalf("create webhook: %d, secret %q; want 201 and a generated secret", code, hook.Secret)
			}
			var other struct{ ID int64 }
			h.call("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL + "/gone", "events": []string{"signature"}, "secret": strings.Repeat("x", 20)}, &other)
			if code := h.call("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", other.ID), nil, nil); code != 204 {
				t.Errorf("delete webhook: %d, want 204", code)
			}
			if code := h.call("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", other.ID), nil, &bad); code != 404 {
				t.Errorf("delete a deleted webhook: %d, want 404", code)
			}
			var listed struct{ Webhooks []map[string]any }
			if h.call("GET", "/api/v1/webhooks", nil, &listed); len(listed.Webhooks) != 1 || listed.Webhooks[0]["secret"] != nil {
				t.Errorf("webhooks listed: %v, want the one left, without its secret", listed.Webhooks)
			}
			var topic store.Topic
			if code := h.call("POST", "/api/v1/topics", map[string]any{"name": "Action alerts"}, &topic); code != 201 {
				t.Fatalf("create topic: %d", code)
			}
			if code := h.call("POST", "/api/v1/topics", map[string]any{"name": " "}, &bad); code != 422 {
				t.Errorf("topic without a name: %d, want 422", code)
			}

			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			const n = 20
			for i := range n {
				if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": fmt.Sprintf("t%02d@example.org", i), "lists": []int64{list.ID}}, nil); code != 201 {
					t.Fatalf("create contact: %d", code)
				}
			}
			var msg store.Message
			h.call("POST", "/api/v1/messages", map[string]any{"subject": "Sign now", "from_name": "Maya", "from_email": "action@example.org",
				"html": `<p>Dear Friend,</p><p><a href="https://example.org/sign">ADD YOUR NAME</a></p>`}, &msg)
			var camp store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "alert", "message_id": msg.ID, "topic_id": topic.ID,
				"audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 || camp.TopicID == nil || *camp.TopicID != topic.ID {
				t.Fatalf("create campaign with a topic: %d %+v", code, camp)
			}
			h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil)
			h.waitFinished(camp.ID)

			e := parseEmail(t, h.capture.Messages()[0].Data)
			pixel := regexp.MustCompile(`src="(http://[^"]+/t/o/[^"]+)"`).FindStringSubmatch(e.html)
			click := regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`).FindStringSubmatch(e.html)
			unsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(e.header.Get("List-Unsubscribe"))
			if pixel == nil || click == nil || unsub == nil {
				t.Fatalf("pixel %v, click %v, unsubscribe %v in the first message", pixel, click, unsub)
			}
			if resp := mustDo(t, "POST", unsub[1], "List-Unsubscribe=One-Click"); resp.StatusCode != 200 {
				t.Fatalf("one-click: %d", resp.StatusCode)
			}
			select {
			case body := <-hooks:
				if !strings.Contains(string(body), `"event":"unsubscribe"`) || !strings.Contains(string(body), h.capture.Messages()[0].To[0]) {
					t.Errorf("webhook body %s", body)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no unsubscribe webhook after 30 s")
			}

			// Load: opens and clicks from several clients at once, then a graceful shutdown.
			const opens, clicks = 400, 40
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < opens+clicks; i += 8 {
						url := pixel[1]
						if i < clicks {
							url = click[1]
						}
						req, _ := http.NewRequest("GET", url, nil)
						req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
						resp, err := noRedirect.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()

			var rep store.Report
			if code := h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp.ID), nil, &rep); code != 200 || rep.Sent != n || rep.Unsubscribes != 1 {
				t.Errorf("stats: %d %+v", code, rep)
			}
			var hourly struct{ Hours []store.HourStats }
			if code := h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats/hourly", camp.ID), nil, &hourly); code != 200 || len(hourly.Hours) == 0 || hourly.Hours[len(hourly.Hours)-1].Sent == 0 {
				t.Errorf("hourly: %d %+v", code, hourly)
			}
			rows := h.csv(fmt.Sprintf("/api/v1/campaigns/%d/recipients.csv", camp.ID))
			if len(rows) != n+1 || rows[0][1] != "email" {
				t.Errorf("recipients.csv: %d rows, header %v; want %d and a header", len(rows), rows[0], n+1)
			}
			if code := h.call("GET", "/api/v1/campaigns/424242/stats", nil, &bad); code != 404 {
				t.Errorf("stats of no campaign: %d, want 404", code)
			}

			before := h.app.TrackingStats()
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			after := h.app.TrackingStats()
			stored, err := h.app.Store().CountEvents(context.Background(), camp.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("at shutdown %d of %d events were still buffered", before.Accepted-before.Written, before.Accepted)
			if after.Accepted != opens+clicks || after.Written != after.Accepted || stored != opens+clicks+1 {
				t.Errorf("after shutdown: %+v, %d events stored; want %d answered, all written, plus the unsubscribe", after, stored, opens+clicks)
			}
		})
	}
}

// csv GETs an API path and parses the CSV answer.
func (h *harness) csv(path string) [][]string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.app.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		h.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}
