package api

import (
	"net/http"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

type campaignOut struct {
	store.Campaign
	Stats *store.CampaignStats `json:"stats,omitempty"`
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string         `json:"name"`
		MessageID int64          `json:"message_id"`
		Audience  store.Audience `json:"audience"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return errs.Field("name", "is required, at most 200 characters")
	}
	if len(in.Audience.Lists) == 0 {
		return errs.Field("audience.lists", "name at least one list")
	}
	c := &store.Campaign{Name: in.Name, MessageID: in.MessageID, Audience: in.Audience}
	if err := a.store.CreateCampaign(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, campaignOut{Campaign: *c})
	return nil
}

// getCampaign includes counts of the ledger by status and of events by kind.
func (a *API) getCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	st, err := a.store.Stats(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, campaignOut{Campaign: *c, Stats: st})
	return nil
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.store.ListCampaigns(r.Context())
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []store.Campaign{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": cs})
	return nil
}

// sendCampaign starts the send; a campaign sent before gets 409 and nobody is mailed twice.
func (a *API) sendCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	total, err := a.dispatcher.Send(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"campaign_id": id, "status": store.CampaignSending, "recipients": total})
	return nil
}

func notFoundRoute(r *http.Request) error {
	return errs.New(errs.NotFound, "no route %s %s", r.Method, r.URL.Path)
}
