package api

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

type campaignOut struct {
	store.Campaign
	Stats *store.CampaignStats `json:"stats,omitempty"`
	// Variants are an A/B campaign's, given when it is created.
	Variants []store.Variant `json:"variants,omitempty"`
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string         `json:"name"`
		MessageID int64          `json:"message_id"`
		Audience  store.Audience `json:"audience"`
		TopicID   *int64         `json:"topic_id"` // optional: who opted out of the topic is not mailed
		UTM       store.UTM      `json:"utm"`      // optional: added to tracked links
		Variants  []variantInput `json:"variants"` // optional: an A/B test (variants.go)
		ABTest    *abTestInput   `json:"ab_test"`
		// RatePerSecond caps the send across all workers; 0 or absent: no cap.
		RatePerSecond float64 `json:"rate_per_second"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return errs.Field("name", "is required, at most 200 characters")
	}
	if err := checkAudienceNamesSome(in.Audience); err != nil {
		return err
	}
	for field, v := range map[string]string{"utm.utm_source": in.UTM.Source, "utm.utm_medium": in.UTM.Medium, "utm.utm_campaign": in.UTM.Campaign} {
		if len(v) > 200 || strings.ContainsFunc(v, unicode.IsControl) {
			return errs.Field(field, "must be one line of at most 200 characters")
		}
	}
	if err := store.CheckCampaignRate("rate_per_second", in.RatePerSecond); err != nil {
		return err
	}
	ab, variants, err := a.abTest(in.Variants, in.ABTest)
	if err != nil {
		return err
	}
	c := &store.Campaign{Name: in.Name, MessageID: in.MessageID, Audience: in.Audience, TopicID: in.TopicID, UTM: in.UTM, AB: ab,
		RatePerSecond: in.RatePerSecond}
	if err := a.store.CreateCampaign(r.Context(), c, variants...); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, campaignOut{Campaign: *c, Variants: variants})
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

// campaignAudienceCount says how many contacts the campaign would be sent to
// now: the number its send snapshots.
func (a *API) campaignAudienceCount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	n, err := a.store.CountAudience(r.Context(), c.Audience, c.TopicID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"count": n})
	return nil
}

// audienceCount counts an audience not saved with a campaign.
func (a *API) audienceCount(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Audience store.Audience `json:"audience"`
		TopicID  *int64         `json:"topic_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkAudienceNamesSome(in.Audience); err != nil {
		return err
	}
	n, err := a.store.CountAudience(r.Context(), in.Audience, in.TopicID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"count": n})
	return nil
}

// checkAudienceNamesSome refuses an audience that includes no list and no segment.
func checkAudienceNamesSome(aud store.Audience) error {
	if len(aud.Lists) == 0 && len(aud.Segments) == 0 {
		return errs.Field("audience.lists", "name at least one list or segment")
	}
	return nil
}

// progressWindow is the span over which progress measures the current rate.
const progressWindow = 10 * time.Second

// pauseCampaign stops a sending campaign; 409 when it is not sending.
func (a *API) pauseCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.controlCampaign(w, r, store.CampaignPaused, a.dispatcher.Pause)
}

// resumeCampaign sends the rest of a paused campaign; 409 when it is not paused.
func (a *API) resumeCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.controlCampaign(w, r, store.CampaignSending, a.dispatcher.Unpause)
}

// cancelCampaign skips what a sending or paused campaign has left; 409 otherwise.
func (a *API) cancelCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.controlCampaign(w, r, store.CampaignCancelled, func(ctx context.Context, id int64) error {
		_, err := a.dispatcher.Cancel(ctx, id)
		return err
	})
}

// resendUnknown sends again the rows whose outcome is unknown.
func (a *API) resendUnknown(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := a.dispatcher.ResendUnknown(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "resent": n})
	return nil
}

func (a *API) controlCampaign(w http.ResponseWriter, r *http.Request, status string, do func(context.Context, int64) error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := do(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "status": status})
	return nil
}

// campaignProgress says how far a send is: outcomes, what remains, the rate
// of the last progressWindow and the time left at that rate.
func (a *API) campaignProgress(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.store.CampaignProgress(r.Context(), id, progressWindow)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
