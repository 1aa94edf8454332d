package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/export"
)

// campaignStats answers GET /api/v1/campaigns/{id}/stats: outcomes and engagement, human and total.
func (a *API) campaignStats(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := a.store.CampaignReport(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// campaignHourly answers GET /api/v1/campaigns/{id}/stats/hourly: one point per UTC hour with activity.
func (a *API) campaignHourly(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	hours, err := a.store.HourlyStats(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "hours": hours})
	return nil
}

// campaignRecipientsCSV streams GET /api/v1/campaigns/{id}/recipients.csv, one row per ledger row.
func (a *API) campaignRecipientsCSV(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetCampaign(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="campaign-%d-recipients.csv"`, id))
	cw := csv.NewWriter(w)
	cw.Write([]string{"send_id", "email", "status", "sent_at", "last_reply", "opens", "human_opens", "clicks", "human_clicks", "unsubscribed"})
	var after int64
	for {
		rows, err := a.store.RecipientOutcomes(r.Context(), id, after, export.Page)
		if err != nil {
			// The header is out: the best left is to cut the body short and log.
			a.log.Error("export campaign recipients", "campaign_id", id, "after", after, "err", err)
			return nil
		}
		for _, o := range rows {
			sent := ""
			if o.SentAt != nil {
				sent = o.SentAt.UTC().Format(time.RFC3339)
			}
			cw.Write([]string{strconv.FormatInt(o.SendID, 10), export.SafeCell(o.Email), o.Status, sent, export.SafeCell(o.LastReply),
				strconv.FormatInt(o.Opens, 10), strconv.FormatInt(o.HumanOpens, 10),
				strconv.FormatInt(o.Clicks, 10), strconv.FormatInt(o.HumanClicks, 10), strconv.FormatBool(o.Unsubscribed)})
			after = o.SendID
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return nil // the client went away
		}
		if len(rows) < export.Page {
			return nil
		}
	}
}

// bounceStats answers GET /api/v1/stats/bounces?days=N[&campaign_id=ID]:
// failures by kind per UTC day over the last N days (default 30), at send
// time and reported later, of every campaign or of one.
func (a *API) bounceStats(w http.ResponseWriter, r *http.Request) error {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return errs.Field("days", "must be a whole number of days from 1 to 3650, got %q", v)
		}
		days = n
	}
	var id int64
	if v := r.URL.Query().Get("campaign_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errs.Field("campaign_id", "must be a campaign id, got %q", v)
		}
		if _, err := a.store.GetCampaign(r.Context(), n); err != nil {
			return err
		}
		id = n
	}
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-days)
	out, err := a.store.BouncesByDay(r.Context(), id, since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": days, "since": since, "campaign_id": id, "by_day": out})
	return nil
}
