package admin

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// listRow is a list with its number of members.
type listRow struct {
	store.List
	Members int64
}

// listsView is the lists screen: every list, the form to create one, and
// what was last done.
type listsView struct {
	Rows    []listRow
	Editing int64 // the list whose rename form was refused, if any
}

// listNotices are the confirmations the lists screen shows after a redirect.
var listNotices = map[string]string{
	"created": "List created.",
	"renamed": "List renamed.",
	"deleted": "List deleted; its members are still contacts.",
}

// lists shows every list with its id and number of members.
func (h *Handler) lists(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.showLists(w, r, s, http.StatusOK, NewForm(nil), 0)
}

func (h *Handler) showLists(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, editing int64) {
	ls, err := h.Store.ListLists(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rows := make([]listRow, 0, len(ls))
	for _, l := range ls {
		n, err := h.Store.CountListMembers(r.Context(), l.ID)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		rows = append(rows, listRow{List: l, Members: n})
	}
	h.render(w, r, s, status, "lists.html", view{Title: "Lists", Section: "Lists", Form: f,
		Notice: listNotices[r.URL.Query().Get("done")], Data: listsView{Rows: rows, Editing: editing}})
}

// createList makes a list from the form's name and description.
func (h *Handler) createList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	name, desc, err := store.CheckNamed(f.Get("name"), f.Get("description"), store.MaxListName)
	if err == nil {
		err = h.Store.CreateList(r.Context(), &store.List{Name: name, Description: desc})
	}
	h.afterList(w, r, s, f, err, 0, "created")
}

// renameList gives a list the form's name.
func (h *Handler) renameList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.problem(w, r, s, http.StatusNotFound, "No such list.")
		return
	}
	f := NewForm(r.PostForm)
	err = h.Store.RenameList(r.Context(), id, f.Get("rename"))
	if f.Take(err) { // the store's field is "name"; the row's input is "rename"
		f.Errors["rename"] = f.Errors["name"]
		delete(f.Errors, "name")
	}
	h.afterList(w, r, s, f, err, id, "renamed")
}

// deleteList removes a list and its memberships; the contacts stay.
func (h *Handler) deleteList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.problem(w, r, s, http.StatusNotFound, "No such list.")
		return
	}
	f := NewForm(r.PostForm)
	name, err := h.listInUse(r, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if name != "" {
		f.Fail("delete", "The campaign “"+name+"” still sends to or excludes this list; it is deleted once that campaign is sent or cancelled.")
		h.showLists(w, r, s, http.StatusConflict, f, id)
		return
	}
	h.afterList(w, r, s, f, h.Store.DeleteList(r.Context(), id), id, "deleted")
}

// listInUse names a campaign not yet finished (draft, scheduled, sending or
// paused) whose audience includes or excludes list id: deleting the list
// would change who that campaign reaches without anyone saying so.
func (h *Handler) listInUse(r *http.Request, id int64) (string, error) {
	cs, err := h.Store.ListCampaigns(r.Context())
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Status == store.CampaignSent || c.Status == store.CampaignCancelled {
			continue
		}
		if slices.Contains(c.Audience.Lists, id) || slices.Contains(c.Audience.ExcludeLists, id) {
			return c.Name, nil
		}
	}
	return "", nil
}

// afterList redirects to the lists screen when err is nil, shows it again
// with the form's error when the input was refused, and fails otherwise.
func (h *Handler) afterList(w http.ResponseWriter, r *http.Request, s *signedIn, f *Form, err error, id int64, done string) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/lists?done="+done, http.StatusSeeOther)
	case !f.OK() || f.Take(err):
		h.showLists(w, r, s, http.StatusUnprocessableEntity, f, id)
	default:
		h.failFor(w, r, s, err)
	}
}
