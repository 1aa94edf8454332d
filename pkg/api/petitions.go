package api

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// petitionSlugRe is what render's action_link accepts, so every petition can be linked from an email.
var petitionSlugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

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
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p := &store.Petition{Slug: strings.TrimSpace(in.Slug), Title: strings.TrimSpace(in.Title), Target: strings.TrimSpace(in.Target),
		PetitionText: in.PetitionText, Goal: in.Goal, Open: in.Open == nil || *in.Open, ThankYouText: in.ThankYouText, ShareText: in.ShareText}
	switch {
	case !petitionSlugRe.MatchString(p.Slug):
		return errs.Field("slug", "must be 1 to 64 lowercase letters, digits and dashes, starting with a letter or digit")
	case p.Title == "" || utf8.RuneCountInString(p.Title) > 200:
		return errs.Field("title", "is required, at most 200 characters")
	case utf8.RuneCountInString(p.Target) > 200:
		return errs.Field("target", "at most 200 characters")
	case len(p.PetitionText) > 100_000:
		return errs.Field("petition_text", "at most 100,000 bytes")
	case p.Goal < 0:
		return errs.Field("goal", "must not be negative")
	case len(p.ThankYouText) > 10_000:
		return errs.Field("thank_you_text", "at most 10,000 bytes")
	case utf8.RuneCountInString(p.ShareText) > 280:
		return errs.Field("share_text", "at most 280 characters")
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
