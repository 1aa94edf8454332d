package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// previewSize is how many contacts a segment preview shows.
const previewSize = 20

type segmentInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Rules       json.RawMessage `json:"rules"`
}

func (a *API) createSegment(w http.ResponseWriter, r *http.Request) error {
	var in segmentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return errs.Field("name", "is required, at most 200 characters")
	}
	if len(in.Description) > 2000 {
		return errs.Field("description", "is at most 2000 characters")
	}
	if _, err := rulesOf(in.Rules); err != nil {
		return err
	}
	g := &store.Segment{Name: in.Name, Description: in.Description, Rules: in.Rules}
	if err := a.store.CreateSegment(r.Context(), g); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (a *API) listSegments(w http.ResponseWriter, r *http.Request) error {
	gs, err := a.store.ListSegments(r.Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []store.Segment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": gs})
	return nil
}

func (a *API) getSegment(w http.ResponseWriter, r *http.Request) error {
	g, err := a.segmentOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// countSegment counts every contact the rules select, whatever their status;
// a campaign's audience count says who would be mailed.
func (a *API) countSegment(w http.ResponseWriter, r *http.Request) error {
	rules, err := a.savedRules(r)
	if err != nil {
		return err
	}
	return a.writeCount(w, r, rules)
}

func (a *API) previewSegment(w http.ResponseWriter, r *http.Request) error {
	rules, err := a.savedRules(r)
	if err != nil {
		return err
	}
	return a.writePreview(w, r, rules)
}

// exportSegment streams the contacts the segment selects now as CSV, whatever
// their status (the status is a column).
func (a *API) exportSegment(w http.ResponseWriter, r *http.Request) error {
	g, err := a.segmentOf(r)
	if err != nil {
		return err
	}
	rules, err := rulesOf(g.Rules)
	if err != nil {
		return err
	}
	return a.exportCSV(w, r, "segment-"+strconv.FormatInt(g.ID, 10)+".csv", rules.Cond(time.Now().UTC()).Filter())
}

func (a *API) countRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := postedRules(r)
	if err != nil {
		return err
	}
	return a.writeCount(w, r, rules)
}

func (a *API) previewRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := postedRules(r)
	if err != nil {
		return err
	}
	return a.writePreview(w, r, rules)
}

func (a *API) writeCount(w http.ResponseWriter, r *http.Request, rules *audience.Rules) error {
	n, err := a.store.CountWhere(r.Context(), rules.Cond(time.Now().UTC()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"count": n})
	return nil
}

func (a *API) writePreview(w http.ResponseWriter, r *http.Request, rules *audience.Rules) error {
	cs, err := a.store.PreviewWhere(r.Context(), rules.Cond(time.Now().UTC()), previewSize)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": cs})
	return nil
}

func (a *API) segmentOf(r *http.Request) (*store.Segment, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.store.GetSegment(r.Context(), id)
}

func (a *API) savedRules(r *http.Request) (*audience.Rules, error) {
	g, err := a.segmentOf(r)
	if err != nil {
		return nil, err
	}
	return rulesOf(g.Rules)
}

// postedRules reads {"rules": {...}}, a rule tree not saved.
func postedRules(r *http.Request) (*audience.Rules, error) {
	var in struct {
		Rules json.RawMessage `json:"rules"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return rulesOf(in.Rules)
}

func rulesOf(raw json.RawMessage) (*audience.Rules, error) {
	if len(raw) == 0 {
		return nil, errs.Field("rules", "is required: a rule tree such as {\"all\": [...]}")
	}
	return audience.ParseRules("rules", raw)
}
