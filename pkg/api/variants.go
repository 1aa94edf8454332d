package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// variantInput is one A/B variant of a new campaign: a subject, a message
// (body and sender) or both.
type variantInput struct {
	Subject   string `json:"subject"`
	MessageID *int64 `json:"message_id"`
}

// abTestInput is the test of a new campaign with variants.
type abTestInput struct {
	Share  int    `json:"share"`  // percent of the audience in the test; 100: a plain split
	Metric string `json:"metric"` // opens, clicks or actions
	Wait   string `json:"wait"`   // a Go duration: "2h", "90m"
	Seed   *int64 `json:"seed"`   // orders the audience for the split; default the campaign's id
}

// abTest converts the variants and test of a new campaign, checking what
// the store cannot: the wait's syntax and the variants' subjects as templates.
func (a *API) abTest(variants []variantInput, in *abTestInput) (store.ABTest, []store.Variant, error) {
	var ab store.ABTest
	if in == nil {
		if len(variants) > 0 {
			return ab, nil, errs.Field("ab_test", "is required with variants: share, metric and wait")
		}
		return ab, nil, nil
	}
	ab = store.ABTest{Share: in.Share, Metric: in.Metric, Seed: in.Seed}
	if in.Share != 100 && strings.TrimSpace(in.Wait) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(in.Wait))
		if err != nil || d%time.Second != 0 {
			return ab, nil, errs.Field("ab_test.wait", "must be a duration in whole seconds like \"2h\" or \"90m\", not %q", in.Wait)
		}
		ab.WaitSeconds = int64(d / time.Second)
	}
	vs := make([]store.Variant, len(variants))
	for i, v := range variants {
		v.Subject = strings.TrimSpace(v.Subject)
		if v.Subject != "" {
			if err := a.checkSubject(fmt.Sprintf("variants[%d].subject", i), v.Subject); err != nil {
				return ab, nil, err
			}
		}
		vs[i] = store.Variant{Subject: v.Subject, MessageID: v.MessageID}
	}
	return ab, vs, nil
}

// checkSubject compiles a variant's subject as the worker will, so that a
// template error is refused now and not at send time; the error names field.
func (a *API) checkSubject(field, subject string) error {
	err := render.CheckSubject(a.compiler, subject)
	if e, ok := errs.As(err); ok && e.Field == "subject" {
		return errs.Field(field, "%s", e.Message)
	}
	return err
}

// campaignVariants gives each variant's delivered messages, unique human
// opens and clicks, signatures and their rates, and the winner once chosen.
func (a *API) campaignVariants(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	stats, err := a.store.CampaignVariantStats(r.Context(), id)
	if err != nil {
		return err
	}
	out := map[string]any{"campaign_id": id, "ab_test": c.AB, "variants": stats, "winner": nil}
	for _, v := range stats {
		if c.AB.WinnerID != nil && v.ID == *c.AB.WinnerID {
			out["winner"] = v.Label
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// chooseWinner ends a campaign's test before its wait is over, with the
// variant named or, when none is, the best by the campaign's metric so far;
// the rest of the audience is sent the winner.
func (a *API) chooseWinner(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Variant string `json:"variant"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	label := strings.ToUpper(strings.TrimSpace(in.Variant))
	if label != "" && (len(label) != 1 || label[0] < 'A' || label[0] >= 'A'+store.MaxVariants) {
		return errs.Field("variant", "must be a variant's label, A to %c", 'A'+store.MaxVariants-1)
	}
	v, err := a.dispatcher.ChooseWinner(r.Context(), id, label)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "winner": v.Label, "variant_id": v.ID})
	return nil
}
