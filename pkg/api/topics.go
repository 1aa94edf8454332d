package api

import (
	"net/http"

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
	in, err := decodeNamed(r, store.MaxTopicName)
	if err != nil {
		return err
	}
	t := &store.Topic{Name: in.Name, Description: in.Description}
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
