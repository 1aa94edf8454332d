package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dearfriend/dearfriend/pkg/action"
	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Session and sign-in limits.
const (
	// SessionIdle is how long a session lives without a request; each
	// request past half of it renews it (sliding expiry).
	SessionIdle = 12 * time.Hour
	// SessionMax is how long a session lives at most, however busy.
	SessionMax = 7 * 24 * time.Hour
	// FailureWindow is how far back failed sign-ins count.
	FailureWindow = 15 * time.Minute
	// MaxAccountFailures failed sign-ins of one account within the window
	// lock it until the oldest of them leaves the window.
	MaxAccountFailures = 5
	// MaxAddressFailures failed sign-ins from one address (any account)
	// within the window lock the address; higher, as offices share one.
	MaxAddressFailures = 20
	// MinPassword and MaxPassword bound a password: long enough to resist
	// guessing, short enough for bcrypt (which reads 72 bytes).
	MinPassword = 10
	MaxPassword = 72
)

const (
	sessionCookie = "dearfriend_session"
	signinCookie  = "dearfriend_signin" // the sign-in form's CSRF token, before there is a session
)

// errBadSignin is the one answer to an unknown email and a wrong password,
// so the form does not tell which accounts exist.
const errBadSignin = "The email or the password is not right."

// signedIn is a request's signed-in user and session.
type signedIn struct {
	User    *store.User
	Session *store.Session
}

// allowed reports whether role is at least need (viewer < organizer < admin).
func allowed(role, need string) bool {
	return slices.Index(store.Roles, role) >= slices.Index(store.Roles, need) && slices.Contains(store.Roles, role)
}

// page wraps a GET handler: without a session it sends the browser to the
// sign-in page and back; a role below need gets a 403.
func (h *Handler) page(need string, fn func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(w, r)
		if !ok {
			return
		}
		if !allowed(s.User.Role, need) {
			h.problem(w, r, s, http.StatusForbidden, "Your role ("+s.User.Role+") cannot open this page; it needs "+need+" or above.")
			return
		}
		if err := input.Values(r.URL.Query()); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		fn(w, r, s)
	})
}

// action wraps a POST handler: a session, the session's CSRF token in the
// form's "csrf" field and a role at least need, or nothing is changed.
func (h *Handler) action(need string, fn func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return h.guard(need, func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		return r.ParseForm()
	}, fn)
}

// upload is action for a multipart form carrying a file of up to limit
// bytes; what does not fit in memory is spooled to temporary files, removed
// when the request ends.
func (h *Handler) upload(need string, limit int64, fn func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return h.guard(need, func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return r.ParseMultipartForm(8 << 20)
	}, fn)
}

// guard is what action and upload share: the role is checked, parse reads
// the form into r.PostForm, then the CSRF token is checked.
func (h *Handler) guard(need string, parse func(http.ResponseWriter, *http.Request) error, fn func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(w, r)
		if !ok {
			return
		}
		// The role first: it needs no form, and a viewer's upload is not read.
		if !allowed(s.User.Role, need) {
			h.problem(w, r, s, http.StatusForbidden, "Your role ("+s.User.Role+") cannot do this; it needs "+need+" or above.")
			return
		}
		if err := parse(w, r); err != nil {
			h.problem(w, r, s, http.StatusRequestEntityTooLarge, "The form could not be read.")
			return
		}
		// Every screen's fields obey the one input rule; an upload's file is
		// checked by its importer.
		if err := input.Values(r.PostForm); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		if !equal(r.PostForm.Get("csrf"), s.Session.CSRFToken) {
			h.problem(w, r, s, http.StatusForbidden, "This form has expired or was not sent from this site. Go back, reload the page and try again.")
			return
		}
		fn(w, r, s)
	})
}

// session returns the request's session, renewing it when past half its idle
// time. Without one it answers (redirect to the sign-in page) and reports false.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*signedIn, bool) {
	now := h.Now()
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		ss, u, err := h.Store.SessionUser(r.Context(), hashID(c.Value), now)
		switch {
		case err == nil:
			until := now.Add(SessionIdle)
			if limit := ss.CreatedAt.Add(SessionMax); limit.Before(until) {
				until = limit
			}
			if until.Sub(ss.ExpiresAt) > SessionIdle/2 {
				if err := h.Store.ExtendSession(r.Context(), ss.IDHash, until); err != nil {
					h.fail(w, r, err)
					return nil, false
				}
				ss.ExpiresAt = until
			}
			return &signedIn{User: u, Session: ss}, true
		case errs.CodeOf(err) != errs.NotFound:
			h.fail(w, r, err)
			return nil, false
		}
	}
	next := "/admin/"
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	http.Redirect(w, r, "/admin/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
	return nil, false
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, _, err := h.Store.SessionUser(r.Context(), hashID(c.Value), h.Now()); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	f := NewForm(url.Values{"next": {safeNext(r.URL.Query().Get("next"))}})
	h.showSignin(w, r, http.StatusOK, f)
}

