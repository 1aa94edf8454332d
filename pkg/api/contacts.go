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

// contactFields are the fields a client may set on a contact; nil is unset.
type contactFields struct {
	FirstName  *string         `json:"first_name"`
	LastName   *string         `json:"last_name"`
	PostalCode *string         `json:"postal_code"`
	Region     *string         `json:"region"`
	Country    *string         `json:"country"`
	TimeZone   *string         `json:"time_zone"`
	Status     *string         `json:"status"`
	Source     *string         `json:"source"`
	ConsentAt  *time.Time      `json:"consent_at"`
	Attributes json.RawMessage `json:"attributes"`
}

// patch checks the fields and turns them into a store patch. Attribute
// values are strings, numbers or booleans; null removes one.
func (f contactFields) patch() (store.ContactPatch, error) {
	p := store.ContactPatch{Status: f.Status, ConsentAt: f.ConsentAt}
	for _, s := range []struct {
		name string
		in   *string
		out  **string
	}{{"first_name", f.FirstName, &p.FirstName}, {"last_name", f.LastName, &p.LastName},
		{"postal_code", f.PostalCode, &p.PostalCode}, {"region", f.Region, &p.Region},
		{"country", f.Country, &p.Country}, {"time_zone", f.TimeZone, &p.TimeZone}, {"source", f.Source, &p.Source}} {
		if s.in == nil {
			continue
		}
		v := strings.TrimSpace(*s.in)
		if len(v) > 200 || strings.ContainsAny(v, "\r\n\x00") {
			return p, errs.Field(s.name, "must be one line of at most 200 characters")
		}
		*s.out = &v
	}
	if p.TimeZone != nil && *p.TimeZone != "" {
		if _, err := time.LoadLocation(*p.TimeZone); err != nil || *p.TimeZone == "Local" {
			return p, errs.Field("time_zone", "%q is not an IANA time zone like America/New_York", *p.TimeZone)
		}
	}
	if p.Status != nil {
		switch *p.Status {
		case store.ContactSubscribed, store.ContactUnsubscribed, store.ContactBounced, store.ContactComplained:
		default:
			return p, errs.Field("status", "must be subscribed, unsubscribed, bounced or complained")
		}
	}
	if len(f.Attributes) > 0 && string(f.Attributes) != "null" {
		var attrs map[string]any
		if err := json.Unmarshal(f.Attributes, &attrs); err != nil {
			return p, errs.Field("attributes", "must be a JSON object")
		}
		if len(attrs) > audience.MaxColumns {
			return p, errs.Field("attributes", "at most %d custom fields", audience.MaxColumns)
		}
		for k, v := range attrs {
			if err := audience.CheckAttribute(k, v); err != nil {
				return p, errs.Field("attributes."+k, "%v", err)
			}
		}
		p.Attributes = attrs
	}
	return p, nil
}

type contactInput struct {
	Email string   `json:"email"`
	Lists []int64  `json:"lists"`
	Tags  []string `json:"tags"`
	contactFields
}

// contactOut is a contact with its tags.
type contactOut struct {
	*store.Contact
	Tags []string `json:"tags"`
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
	p, err := in.patch()
	if err != nil {
		return err
	}
	tags, err := tagNames(in.Tags)
	if err != nil {
		return err
	}
	c := &store.Contact{Email: email}
	p.Apply(c)
	if err := a.store.CreateContact(r.Context(), c); err != nil {
		return err
	}
	for _, listID := range in.Lists {
		if err := a.store.AddListMembers(r.Context(), listID, []int64{c.ID}); err != nil {
			return err
		}
	}
	if len(tags) > 0 {
		if err := a.store.AddContactTags(r.Context(), c.ID, tags); err != nil {
			return err
		}
	}
	return a.writeContact(w, r, http.StatusCreated, c)
}

func (a *API) writeContact(w http.ResponseWriter, r *http.Request, status int, c *store.Contact) error {
	tags, err := a.store.ContactTags(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, status, contactOut{Contact: c, Tags: tags})
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
	return a.writeContact(w, r, http.StatusOK, c)
}

// updateContact changes the fields the body names; a contact that
// unsubscribed, bounced or complained cannot be set back to subscribed.
func (a *API) updateContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in contactFields
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := in.patch()
	if err != nil {
		return err
	}
	c, err := a.store.UpdateContact(r.Context(), id, p)
	if err != nil {
		return err
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

// addContactTags puts tags on a contact: {"tags": ["volunteer", ...]}.
func (a *API) addContactTags(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Tags []string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	tags, err := tagNames(in.Tags)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return errs.Field("tags", "give at least one tag")
	}
	if err := a.store.AddContactTags(r.Context(), id, tags); err != nil {
		return err
	}
	return a.getContact(w, r)
}

func (a *API) removeContactTag(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetContact(r.Context(), id); err != nil {
		return err
	}
	if err := a.store.RemoveContactTag(r.Context(), id, r.PathValue("tag")); err != nil {
		return err
	}
	return a.getContact(w, r)
}

func tagNames(in []string) ([]string, error) {
	if len(in) > 100 {
		return nil, errs.Field("tags", "at most 100 tags at once")
	}
	out := make([]string, 0, len(in))
	for i, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > 100 || strings.ContainsAny(t, ",;\r\n\x00") {
			return nil, errs.Field("tags["+strconv.Itoa(i)+"]", "a tag is 1 to 100 characters, without , or ;")
		}
		out = append(out, t)
	}
	return out, nil
}

// listContacts pages by id: ?after=<last id seen>&limit=<n, at most 1000>;
// ?q= keeps the contacts whose email, first or last name starts with it.
func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		return errs.Field("q", "at most 200 characters")
	}
	cs, err := a.store.SearchContacts(r.Context(), store.ContactQuery{Search: q, After: after, Limit: limit})
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
			return 0, 0, errs.Field("after", "must be the last id of the previous page")
		}
	}
	return after, limit, nil
}
