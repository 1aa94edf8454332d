package api

import (
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/webhook"
)

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := a.store.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": ws})
	return nil
}

// createWebhook registers a URL; the secret, which signs every post, is only
// ever shown in this answer.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	wh, err := webhook.Check(in.URL, in.Events, in.Secret)
	if err != nil {
		return err
	}
	if err := a.store.CreateWebhook(r.Context(), wh); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		store.Webhook
		Secret string `json:"secret"`
	}{*wh, wh.Secret})
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteWebhook(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