// showSignin draws the sign-in form with a fresh double-submit CSRF token:
// one copy in a cookie, one in the form, compared when it is posted.
func (h *Handler) showSignin(w http.ResponseWriter, r *http.Request, status int, f *Form) {
	token := randomID()
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: token, Path: "/admin/signin", HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	f.Values.Set("password", "") // never sent back
	notice := ""
	if r.URL.Query().Get("done") == "reset" {
		notice = "Your new password is set. Sign in with it."
	}
	h.render(w, r, nil, status, "signin.html", view{Title: "Sign in", Form: f, Data: token, Notice: notice})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := r.Cookie(signinCookie)
	if err != nil || !equal(c.Value, f.Get("csrf")) {
		f.Fail("", "This form has expired. Please sign in again.")
		h.showSignin(w, r, http.StatusForbidden, f)
		return
	}
	ctx, now := r.Context(), h.Now()
	email, address := strings.ToLower(strings.TrimSpace(f.Get("email"))), action.ClientAddr(r, h.TrustProxy)
	if email == "" {
		f.Fail("email", "Please enter your email address.")
	}
	if f.Get("password") == "" {
		f.Fail("password", "Please enter your password.")
	}
	if !f.OK() {
		h.showSignin(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	byEmail, byAddress, err := h.Store.SigninFailures(ctx, email, address, now.Add(-FailureWindow))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if byEmail >= MaxAccountFailures || byAddress >= MaxAddressFailures {
		f.Fail("", "Too many failed sign-ins. Please wait 15 minutes and try again.")
		h.showSignin(w, r, http.StatusTooManyRequests, f)
		return
	}
	u, err := h.checkPassword(ctx, email, f.Get("password"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if u == nil {
		if err := h.Store.RecordSigninFailure(ctx, email, address, now); err != nil {
			h.fail(w, r, err)
			return
		}
		h.Log.Warn("admin sign-in failed", "email", email, "address", address)
		f.Fail("password", errBadSignin)
		h.showSignin(w, r, http.StatusUnauthorized, f)
		return
	}
	if u.DisabledAt != nil {
		f.Fail("", "This account is disabled. Ask an admin to enable it again.")
		h.showSignin(w, r, http.StatusForbidden, f)
		return
	}
	if err := h.Store.ClearSigninFailures(ctx, email, now.Add(-FailureWindow)); err != nil {
		h.fail(w, r, err)
		return
	}
	id := randomID()
	ss := &store.Session{IDHash: hashID(id), UserID: u.ID, CSRFToken: randomID(), CreatedAt: now, ExpiresAt: now.Add(SessionIdle)}
	if err := h.Store.CreateSession(ctx, ss); err != nil {
		h.fail(w, r, err)
		return
	}
	h.setSessionCookie(w, id, 0)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/admin/signin", MaxAge: -1})
	h.Log.Info("admin signed in", "email", u.Email, "role", u.Role, "address", address)
	http.Redirect(w, r, safeNext(f.Get("next")), http.StatusSeeOther)
}

// setSessionCookie sets (maxAge 0: until the browser closes) or removes
// (maxAge -1) the session cookie. The server's expiry is what counts.
func (h *Handler) setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/admin", HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := h.Store.DeleteSession(r.Context(), s.Session.IDHash, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
}

// dummyHash is compared against when no user has the email, so an unknown
// email costs the same bcrypt time as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(randomID()), bcrypt.DefaultCost)
	return h
})

// checkPassword returns the user whose email and password these are, or nil.
func (h *Handler) checkPassword(ctx context.Context, email, password string) (*store.User, error) {
	u, err := h.Store.UserByEmail(ctx, email)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return nil, err
	}
	hash := dummyHash()
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		return nil, nil
	}
	return u, nil
}

// CreateUser checks and stores a new user: email an address (kept in lower
// case), role one of store.Roles, password MinPassword to MaxPassword bytes,
// stored as a bcrypt hash. Errors name the field at fault.
func CreateUser(ctx context.Context, st *store.Store, email, role, password string) (*store.User, error) {
	addr, err := audience.NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(store.Roles, role) {
		return nil, errs.Field("role", "must be viewer, organizer or admin")
	}
	if len(password) < MinPassword || len(password) > MaxPassword {
		return nil, passwordRule()
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Email: strings.ToLower(addr), Role: role, PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword gives the user with email a new password (MinPassword to
// MaxPassword bytes, stored as a bcrypt hash) and signs that user out
// everywhere. An unknown email is a not-found error naming it.
func SetPassword(ctx context.Context, st *store.Store, email, password string) error {
	if len(password) < MinPassword || len(password) > MaxPassword {
		return passwordRule()
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return st.SetUserPassword(ctx, strings.ToLower(strings.TrimSpace(email)), hash)
}

// EnsureFirstAdmin creates an admin with email and a generated password when
// there is no user yet, and returns that password; "" when users exist. Dev
// mode calls it so a fresh checkout can sign in.
func EnsureFirstAdmin(ctx context.Context, st *store.Store, email string) (string, error) {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	password := GeneratePassword()
	if _, err := CreateUser(ctx, st, email, store.RoleAdmin, password); err != nil {
		return "", err
	}
	return password, nil
}

// GeneratePassword returns a random password of 20 characters (120 bits).
func GeneratePassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomID returns 32 random bytes, URL-safe: a session id or a CSRF token.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashID is what the database keeps of a session id.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// equal compares two secrets in constant time; empty never matches.
func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// safeNext keeps a redirect after sign-in inside the admin UI.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/"
	}
	return next
}
