package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/export"
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

// patch turns the fields into a store patch checked by the rules every edge
// shares (audience.CheckContactPatch). Attribute values are strings, numbers
// or booleans; null removes one.
func (f contactFields) patch() (store.ContactPatch, error) {
	p := store.ContactPatch{FirstName: f.FirstName, LastName: f.LastName, PostalCode: f.PostalCode, Region: f.Region,
		Country: f.Country, TimeZone: f.TimeZone, Status: f.Status, Source: f.Source, ConsentAt: f.ConsentAt}
	if len(f.Attributes) > 0 && string(f.Attributes) != "null" {
		if err := json.Unmarshal(f.Attributes, &p.Attributes); err != nil {
			return p, errs.Field("attributes", "must be a JSON object")
		}
	}
	return audience.CheckContactPatch(p)
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
	tags, err := audience.TagNames(in.Tags)
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

// liftBounce subscribes a bounced contact again and removes the
// suppression the bounce made; 409 when the contact is not bounced.
func (a *API) liftBounce(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.store.LiftBounce(r.Context(), id); err != nil {
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
	tags, err := audience.TagNames(in.Tags)
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

// listContacts pages by id: ?after=<last id seen>&limit=<n, at most 1000>;
// ?q= keeps the contacts whose email, first or last name starts with it;
// ?email= looks one address up. Letter case never matters.
func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		return errs.Field("q", "at most 200 characters")
	}
	var cs []store.Contact
	if email := r.URL.Query().Get("email"); email != "" {
		if cs, err = a.contactByEmail(r, email); err != nil {
			return err
		}
	} else if cs, err = a.store.SearchContacts(r.Context(), store.ContactQuery{Search: q, After: after, Limit: limit}); err != nil {
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

// contactByEmail is the contact with email, alone, or none.
func (a *API) contactByEmail(r *http.Request, email string) ([]store.Contact, error) {
	if len(email) > 254 {
		return nil, errs.Field("email", "at most 254 characters")
	}
	c, err := a.store.ContactByEmail(r.Context(), email)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []store.Contact{*c}, nil
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

// eraseContact erases the person's data (store.EraseContact); the query
// must say ?erase=true, as a contact cannot be deleted otherwise: its
// ledger rows and signatures stay, without what identifies it.
func (a *API) eraseContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("erase") != "true" {
		return errs.Field("erase", "must be true: deleting a contact erases the person's data for good, and keeps the address suppressed")
	}
	if err := a.store.EraseContact(r.Context(), id, time.Now()); err != nil {
		return err
	}
	a.log.Info("contact erased", "contact_id", id)
	writeJSON(w, http.StatusOK, map[string]any{"erased": id})
	return nil
}

// exportContact downloads everything stored about the person as JSON.
func (a *API) exportContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := a.store.PersonData(r.Context(), id)
	if err != nil {
		return err
	}
	export.Person(w, rec)
	return nil
}
