package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// Previews renders a saved message for one contact and queues test sends;
// pkg/delivery implements it.
type Previews interface {
	Preview(ctx context.Context, messageID, contactID int64) (*mailer.Message, error)
	EnqueueTest(ctx context.Context, messageID int64, emails []string) ([]string, error)
}

// WithPreviews enables the preview and test-send routes.
func (a *API) WithPreviews(p Previews) *API {
	a.previews = p
	return a
}

// preview loads the message of the route as the contact of ?contact_id=N
// (none: a sample contact with every optional field empty) would get it.
func (a *API) preview(r *http.Request) (*mailer.Message, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	if a.previews == nil {
		return nil, notFoundRoute(r)
	}
	var contactID int64
	if s := r.URL.Query().Get("contact_id"); s != "" {
		if contactID, err = strconv.ParseInt(s, 10, 64); err != nil || contactID <= 0 {
			return nil, errs.Field("contact_id", "must be a contact id, got %q", s)
		}
	}
	return a.previews.Preview(r.Context(), id, contactID)
}

// previewHTML answers the HTML part. Scripts and forms cannot run in it,
// though compiling has already removed them.
func (a *API) previewHTML(w http.ResponseWriter, r *http.Request) error {
	m, err := a.preview(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "script-src 'none'; form-action 'none'")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write([]byte(m.HTML))
	return err
}

// previewEML answers the whole email, as it would go on the wire, as a download.
func (a *API) previewEML(w http.ResponseWriter, r *http.Request) error {
	m, err := a.preview(r)
	if err != nil {
		return err
	}
	raw, err := mailer.Build(m)
	if err != nil {
		return err
	}
	id, _ := pathID(r)
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="message-%d.eml"`, id))
	w.Header().Set("Cache-Control", "no-store")
	_, err = raw.WriteTo(w)
	return err
}

// testMessage queues a test send to up to 10 addresses: subject marked
// "[Test] ", no ledger row, never in a campaign's statistics.
func (a *API) testMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if a.previews == nil {
		return notFoundRoute(r)
	}
	var in struct {
		Emails []string `json:"emails"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	emails, err := a.previews.EnqueueTest(r.Context(), id, in.Emails)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"message_id": id, "emails": emails})
	return nil
}
