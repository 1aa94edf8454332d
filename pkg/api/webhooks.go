package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
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
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.URL) > 2000 {
		return errs.Field("url", "must be an absolute http or https URL")
	}
	if len(in.Events) == 0 {
		return errs.Field("events", "name at least one of %s", strings.Join(webhook.Events, ", "))
	}
	for i, e := range in.Events {
		if !slices.Contains(webhook.Events, e) {
			return errs.Field(fmt.Sprintf("events[%d]", i), "unknown event %q; known: %s", e, strings.Join(webhook.Events, ", "))
		}
	}
	if in.Secret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		in.Secret = hex.EncodeToString(b)
	} else if len(in.Secret) < 16 || len(in.Secret) > 200 {
		return errs.Field("secret", "16 to 200 characters, or leave it out to get a generated one")
	}
	wh := &store.Webhook{URL: u.String(), Events: slices.Compact(slices.Sorted(slices.Values(in.Events))), Secret: in.Secret}
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
