package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/metrics"
)

type inspector struct {
	info    *asynq.QueueInfo
	err     error
	servers []*asynq.ServerInfo
}

func (i inspector) GetQueueInfo(string) (*asynq.QueueInfo, error) { return i.info, i.err }
func (i inspector) Servers() ([]*asynq.ServerInfo, error)         { return i.servers, i.err }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestSeries(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.WatchQueue(inspector{info: &asynq.QueueInfo{Pending: 7, Active: 2}, servers: []*asynq.ServerInfo{
		{Queues: map[string]int{"q": 1}, Status: "active"}, {Queues: map[string]int{"q": 1}, Status: "active"},
		{Queues: map[string]int{"q": 1}, Status: "closed"}, {Queues: map[string]int{"other": 1}, Status: "active"},
	}}, "q")
	m.Attempt("relay:25", "sent", 3*time.Millisecond)
	m.Attempt("relay:25", "throttled", time.Millisecond)
	m.Throttle("relay:25")
	m.RateWait("campaign", 250*time.Millisecond)
	body := scrape(t, m)
	for _, want := range []string{
		`dearfriend_messages_total{outcome="sent",relay="relay:25"} 1`,
		`dearfriend_messages_total{outcome="throttled",relay="relay:25"} 1`,
		`dearfriend_send_seconds_count{relay="relay:25"} 2`,
		`dearfriend_relay_throttles_total{relay="relay:25"} 1`,
		`dearfriend_rate_limit_waits_total{scope="campaign"} 1`,
		`dearfriend_rate_limit_wait_seconds_sum{scope="campaign"} 0.25`,
		`dearfriend_queue_tasks{queue="q",state="pending"} 7`,
		`dearfriend_queue_tasks{queue="q",state="active"} 2`,
		`dearfriend_workers{queue="q"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A queue nothing was enqueued on counts zero; an unreadable one is a gap,
// not a false zero.
func TestQueueDepthWhenUnreadable(t *testing.T) {
	t.Parallel()
	fresh, down := metrics.New(), metrics.New()
	fresh.WatchQueue(inspector{err: asynq.ErrQueueNotFound}, "new")
	down.WatchQueue(inspector{err: errors.New("connection refused")}, "down")
	if !strings.Contains(scrape(t, fresh), `dearfriend_queue_tasks{queue="new",state="pending"} 0`) {
		t.Errorf("a queue not created yet should count 0 pending")
	}
	if strings.Contains(scrape(t, down), `queue="down"`) {
		t.Errorf("an unreadable queue should report nothing")
	}
}
