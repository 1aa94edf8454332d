package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

type contactInput struct {
	Email     string  `json:"email"`
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Lists     []int64 `json:"lists"`
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request) error {
	var in contactInput
	if err := decode(r, &in); err != nil {
		return err
	}
	email, err := audience.NormalizeEmail("email", in.Email)
	if err != nil {
		return err
	}
	for field, v := range map[string]string{"first_name": in.FirstName, "last_name": in.LastName} {
		if len(v) > 200 || strings.ContainsAny(v, "\r\n\x00") {
			return errs.Field(field, "must be one line of at most 200 characters")
		}
	}
	c := &store.Contact{Email: email, FirstName: strings.TrimSpace(in.FirstName), LastName: strings.TrimSpace(in.LastName)}
	if err := a.store.CreateContact(r.Context(), c); err != nil {
		return err
	}
	for _, listID := range in.Lists {
		if err := a.store.AddListMembers(r.Context(), listID, []int64{c.ID}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetContact(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// listContacts pages by id: ?after=<last id seen>&limit=<n, at most 1000>.
func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	cs, err := a.store.ListContacts(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Contacts []store.Contact `json:"contacts"`
		Next     *int64          `json:"next_after,omitempty"`
	}{Contacts: cs}
	if len(cs) == limit {
		out.Next = &cs[len(cs)-1].ID
	}
	if out.Contacts == nil {
		out.Contacts = []store.Contact{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func page(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	limit = 100
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, errs.Field("limit", "must be a number from 1 to 1000")
		}
	}
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return 0, 0, errs.Field("after", "must be a contact id")
		}
	}
	return after, limit, nil
}
