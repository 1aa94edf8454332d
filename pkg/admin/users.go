package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// roleChoices are the choices of the new-user form's role field.
var roleChoices = strings.Join(store.Roles, "|")

// users lists the admin UI's users and offers the form to add one (admins only).
func (h *Handler) users(w http.ResponseWriter, r *http.Request, s *signedIn) {
	notice := ""
	if added := r.URL.Query().Get("added"); added != "" {
		notice = "User " + added + " is added."
	}
	h.showUsers(w, r, s, http.StatusOK, NewForm(url.Values{"role": {store.RoleOrganizer}}), notice)
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, notice string) {
	us, err := h.Store.ListUsers(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f.Values.Set("password", "") // never sent back
	h.render(w, r, s, status, "users.html", view{Title: "Users", Section: "Users", Form: f, Notice: notice,
		Data: struct {
			Users []store.User
			Roles string
		}{us, roleChoices}})
}

// createUser adds a user with the rules of CreateUser; problems are shown at their field.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	u, err := CreateUser(r.Context(), h.Store, f.Get("email"), f.Get("role"), f.Get("password"))
	if err != nil {
		if f.Take(err) {
			h.showUsers(w, r, s, http.StatusUnprocessableEntity, f, "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("admin user added", "email", u.Email, "role", u.Role, "by", s.User.Email)
	http.Redirect(w, r, "/admin/users?"+url.Values{"added": {u.Email}}.Encode(), http.StatusSeeOther)
}
