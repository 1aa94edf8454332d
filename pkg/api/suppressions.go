package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// maxSuppressions bounds one request adding suppressions.
const maxSuppressions = 100000

// listSuppressions pages by id: ?after=<last id seen>&limit=<n, at most 1000>.
func (a *API) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	sups, err := a.store.ListSuppressions(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Suppressions []store.Suppression `json:"suppressions"`
		Next         *int64              `json:"next_after,omitempty"`
	}{Suppressions: sups}
	if len(sups) == limit {
		out.Next = &sups[len(sups)-1].ID
	}
	if out.Suppressions == nil {
		out.Suppressions = []store.Suppression{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addSuppressions adds addresses and domains ("@example.com"), all or none:
// JSON {"entries": [...], "reason": "..."}, or a text/csv body with an email
// column and an optional reason column.
func (a *API) addSuppressions(w http.ResponseWriter, r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var sups []store.Suppression
	var err error
	if ct == "text/csv" {
		sups, err = suppressionsCSV(r.Body)
	} else {
		sups, err = suppressionsJSON(r)
	}
	if err != nil {
		return err
	}
	added, err := a.store.AddSuppressions(r.Context(), sups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"received": int64(len(sups)), "added": added})
	return nil
}

func suppressionsJSON(r *http.Request) ([]store.Suppression, error) {
	var in struct {
		Entries []string `json:"entries"`
		Reason  string   `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.Entries) == 0 || len(in.Entries) > maxSuppressions {
		return nil, errs.Field("entries", "give from 1 to %d addresses or @domains", maxSuppressions)
	}
	reason, err := suppressionReason("reason", in.Reason)
	if err != nil {
		return nil, err
	}
	sups := make([]store.Suppression, len(in.Entries))
	for i, e := range in.Entries {
		email, err := audience.NormalizeSuppression(fmt.Sprintf("entries[%d]", i), e)
		if err != nil {
			return nil, err
		}
		sups[i] = store.Suppression{Email: email, Reason: reason}
	}
	return sups, nil
}

func suppressionsCSV(body io.Reader) ([]store.Suppression, error) {
	cr := csv.NewReader(body)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, errs.Field("file", "the header line cannot be read: %v", err)
	}
	emailCol, reasonCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) {
		case "email", "entry", "domain":
			emailCol = i
		case "reason":
			reasonCol = i
		}
	}
	if emailCol < 0 {
		return nil, errs.Field("file", "the header must name an email column (and may name a reason column)")
	}
	var sups []store.Suppression
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, errs.Field("file", "%v", err)
		}
		line, _ := cr.FieldPos(0)
		field := fmt.Sprintf("line %d", line)
		if emailCol >= len(rec) {
			return nil, errs.Field(field, "has no email field")
		}
		email, err := audience.NormalizeSuppression(field, rec[emailCol])
		if err != nil {
			return nil, err
		}
		reason := "imported"
		if reasonCol >= 0 && reasonCol < len(rec) {
			if reason, err = suppressionReason(field, rec[reasonCol]); err != nil {
				return nil, err
			}
		}
		if len(sups) == maxSuppressions {
			return nil, errs.Field("file", "at most %d entries per request", maxSuppressions)
		}
		sups = append(sups, store.Suppression{Email: email, Reason: reason})
	}
	if len(sups) == 0 {
		return nil, errs.Field("file", "has no entries")
	}
	return sups, nil
}

func suppressionReason(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "imported", nil
	}
	if len(s) > 500 || input.Check(field, s, false) != nil {
		return "", errs.Field(field, "the reason must be one line of at most 500 characters")
	}
	return s, nil
}

func (a *API) deleteSuppression(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteSuppression(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
