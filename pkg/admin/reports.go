package admin

import (
	"html/template"
	"net/http"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Report screen limits.
const (
	reportBounces = 100 // bounces listed; the recipients export has them all
	// hourlySpan is the longest activity drawn hour by hour; longer is drawn day by day.
	hourlySpan = 72 * time.Hour
)

// reportRoutes registers the screens of reports, petitions, settings and the queue monitor.
func (h *Handler) reportRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/campaigns/{id}/report", h.page(store.RoleViewer, h.campaignReport))
	h.petitionRoutes(mux)
	h.settingsRoutes(mux)
	h.queueRoutes(mux)
}

// campaignReport shows what a campaign did: outcomes and engagement with
// their rates, activity over time, clicks per link, A/B variants,
// unsubscribe reasons, bounces and complaints by day, and bounces with the
// relay's answer.
func (h *Handler) campaignReport(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	id, err := routeID(r, "campaign")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	c, err := h.Store.GetCampaign(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rep, err := h.Store.CampaignReport(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	hours, err := h.Store.HourlyStats(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	actions, err := h.Store.HourlyActions(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	reasons, err := h.Store.UnsubscribeReasons(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	bounces, err := h.Store.CampaignBounces(ctx, id, reportBounces)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	variants, err := h.Store.CampaignVariantStats(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	days, err := h.loadBounceDays(ctx, id, c.CreatedAt, "bounce-days", "No bounces or complaints yet.")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	activity, err := activityChart(hours, actions).HTML()
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "report.html", view{Title: "Report: " + c.Name, Section: "Campaigns",
		Data: struct {
			Campaign *store.Campaign
			Report   *store.Report
			Activity template.HTML
			Reasons  []store.ReasonCount
			Bounces  []store.Bounce
			Variants []store.VariantStats
			Winner   int64
			Days     *bounceDays
		}{c, rep, activity, reasons, bounces, variants, derefID(c.AB.WinnerID), days}})
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// activity is one bucket of the activity chart.
type activity struct{ opens, clicks, actions int64 }

// activityChart draws opens and clicks by people and signatures over time:
// hour by hour from the first activity to the last when that spans at most
// hourlySpan, else day by day. Buckets without activity are drawn as zero.
func activityChart(hours []store.HourStats, actions []store.HourCount) Chart {
	byHour := map[time.Time]*activity{}
	at := func(t time.Time) *activity {
		t = t.UTC()
		if byHour[t] == nil {
			byHour[t] = &activity{}
		}
		return byHour[t]
	}
	for _, hs := range hours {
		if hs.HumanOpens+hs.HumanClicks > 0 {
			a := at(hs.Hour)
			a.opens, a.clicks = hs.HumanOpens, hs.HumanClicks
		}
	}
	for _, hc := range actions {
		at(hc.Hour).actions = hc.N
	}
	c := Chart{ID: "activity", Title: "Opens, clicks and signatures over time (UTC)", Unit: "opens, clicks, signatures",
		Series: []Series{{Name: "Opened by people"}, {Name: "Clicked by people"}, {Name: "Signed"}}}
	if len(byHour) == 0 {
		return c
	}
	var first, last time.Time
	for t := range byHour {
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	step, format := time.Hour, "Jan 2 15:00"
	if last.Sub(first) > hourlySpan {
		step, format = 24*time.Hour, "Jan 2"
		first = first.Truncate(step)
	}
	for t := first; !t.After(last); t = t.Add(step) {
		var sum activity
		for u := t; u.Before(t.Add(step)); u = u.Add(time.Hour) {
			if a := byHour[u]; a != nil {
				sum.opens, sum.clicks, sum.actions = sum.opens+a.opens, sum.clicks+a.clicks, sum.actions+a.actions
			}
		}
		c.Labels = append(c.Labels, t.Format(format))
		c.Series[0].Values = append(c.Series[0].Values, sum.opens)
		c.Series[1].Values = append(c.Series[1].Values, sum.clicks)
		c.Series[2].Values = append(c.Series[2].Values, sum.actions)
	}
	// A line of one or two points says little and hides the series under
	// each other; bars side by side show each.
	c.Bars = len(c.Labels) < 4
	return c
}
