package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// A relay that throttles (451 4.7.0) the first messages is slowed down, and
// those recipients are sent in the end, not failed, even though a single
// ordinary deferral would fail them (DEARFRIEND_MAX_ATTEMPTS=1). The retries
// are in the ledger.
func TestThrottledRecipientsAreSentNotFailed(t *testing.T) {
	t.Parallel()
	const n, throttled = 60, 20
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			refused := 0
			h := startWith(t, b, func(string, []string) error {
				mu.Lock()
				defer mu.Unlock()
				if refused < throttled {
					refused++
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "rate limited, slow down"}
				}
				return nil
			}, map[string]string{"DEARFRIEND_MAX_ATTEMPTS": "1"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)

			var p store.Progress
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.Sent != n || p.Failed != 0 {
				t.Errorf("progress = %+v; want all %d sent, none failed", p, n)
			}
			h.mu.Lock()
			for _, e := range emails {
				if h.byRcpt[e] != 1 {
					t.Errorf("%s received %d messages; want 1", e, h.byRcpt[e])
				}
			}
			h.mu.Unlock()
			throttles := 0
			for _, id := range h.sendIDs(camp) {
				s, err := h.app.Store().GetSend(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				if s.Throttled > 0 {
					throttles += s.Throttled
					if s.Attempts != s.Throttled+1 || s.FirstAttemptAt == nil {
						t.Errorf("send %d: %d attempts, %d throttled, first at %v; want one more attempt than throttles and a first attempt", id, s.Attempts, s.Throttled, s.FirstAttemptAt)
					}
				}
			}
			if throttles != throttled {
				t.Errorf("the ledger shows %d throttled attempts; want %d", throttles, throttled)
			}
			st := h.app.Relays().State()[0]
			if st.Throttles != throttled || st.Pace >= 1 {
				t.Errorf("relay state %+v; want %d throttles and a reduced pace", st, throttled)
			}
			metrics := h.scrape(h.app.URL() + "/metrics")
			if want := fmt.Sprintf(`dearfriend_relay_throttles_total{relay="%s"} %d`, st.Name, throttled); !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		})
	}
}

// A campaign's rate is set at creation and changed while it sends: the
// workers read the change. At one message a second the campaign would take
// minutes; once the rate is lifted it finishes.
func TestCampaignRateChangesWhileSending(t *testing.T) {
	t.Parallel()
	const n = 150
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			camp, _ := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{"per_second": -1}, nil); code != http.StatusUnprocessableEntity {
				t.Errorf("negative rate: %d; want 422", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{}, nil); code != http.StatusUnprocessableEntity {
				t.Errorf("no rate: %d; want 422", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{"per_second": 1}, nil); code != http.StatusOK {
				t.Fatalf("set rate: %d", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitSentMore(camp, 0)
			var p store.Progress
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.RateLimit != 1 || p.Sent >= n/2 {
				t.Errorf("progress at 1 a second = %+v; want rate_limit 1 and most recipients still waiting", p)
			}
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{"per_second": 0}, nil); code != http.StatusOK {
				t.Fatalf("lift rate: %d", code)
			}
			h.waitFinished(camp)
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.Sent != n || p.RateLimit != 0 {
				t.Errorf("progress = %+v; want %d sent, no rate limit", p, n)
			}
		})
	}
}

// /metrics, on DEARFRIEND_METRICS_ADDR (which takes it off the HTTP server,
// TestMetricsGuard), shows the messages, latency, queue, workers and
// rate-limit waits of a small campaign.
func TestMetricsAfterCampaign(t *testing.T) {
	t.Parallel()
	const n = 10
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_METRICS_ADDR": "127.0.0.1:0"})
			camp, _ := h.mustDraftCampaign(n)
			// Two a second after a burst of two: the campaign waits, however
			// slowly a loaded machine sends (twenty a second did not always wait).
			if code := h.call("POST", h.campaignPath(camp, "rate"), map[string]any{"per_second": 2}, nil); code != http.StatusOK {
				t.Fatalf("set rate: %d", code)
			}
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			relay := h.app.Relays().State()[0].Name
			for _, url := range []string{h.app.MetricsURL() + "/metrics"} {
				body := h.scrape(url)
				for _, want := range []string{
					fmt.Sprintf(`dearfriend_messages_total{outcome="sent",relay="%s"} %d`, relay, n),
					fmt.Sprintf(`dearfriend_send_seconds_count{relay="%s"} %d`, relay, n),
					fmt.Sprintf(`dearfriend_queue_tasks{queue="%s",state="pending"}`, h.queue),
					fmt.Sprintf(`dearfriend_workers{queue="%s"} 1`, h.queue),
					`dearfriend_rate_limit_waits_total{scope="campaign"}`,
					`dearfriend_rate_limit_wait_seconds_sum{scope="campaign"}`,
					`go_memstats_heap_inuse_bytes`,
				} {
					if !strings.Contains(body, want) {
						t.Errorf("%s lacks %s", url, want)
					}
				}
			}
		})
	}
}

// A bad relay in DEARFRIEND_SMTP_URL stops the start with an error that
// names the relay and the parameter.
func TestBadRelayStopsStart(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":    "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR": "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL": testenv.SQLite(t),
		"DEARFRIEND_SMTP_URL":     "smtp://a.example.org:25?weight=2, smtp://user:hunter2@b.example.org:587?rate=fast",
		"DEARFRIEND_SEED":         "false",
	}
	cfg, err := config.FromEnv(config.ModeDev, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.WithLogger(slog.New(slog.DiscardHandler)))
	if err == nil {
		a.Close()
		t.Fatal("New succeeded; want an error")
	}
	if msg := err.Error(); !strings.Contains(msg, "DEARFRIEND_SMTP_URL") || !strings.Contains(msg, "relay 2 (b.example.org:587)") ||
		!strings.Contains(msg, "rate=fast") || strings.Contains(msg, "hunter2") {
		t.Errorf("error = %q; want it to name DEARFRIEND_SMTP_URL, relay 2 and rate=fast, without the password", msg)
	}
}

// sendIDs returns the ledger ids of a campaign, from its recipients export.
func (h *harness) sendIDs(camp int64) []int64 {
	h.t.Helper()
	_, body := h.get(h.campaignPath(camp, "recipients.csv"))
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []int64
	for _, row := range rows[1:] {
		id, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// scrape fetches a /metrics URL (no token) and returns the body of a 200.
func (h *harness) scrape(url string) string {
	h.t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}
