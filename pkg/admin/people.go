package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/export"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// profile is what a contact's page shows.
type profile struct {
	Contact      *store.Contact
	Attributes   []attrRow
	Lists        []store.ContactList
	OtherLists   []store.List // the lists it is not on, for the add form
	Tags         []string
	Signatures   []store.ContactSignature
	Letters      []store.SignedLetter
	Suppressions []store.Suppression
	History      []store.HistoryItem
}

// profileOf reads everything a contact's page shows.
func (h *Handler) profileOf(r *http.Request, c *store.Contact) (*profile, error) {
	ctx := r.Context()
	p := &profile{Contact: c, Attributes: attrRows(c)}
	var err error
	if p.Lists, err = h.Store.ContactLists(ctx, c.ID); err != nil {
		return nil, err
	}
	all, err := h.Store.ListLists(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if !slices.ContainsFunc(p.Lists, func(m store.ContactList) bool { return m.ListID == l.ID }) {
			p.OtherLists = append(p.OtherLists, l)
		}
	}
	if p.Tags, err = h.Store.ContactTags(ctx, c.ID); err != nil {
		return nil, err
	}
	if p.Signatures, err = h.Store.ContactSignatures(ctx, c.ID); err != nil {
		return nil, err
	}
	if p.Letters, err = h.Store.LettersSignedBy(ctx, c.Email); err != nil {
		return nil, err
	}
	if p.Suppressions, err = h.Store.SuppressionsOf(ctx, c.Email); err != nil {
		return nil, err
	}
	if p.History, err = h.Store.ContactHistory(ctx, c.ID, historyItems); err != nil {
		return nil, err
	}
	return p, nil
}

// attrRow is one custom field as the pages show it.
type attrRow struct {
	Key, Field, Value, Type string
}

// attrTypes are the choices of a new custom field's type.
var attrTypes = strings.Join([]string{audience.TypeString, audience.TypeNumber, audience.TypeBool, audience.TypeDate}, "|")

// attrField is the edit form's field of custom field key.
func attrField(key string) string { return "attr." + key }

// attrText is a custom field's value as typed into a form.
func attrText(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// attrType is the type a custom field's value keeps when edited.
func attrType(v any) string {
	switch v.(type) {
	case float64:
		return audience.TypeNumber
	case bool:
		return audience.TypeBool
	}
	return audience.TypeString
}

// attrRows are a contact's custom fields by name.
func attrRows(c *store.Contact) []attrRow {
	rows := make([]attrRow, 0, len(c.Attributes))
	for k, v := range c.Attributes {
		rows = append(rows, attrRow{Key: k, Field: attrField(k), Value: attrText(v), Type: attrType(v)})
	}
	slices.SortFunc(rows, func(a, b attrRow) int { return strings.Compare(a.Key, b.Key) })
	return rows
}

// formAttributes reads the edit form's custom fields into a patch: each
// field the contact has keeps its type and is removed when emptied; the
// "new_key", "new_type", "new_value" trio adds one. Problems are recorded
// on f at their field.
func formAttributes(f *Form, c *store.Contact) map[string]any {
	out := map[string]any{}
	for k, old := range c.Attributes {
		name := attrField(k)
		if _, sent := f.Values[name]; !sent {
			continue
		}
		text := strings.TrimSpace(f.Get(name))
		if text == "" {
			out[k] = nil
			continue
		}
		if v, ok := attrValue(f, name, k, attrType(old), text); ok {
			out[k] = v
		}
	}
	key, text := strings.TrimSpace(f.Get("new_key")), strings.TrimSpace(f.Get("new_value"))
	switch {
	case key == "" && text == "":
	case key == "":
		f.Fail("new_key", "Name the new custom field.")
	case c.Attributes[key] != nil:
		f.Fail("new_key", "The contact has a custom field "+key+" already: change it above.")
	case audience.CheckAttribute(key, nil) != nil:
		f.Fail("new_key", sentence(audience.CheckAttribute(key, nil).Error()))
	case !slices.Contains(strings.Split(attrTypes, "|"), f.Get("new_type")):
		f.Fail("new_type", "Choose string, number, bool or date.")
	case text == "":
		f.Fail("new_value", "Give the new custom field a value.")
	default:
		if v, ok := attrValue(f, "new_value", key, f.Get("new_type"), text); ok {
			out[key] = v
		}
	}
	return out
}

// attrValue converts text to custom field key of type typ, or records the
// problem at the form's field.
func attrValue(f *Form, field, key, typ, text string) (any, bool) {
	v, err := audience.AttributeValue(typ, text)
	if err == nil {
		err = audience.CheckAttribute(key, v)
	}
	if err != nil {
		f.Fail(field, sentence(err.Error()))
		return nil, false
	}
	return v, true
}

// listOf returns the list the form's "list" field names.
func (h *Handler) listOf(r *http.Request, f *Form) (int64, error) {
	id, err := strconv.ParseInt(f.Get("list"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Field("list", "choose a list")
	}
	if _, err := h.Store.GetList(r.Context(), id); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return 0, errs.Field("list", "that list no longer exists")
		}
		return 0, err
	}
	return id, nil
}

