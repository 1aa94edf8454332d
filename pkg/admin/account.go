package admin

import (
	"net/http"
	"net/url"

	"golang.org/x/crypto/bcrypt"

	"github.com/dearfriend/dearfriend/pkg/action"
	"github.com/dearfriend/dearfriend/pkg/errs"
)

// resetCookie is the reset-password form's CSRF token: whoever opens a
// reset link has no session yet.
const resetCookie = "dearfriend_reset"

// checkNewPassword applies the one password rule (MinPassword to
// MaxPassword bytes) to field, and that repeat, when given, is the same.
func checkNewPassword(f *Form) {
	if p := f.Get("password"); len(p) < MinPassword || len(p) > MaxPassword {
		f.Fail("password", sentence(passwordRule().Message))
	} else if f.Get("password2") != p {
		f.Fail("password2", "The two passwords differ: type the same one twice.")
	}
}

// passwordRule is the error of a password too short or too long.
func passwordRule() *errs.Error {
	return errs.Field("password", "must be %d to %d characters", MinPassword, MaxPassword)
}

// hashPassword is what the database keeps of a password.
func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// account is the signed-in user's page: the form to change one's password.
func (h *Handler) account(w http.ResponseWriter, r *http.Request, s *signedIn) {
	notice := ""
	if r.URL.Query().Get("saved") == "password" {
		notice = "Your password is changed. Your other sessions have ended."
	}
	h.showAccount(w, r, s, http.StatusOK, NewForm(nil), notice)
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, notice string) {
	for _, k := range []string{"current_password", "password", "password2"} {
		f.Values.Set(k, "") // never sent back
	}
	h.render(w, r, s, status, "account.html", view{Title: "Your account", Form: f, Notice: notice})
}

// changePassword sets the signed-in user's password once the current one
// is given; failures count toward the sign-in limits, so a session left
// open cannot be used to guess it. The user's other sessions end.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx, now, f := r.Context(), h.Now(), NewForm(r.PostForm)
	address := action.ClientAddr(r, h.TrustProxy)
	byEmail, byAddress, err := h.Store.SigninFailures(ctx, s.User.Email, address, now.Add(-FailureWindow))
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	switch {
	case byEmail >= MaxAccountFailures || byAddress >= MaxAddressFailures:
		f.Fail("current_password", "Too many wrong passwords. Please wait 15 minutes and try again.")
	case bcrypt.CompareHashAndPassword([]byte(s.User.PasswordHash), []byte(f.Get("current_password"))) != nil:
		if err := h.Store.RecordSigninFailure(ctx, s.User.Email, address, now); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		f.Fail("current_password", "This is not your current password.")
	default:
		checkNewPassword(f)
	}
	if !f.OK() {
		h.showAccount(w, r, s, http.StatusUnprocessableEntity, f, "")
		return
	}
	hash, err := hashPassword(f.Get("password"))
	if err == nil {
		err = h.Store.SetPassword(ctx, s.User.ID, hash, s.Session.IDHash)
	}
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("admin password changed", "email", s.User.Email)
	http.Redirect(w, r, "/admin/account?saved=password", http.StatusSeeOther)
}

// resetPage shows the form a password-reset link leads to, or says the
// link no longer works.
func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	u, err := h.Store.PasswordResetUser(r.Context(), hashID(token), h.Now())
	if err != nil {
		h.resetGone(w, r, err)
		return
	}
	h.showReset(w, r, http.StatusOK, NewForm(url.Values{"email": {u.Email}}), token)
}

// resetGone answers a reset link unknown, used or expired with 410.
func (h *Handler) resetGone(w http.ResponseWriter, r *http.Request, err error) {
	if errs.CodeOf(err) != errs.NotFound {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, nil, http.StatusGone, "problem.html", view{Title: "This link no longer works",
		Data: "This link has expired or was already used. Ask an admin for a new one."})
}

// showReset draws the reset form with a fresh double-submit CSRF token, as
// the sign-in form does.
func (h *Handler) showReset(w http.ResponseWriter, r *http.Request, status int, f *Form, token string) {
	csrf := randomID()
	http.SetCookie(w, &http.Cookie{Name: resetCookie, Value: csrf, Path: "/admin/reset/", HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	f.Values.Set("password", "")
	f.Values.Set("password2", "")
	h.render(w, r, nil, status, "reset.html", view{Title: "Set a new password", Form: f,
		Data: struct{ CSRF, Token string }{csrf, token}})
}

// reset sets a new password through a reset link: the link is used up and
// every session of the user ends.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	f, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.Store.PasswordResetUser(r.Context(), hashID(token), h.Now())
	if err != nil {
		h.resetGone(w, r, err)
		return
	}
	f.Values.Set("email", u.Email)
	if c, err := r.Cookie(resetCookie); err != nil || !equal(c.Value, f.Get("csrf")) {
		f.Fail("", "This form has expired. Please type your new password again.")
		h.showReset(w, r, http.StatusForbidden, f, token)
		return
	}
	if checkNewPassword(f); !f.OK() {
		h.showReset(w, r, http.StatusUnprocessableEntity, f, token)
		return
	}
	hash, err := hashPassword(f.Get("password"))
	if err == nil {
		u, err = h.Store.UsePasswordReset(r.Context(), hashID(token), hash, h.Now())
	}
	if err != nil {
		h.resetGone(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: resetCookie, Path: "/admin/reset/", MaxAge: -1})
	h.Log.Info("admin password reset", "email", u.Email)
	http.Redirect(w, r, "/admin/signin?done=reset", http.StatusSeeOther)
}
