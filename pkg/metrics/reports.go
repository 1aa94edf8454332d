package metrics

import "github.com/prometheus/client_golang/prometheus"

// feedbackSeries count what the mail system reports back and what the
// reputation guard does about it.
type feedbackSeries struct {
	reports *prometheus.CounterVec
	pauses  *prometheus.CounterVec
}

func newFeedbackSeries() feedbackSeries {
	return feedbackSeries{
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dearfriend_reports_total",
			Help: "Reports of the mail system taken, by source (inbound, api, ses, ...) and kind " +
				"(hard, soft, block, complaint; ignored: auto-replies, unmatched or forged; duplicate).",
		}, []string{"source", "kind"}),
		pauses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dearfriend_guard_pauses_total",
			Help: "Campaigns the reputation guard paused, by the rate that passed its threshold (hard, block, complaint).",
		}, []string{"rate"}),
	}
}

// Report counts one report of the mail system of source, taken as kind.
func (m *Metrics) Report(source, kind string) { m.feedback.reports.WithLabelValues(source, kind).Inc() }

// GuardPause counts one campaign the reputation guard paused for rate.
func (m *Metrics) GuardPause(rate string) { m.feedback.pauses.WithLabelValues(rate).Inc() }
