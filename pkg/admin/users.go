package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// ResetLinkLife is how long a password-reset link works.
const ResetLinkLife = 24 * time.Hour

// resetLinkCookie carries a reset link made by a POST to the users page
// that shows it once (post-redirect-get): the link is a secret, so it goes
// in neither the redirect's URL nor the database.
const resetLinkCookie = "dearfriend_reset_link"

// roleChoices are the choices of the new-user form's role field.
var roleChoices = strings.Join(store.Roles, "|")

// userNotices are the confirmations the users screen shows after a change (?done=).
var userNotices = map[string]string{
	"role":     "The role is changed.",
	"disabled": "The user is disabled: they cannot sign in, and their sessions have ended.",
	"enabled":  "The user is enabled again.",
}

// usersView is the users screen: the users, the roles, and a reset link
// just made.
type usersView struct {
	Users    []store.User
	Roles    string   // the new-user form's choices
	RoleList []string // each user's role form's choices
	Reset    *resetLink
	Me       int64
}

// resetLink is a password-reset link to show the admin who made it.
type resetLink struct {
	Email, URL string
	Lost       bool // the link was shown already (the page was reloaded)
}

// users lists the admin UI's users, with a form to change each one's role,
// disable or enable them and make a password-reset link, and the form to
// add one (admins only).
func (h *Handler) users(w http.ResponseWriter, r *http.Request, s *signedIn) {
	q := r.URL.Query()
	notice := userNotices[q.Get("done")]
	if added := q.Get("added"); added != "" {
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
	v := usersView{Users: us, Roles: roleChoices, RoleList: store.Roles, Me: s.User.ID}
	if id := r.URL.Query().Get("reset"); id != "" && r.Method == http.MethodGet {
		v.Reset = h.takeResetLink(w, r, id, us)
	}
	h.render(w, r, s, status, "users.html", view{Title: "Users", Section: "Users", Form: f, Notice: notice, Data: v})
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

// userID is the path's {id}.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.NotFound, "There is no user %q.", r.PathValue("id"))
	}
	return id, nil
}

// changeUser runs change on the path's user and goes back to the users
// page saying done; a refusal (the last admin) is shown above the page.
func (h *Handler) changeUser(w http.ResponseWriter, r *http.Request, s *signedIn, done string, change func(id int64) (*store.User, error)) {
	id, err := userID(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	u, err := change(id)
	if err != nil {
		if e, ok := errs.As(err); ok && (e.Code == errs.Conflict || e.Code == errs.Invalid) {
			f := NewForm(url.Values{"role": {store.RoleOrganizer}})
			f.Fail("", sentence(e.Message))
			h.showUsers(w, r, s, http.StatusConflict, f, "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("admin user changed", "email", u.Email, "change", done, "role", u.Role, "by", s.User.Email)
	http.Redirect(w, r, "/admin/users?done="+done, http.StatusSeeOther)
}

// setRole gives the path's user the form's role.
func (h *Handler) setRole(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.changeUser(w, r, s, "role", func(id int64) (*store.User, error) {
		role := r.PostForm.Get("role")
		if !allowed(role, store.RoleViewer) {
			return nil, errs.Field("role", "must be viewer, organizer or admin")
		}
		return h.Store.SetUserRole(r.Context(), id, role)
	})
}

// disableUser stops the path's user signing in and ends their sessions.
func (h *Handler) disableUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.changeUser(w, r, s, "disabled", func(id int64) (*store.User, error) {
		return h.Store.SetUserDisabled(r.Context(), id, true, h.Now())
	})
}

// enableUser lets the path's user sign in again.
func (h *Handler) enableUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.changeUser(w, r, s, "enabled", func(id int64) (*store.User, error) {
		return h.Store.SetUserDisabled(r.Context(), id, false, h.Now())
	})
}

// makeResetLink makes a password-reset link for the path's user, working
// once within ResetLinkLife, and shows it to the admin on the users page:
// mail may not be set up, so the admin passes it on.
func (h *Handler) makeResetLink(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := userID(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	u, err := h.Store.GetUser(r.Context(), id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	token, now := randomID(), h.Now()
	if err := h.Store.CreatePasswordReset(r.Context(), &store.PasswordReset{TokenHash: hashID(token), UserID: u.ID,
		CreatedAt: now, ExpiresAt: now.Add(ResetLinkLife)}); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("admin password reset link made", "email", u.Email, "by", s.User.Email)
	http.SetCookie(w, &http.Cookie{Name: resetLinkCookie, Value: strconv.FormatInt(u.ID, 10) + "." + token, Path: "/admin/users",
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode, MaxAge: 300})
	http.Redirect(w, r, "/admin/users?reset="+strconv.FormatInt(u.ID, 10), http.StatusSeeOther)
}

// takeResetLink reads, once, the reset link makeResetLink left for user id.
func (h *Handler) takeResetLink(w http.ResponseWriter, r *http.Request, id string, us []store.User) *resetLink {
	var email string
	for _, u := range us {
		if strconv.FormatInt(u.ID, 10) == id {
			email = u.Email
		}
	}
	if email == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: resetLinkCookie, Path: "/admin/users", MaxAge: -1})
	c, err := r.Cookie(resetLinkCookie)
	if err != nil {
		return &resetLink{Email: email, Lost: true}
	}
	forID, token, ok := strings.Cut(c.Value, ".")
	if !ok || forID != id || token == "" {
		return &resetLink{Email: email, Lost: true}
	}
	base := strings.TrimSuffix(h.PublicURL, "/")
	if base == "" {
		base = "http://" + r.Host
	}
	return &resetLink{Email: email, URL: base + "/admin/reset/" + token}
}
