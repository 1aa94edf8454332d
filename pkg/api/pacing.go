package api

import (
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// setCampaignRate changes a campaign's rate, also while it sends; workers
// read it again within about a second.
func (a *API) setCampaignRate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		PerSecond *float64 `json:"per_second"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.PerSecond == nil {
		return errs.Field("per_second", "is required: messages per second, 0 for no limit")
	}
	if err := a.store.SetCampaignRate(r.Context(), id, *in.PerSecond); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "per_second": *in.PerSecond})
	return nil
}
