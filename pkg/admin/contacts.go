package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Contact screens' limits.
const (
	contactsPerPage = 50
	historyItems    = 200
	maxSearch       = 200
)

// contactFields are the fields the edit form shows, in order, with their labels.
var contactFields = []struct{ Name, Label string }{
	{"first_name", "First name"}, {"last_name", "Last name"}, {"postal_code", "Postal code"},
	{"region", "Region or state"}, {"country", "Country"}, {"time_zone", "Time zone"}, {"source", "Source"},
}

// contactStatuses are the choices of the edit form's status field.
var contactStatuses = strings.Join([]string{store.ContactSubscribed, store.ContactUnsubscribed, store.ContactBounced, store.ContactComplained}, "|")

// contacts lists contacts a page at a time (keyset paging on the id, like the
// API): ?q= keeps those whose email, first or last name starts with it;
// ?after= is the last id of the previous page.
func (h *Handler) contacts(w http.ResponseWriter, r *http.Request, s *signedIn) {
	q := r.URL.Query()
	f := NewForm(url.Values{"q": {q.Get("q")}})
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") != "" && (err != nil || after < 0) {
		after = 0
	}
	var cs []store.Contact
	if len(q.Get("q")) > maxSearch {
		f.Fail("q", "Search for at most 200 characters.")
	} else if cs, err = h.Store.SearchContacts(r.Context(), store.ContactQuery{Search: q.Get("q"), After: after, Limit: contactsPerPage}); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	var next string
	if len(cs) == contactsPerPage {
		next = "/admin/contacts?" + url.Values{"q": {q.Get("q")}, "after": {strconv.FormatInt(cs[len(cs)-1].ID, 10)}}.Encode()
	}
	status := http.StatusOK
	if !f.OK() {
		status = http.StatusUnprocessableEntity
	}
	notice := ""
	if q.Get("erased") != "" {
		notice = "The person's data is erased. Their address stays suppressed: no campaign mails it, even if it is imported, added or signs again."
	}
	h.render(w, r, s, status, "contacts.html", view{Title: "Contacts", Section: "Contacts", Form: f, Notice: notice,
		Data: struct {
			Contacts  []store.Contact
			Next      string
			Continued bool // not the first page
		}{cs, next, after > 0}})
}

// contactOf returns the contact the path's {id} names.
func (h *Handler) contactOf(r *http.Request) (*store.Contact, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errs.New(errs.NotFound, "There is no contact %q.", r.PathValue("id"))
	}
	return h.Store.GetContact(r.Context(), id)
}

// contactNotices are the confirmations a contact page shows after a change (?saved=).
var contactNotices = map[string]string{
	"contact":       "The contact is saved.",
	"tags":          "The tags are added.",
	"untag":         "The tag is removed.",
	"bounce_lifted": "The bounce is lifted: the contact is subscribed again and the address no longer suppressed.",
	"listed":        "The contact is added to the list.",
	"unlisted":      "The contact is taken off the list.",
}

// contact shows a contact with its lists, custom fields, tags, signatures,
// suppressions and history: the messages it was sent, its opens, clicks,
// bounces and unsubscribes.
func (h *Handler) contact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.showContact(w, r, s, http.StatusOK, c, NewForm(nil), contactNotices[r.URL.Query().Get("saved")])
}

// showContact draws a contact's page; f is its add-tags or add-to-list form.
func (h *Handler) showContact(w http.ResponseWriter, r *http.Request, s *signedIn, status int, c *store.Contact, f *Form, notice string) {
	p, err := h.profileOf(r, c)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, status, "contact.html", view{Title: c.Email, Section: "Contacts", Notice: notice, Form: f, Data: p})
}

func (h *Handler) editContactPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(url.Values{"first_name": {c.FirstName}, "last_name": {c.LastName}, "postal_code": {c.PostalCode},
		"region": {c.Region}, "country": {c.Country}, "time_zone": {c.TimeZone}, "source": {c.Source}, "status": {c.Status},
		"new_type": {audience.TypeString}})
	for k, v := range c.Attributes {
		f.Values.Set(attrField(k), attrText(v))
	}
	h.showContactForm(w, r, s, http.StatusOK, c, f)
}

func (h *Handler) showContactForm(w http.ResponseWriter, r *http.Request, s *signedIn, status int, c *store.Contact, f *Form) {
	h.render(w, r, s, status, "contact_edit.html", view{Title: "Edit " + c.Email, Section: "Contacts", Form: f,
		Data: struct {
			Contact    *store.Contact
			Fields     any
			Statuses   string
			Attributes []attrRow
			Types      string
		}{c, contactFields, contactStatuses, attrRows(c), attrTypes}})
}

// editContact saves the form with the API's rules (audience.CheckContactPatch
// and the store's: a contact who left cannot be set back to subscribed).
// On a problem the form is shown again with the error at its field.
func (h *Handler) editContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	attrs := formAttributes(f, c)
	if !f.OK() {
		h.showContactForm(w, r, s, http.StatusUnprocessableEntity, c, f)
		return
	}
	p, err := audience.CheckContactPatch(store.ContactPatch{FirstName: f.Ptr("first_name"), LastName: f.Ptr("last_name"),
		PostalCode: f.Ptr("postal_code"), Region: f.Ptr("region"), Country: f.Ptr("country"),
		TimeZone: f.Ptr("time_zone"), Source: f.Ptr("source"), Status: f.Ptr("status"), Attributes: attrs})
	if err == nil {
		_, err = h.Store.UpdateContact(r.Context(), c.ID, p)
	}
	if err != nil {
		if f.Take(err) {
			h.showContactForm(w, r, s, http.StatusUnprocessableEntity, c, f)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	savedContact(w, r, c, "contact")
}

// savedContact sends the browser back to the contact's page, saying what changed.
// liftBounce subscribes a bounced contact again and removes the suppression
// the bounce made (store.LiftBounce), when the organizer knows the address
// works.
func (h *Handler) liftBounce(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if err := h.Store.LiftBounce(r.Context(), c.ID); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	savedContact(w, r, c, "bounce_lifted")
}

func savedContact(w http.ResponseWriter, r *http.Request, c *store.Contact, what string) {
	http.Redirect(w, r, "/admin/contacts/"+strconv.FormatInt(c.ID, 10)+"?saved="+what, http.StatusSeeOther)
}

// addTags puts the tags of the form's "tags" field, separated by commas, on
// the contact, with the API's rules for tag names (audience.TagNames).
func (h *Handler) addTags(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	var tags []string
	if strings.TrimSpace(f.Get("tags")) == "" {
		err = errs.Field("tags", "type at least one tag")
	} else if tags, err = audience.TagNames(strings.Split(f.Get("tags"), ",")); err == nil {
		err = h.Store.AddContactTags(r.Context(), c.ID, tags)
	}
	h.contactFormDone(w, r, s, c, f, err, "tags")
}

// removeTag takes the form's "tag" off the contact.
func (h *Handler) removeTag(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if err := h.Store.RemoveContactTag(r.Context(), c.ID, r.PostForm.Get("tag")); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	savedContact(w, r, c, "untag")
}
