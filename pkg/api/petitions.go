package api

import (
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// petitionOut is a petition with its count, named as OSDI names it.
type petitionOut struct {
	*store.Petition
	TotalSignatures int64 `json:"total_signatures"`
}

func (a *API) listPetitions(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.store.ListPetitions(r.Context())
	if err != nil {
		return err
	}
	out := make([]petitionOut, len(ps))
	for i := range ps {
		n, err := a.store.CountSignatures(r.Context(), ps[i].ID)
		if err != nil {
			return err
		}
		out[i] = petitionOut{&ps[i], n}
	}
	writeJSON(w, http.StatusOK, map[string]any{"petitions": out})
	return nil
}

func (a *API) createPetition(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Slug         string `json:"slug"`
		Title        string `json:"title"`
		Target       string `json:"target"`
		PetitionText string `json:"petition_text"`
		Goal         int64  `json:"goal"`
		Open         *bool  `json:"open"`
		ThankYouText string `json:"thank_you_text"`
		ShareText    string `json:"share_text"`
		Kind         string `json:"kind"`
		OrgOrder     string `json:"org_order"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p := &store.Petition{Slug: in.Slug, Title: in.Title, Target: in.Target,
		PetitionText: in.PetitionText, Goal: in.Goal, Open: in.Open == nil || *in.Open, ThankYouText: in.ThankYouText, ShareText: in.ShareText,
		Kind: in.Kind, OrgOrder: in.OrgOrder}
	if err := store.CheckPetition(p); err != nil {
		return err
	}
	if err := a.store.CreatePetition(r.Context(), p); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, petitionOut{p, 0})
	return nil
}

func (a *API) getPetition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.store.GetPetition(r.Context(), id)
	if err != nil {
		return err
	}
	n, err := a.store.CountSignatures(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, petitionOut{p, n})
	return nil
}
