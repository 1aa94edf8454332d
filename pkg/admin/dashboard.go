package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// dashboardCampaigns is how many recent campaigns the dashboard shows.
const dashboardCampaigns = 10

// campaignRow is one campaign on the dashboard: its counts; the template
// turns them into rates of Sent.
type campaignRow struct {
	store.Campaign
	Sent        int64
	Opens       int64 // distinct recipients who opened, proxies included
	HumanOpens  int64 // the same, people only
	HumanClicks int64 // distinct recipients who clicked, people only
	Actions     int64 // signatures the campaign brought
}

// dashboard shows the recent campaigns with their sent, open, click and
// action rates; opens by people are shown apart from opens by mail proxies;
// and bounces by kind and complaints per UTC day of the last
// dashboardBounceDays days, across all campaigns.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	cs, err := h.Store.RecentCampaigns(ctx, dashboardCampaigns)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rows := make([]campaignRow, 0, len(cs))
	for _, c := range cs {
		rep, err := h.Store.CampaignReport(ctx, c.ID)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		actions, err := h.Store.CampaignSignatures(ctx, c.ID)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		rows = append(rows, campaignRow{Campaign: c, Sent: rep.Sent, Opens: rep.Opens.Unique,
			HumanOpens: rep.Opens.HumanUnique, HumanClicks: rep.Clicks.HumanUnique, Actions: actions})
	}
	contacts, err := h.Store.CountContacts(ctx)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-dashboardBounceDays)
	bounces, err := h.loadBounceDays(ctx, 0, since, "bounce-days",
		fmt.Sprintf("No bounces or complaints in the last %d days.", dashboardBounceDays))
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "dashboard.html", view{Title: "Dashboard", Section: "Dashboard",
		Data: struct {
			Campaigns  []campaignRow
			Contacts   int64
			Bounces    *bounceDays
			BounceDays int
		}{rows, contacts, bounces, dashboardBounceDays}})
}
