// Package metrics holds the Prometheus series of one dearfriend process, in
// a registry of its own (no global state), and serves them at /metrics:
// messages by relay and outcome, send latency, rate-limit waits, throttling
// replies, and the depth of the task queue, read from asynq when scraped.
//
// It owns the metric names and labels; it is told of events through plain
// methods (mailer.Observer, a rate limiter's wait callback) and must not
// import the packages that report to it.
package metrics

import (
	"errors"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry and the series of one process. Safe for
// concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	messages    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	throttles   *prometheus.CounterVec
	waits       *prometheus.CounterVec
	waitSeconds *prometheus.HistogramVec
	feedback    feedbackSeries // reports.go
	all         []prometheus.Collector
}

// New registers every series, and Go runtime and process metrics (memory,
// goroutines, file descriptors).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dearfriend_messages_total",
			Help: "Delivery attempts by relay and outcome (sent, deferred, bounced, blocked, failed, unknown, throttled).",
		}, []string{"relay", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dearfriend_send_seconds",
			Help:    "Time of one message's SMTP exchange with the relay, rate-limit waits excluded.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"relay"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dearfriend_relay_throttles_total",
			Help: "Throttling replies (421, 451 4.7.x) by relay; each one halves the relay's pace for a while.",
		}, []string{"relay"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dearfriend_rate_limit_waits_total",
			Help: "Times a send waited for a rate limit, by scope (relay or campaign).",
		}, []string{"scope"}),
		waitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dearfriend_rate_limit_wait_seconds",
			Help:    "Time spent waiting for rate limits, by scope (relay or campaign).",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 60},
		}, []string{"scope"}),
	}
	m.feedback = newFeedbackSeries()
	m.all = []prometheus.Collector{m.messages, m.latency, m.throttles, m.waits, m.waitSeconds, m.feedback.reports, m.feedback.pauses,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	m.reg.MustRegister(m.all...)
	return m
}

// Describe sends the description of every series m can report, those no
// event has created yet too: deploy/'s dashboard and alerts are checked
// against them.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all {
		c.Describe(ch)
	}
}

// Attempt counts one delivery attempt and its latency.
func (m *Metrics) Attempt(relay, outcome string, took time.Duration) {
	m.messages.WithLabelValues(relay, outcome).Inc()
	m.latency.WithLabelValues(relay).Observe(took.Seconds())
}

// Throttle counts one throttling reply of relay.
func (m *Metrics) Throttle(relay string) { m.throttles.WithLabelValues(relay).Inc() }

// RateWait counts one wait for a rate limit of scope.
func (m *Metrics) RateWait(scope string, waited time.Duration) {
	m.waits.WithLabelValues(scope).Inc()
	m.waitSeconds.WithLabelValues(scope).Observe(waited.Seconds())
}

// QueueInspector reads a queue's counts and the worker processes serving
// it (asynq.Inspector).
type QueueInspector interface {
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
	Servers() ([]*asynq.ServerInfo, error)
}

// WatchQueue reports the tasks of queue by state, and the worker processes
// taking its tasks, read through insp at each scrape. Call it once: a
// process serves one queue.
func (m *Metrics) WatchQueue(insp QueueInspector, queue string) {
	c := &queueCollector{insp: insp, queue: queue}
	m.all = append(m.all, c)
	m.reg.MustRegister(c)
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

var queueDesc = prometheus.NewDesc("dearfriend_queue_tasks",
	"Tasks in the asynq queue by state, read when scraped: the batches waiting to be sent and those being sent.",
	[]string{"queue", "state"}, nil)

var workersDesc = prometheus.NewDesc("dearfriend_workers",
	"Worker processes taking the queue's tasks, as their heartbeats in Redis say (a killed one drops out when its heartbeat expires): the same figure from any process.",
	[]string{"queue"}, nil)

type queueCollector struct {
	insp  QueueInspector
	queue string
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc; ch <- workersDesc }

// Collect reads the queue once per scrape; a queue nothing was enqueued on
// yet counts zero tasks, and an unreadable one reports nothing (a gap, not a
// false zero).
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	var info asynq.QueueInfo
	got, err := c.insp.GetQueueInfo(c.queue)
	switch {
	case err == nil:
		info = *got
	case !errors.Is(err, asynq.ErrQueueNotFound):
		return
	}
	for state, n := range map[string]int{
		"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
		"retry": info.Retry, "archived": info.Archived,
	} {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), c.queue, state)
	}
	servers, err := c.insp.Servers()
	if err != nil {
		return
	}
	workers := 0
	for _, s := range servers {
		if _, ok := s.Queues[c.queue]; ok && s.Status == "active" {
			workers++
		}
	}
	ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(workers), c.queue)
}
