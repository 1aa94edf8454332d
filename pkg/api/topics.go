package api

import (
	"net/http"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

func (a *API) listTopics(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.store.ListTopics(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"topics": ts})
	return nil
}

func (a *API) createTopic(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return errs.Field("name", "is required, at most 100 characters")
	}
	if len(in.Description) > 500 {
		return errs.Field("description", "at most 500 characters")
	}
	t := &store.Topic{Name: in.Name, Description: strings.TrimSpace(in.Description)}
	if err := a.store.CreateTopic(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (a *API) getTopic(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	t, err := a.store.GetTopic(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
