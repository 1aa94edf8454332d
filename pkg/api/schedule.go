package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// scheduleCampaign makes a draft start by itself at send_at; the dispatcher's
// sweep starts it (delivery.Dispatcher.Sweep), so a restart or a Redis that
// lost its data does not lose the schedule.
func (a *API) scheduleCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		SendAt *string `json:"send_at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.SendAt == nil || strings.TrimSpace(*in.SendAt) == "" {
		return errs.Field("send_at", "is required: an RFC 3339 time like 2026-05-01T09:00:00-04:00")
	}
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(*in.SendAt))
	if err != nil {
		return errs.Field("send_at", "must be an RFC 3339 time like 2026-05-01T09:00:00-04:00, got %q", *in.SendAt)
	}
	if !at.After(time.Now()) {
		return errs.Field("send_at", "%s is in the past; to send now, POST /api/v1/campaigns/%d/send", at.Format(time.RFC3339), id)
	}
	if err := a.store.ScheduleCampaign(r.Context(), id, at); err != nil {
		return err
	}
	return a.writeCampaign(w, r, id)
}

// unscheduleCampaign takes a scheduled campaign back to draft.
func (a *API) unscheduleCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.store.UnscheduleCampaign(r.Context(), id); err != nil {
		return err
	}
	return a.writeCampaign(w, r, id)
}

func (a *API) writeCampaign(w http.ResponseWriter, r *http.Request, id int64) error {
	c, err := a.store.GetCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, campaignOut{Campaign: *c})
	return nil
}