// addToList puts the contact on the form's list.
func (h *Handler) addToList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	id, err := h.listOf(r, f)
	if err == nil {
		err = h.Store.AddListMembers(r.Context(), id, []int64{c.ID})
	}
	h.contactFormDone(w, r, s, c, f, err, "listed")
}

// removeFromList takes the contact off the form's list.
func (h *Handler) removeFromList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("list"), 10, 64)
	if err != nil {
		h.failFor(w, r, s, errs.New(errs.Malformed, "There is no list %q.", r.PostForm.Get("list")))
		return
	}
	if err := h.Store.RemoveListMember(r.Context(), id, c.ID); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	savedContact(w, r, c, "unlisted")
}

// exportContact downloads everything stored about the contact as JSON
// (export.Person), for a person who asks for their data.
func (h *Handler) exportContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rec, err := h.Store.PersonData(r.Context(), c.ID)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("contact exported", "contact_id", c.ID, "by", s.User.Email)
	export.Person(w, rec)
}

// erasePage asks to confirm an erasure by typing the address.
func (h *Handler) erasePage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.showErase(w, r, s, http.StatusOK, c, NewForm(nil))
}

func (h *Handler) showErase(w http.ResponseWriter, r *http.Request, s *signedIn, status int, c *store.Contact, f *Form) {
	h.render(w, r, s, status, "contact_erase.html", view{Title: "Erase " + c.Email, Section: "Contacts", Form: f, Data: c})
}

// eraseContact erases the contact (store.EraseContact) once the form's
// "confirm" field repeats its address, in any letter case.
func (h *Handler) eraseContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.contactOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	if store.EmailKey(f.Get("confirm")) != store.EmailKey(c.Email) {
		f.Fail("confirm", "Type the address "+c.Email+" to confirm.")
		h.showErase(w, r, s, http.StatusUnprocessableEntity, c, f)
		return
	}
	if err := h.Store.EraseContact(r.Context(), c.ID, h.Now()); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("contact erased", "contact_id", c.ID, "by", s.User.Email)
	http.Redirect(w, r, "/admin/contacts?"+url.Values{"erased": {strconv.FormatInt(c.ID, 10)}}.Encode(), http.StatusSeeOther)
}

// contactFormDone ends a form posted on a contact's profile: the profile
// again with the error at its field, another failure's page, or on success
// a redirect to the profile saying what was saved.
func (h *Handler) contactFormDone(w http.ResponseWriter, r *http.Request, s *signedIn, c *store.Contact, f *Form, err error, saved string) {
	if err == nil {
		savedContact(w, r, c, saved)
	} else if f.Take(err) {
		h.showContact(w, r, s, http.StatusUnprocessableEntity, c, f, "")
	} else {
		h.failFor(w, r, s, err)
	}
}
