package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// view is what the layout and a screen's template get. A screen puts its
// own values in Data; html/template escapes every field.
type view struct {
	Title   string
	Section string // the navigation entry shown as current
	Notice  string // a confirmation shown above the content
	Form    *Form  // the screen's form, with what was typed and its errors
	Data    any
	// Refresh reloads the page after so many seconds (0: never): how a
	// running import or send updates itself without JavaScript.
	Refresh int

	// Filled by render.
	User *store.User
	CSRF string
	Nav  []navItem
	// Org is the organization the header names, when the branding is known.
	Org *brand.Brand
}

// funcs are the template helpers every screen may use.
var funcs = template.FuncMap{
	"field": newField,
	"percent": func(n, of int64) string {
		if of <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", float64(n)*100/float64(of))
	},
	"number": render.Number,
	"date":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"can":    func(u *store.User, role string) bool { return u != nil && allowed(u.Role, role) },
	// choices groups checkboxes: {{ template "choices" (choices "lists" "Legend" .Items .Error) }}.
	"choices": newChoiceGroup,
}

// setHeaders sets what every admin page is served with: never cached, no
// referrer, scripts and styles only from here, no framing.
func setHeaders(hd http.Header) {
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
}

// render writes the screen name inside the layout; s is nil on the sign-in page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *signedIn, status int, name string, v view) {
	t, ok := h.pages[name]
	if !ok {
		h.fail(w, r, fmt.Errorf("no admin template %s", name))
		return
	}
	if s != nil {
		v.User, v.CSRF, v.Nav = s.User, s.Session.CSRFToken, h.navFor(s.User)
	}
	if h.Brand != nil {
		// The header names the organization; a page is still shown without it.
		if b, err := h.Brand.Current(r.Context()); err == nil {
			v.Org = &b
		} else {
			h.Log.Warn("read branding for the admin header", "err", err)
		}
	}
	setHeaders(w.Header())
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", v); err != nil {
		h.Log.Error("render admin page", "page", name, "err", err)
	}
}

// problem answers with a short page saying what went wrong, in the layout
// when someone is signed in.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, s *signedIn, status int, message string) {
	h.render(w, r, s, status, "problem.html", view{Title: http.StatusText(status), Data: message})
}

// fail answers a domain error with its status and message, and anything else
// with a 500 that shows only a request id; the detail goes to the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.failFor(w, r, nil, err)
}

func (h *Handler) failFor(w http.ResponseWriter, r *http.Request, s *signedIn, err error) {
	if e, ok := errs.As(err); ok {
		if status, known := statusOf[e.Code]; known {
			h.problem(w, r, s, status, sentence(e.Error()))
			return
		}
	}
	b := make([]byte, 8)
	rand.Read(b)
	id := hex.EncodeToString(b)
	h.Log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	h.problem(w, r, s, http.StatusInternalServerError, "Something went wrong on our side (request "+id+"). Please try again.")
}

// statusOf maps the domain errors a page can show as they are. Invalid input
// and conflicts are shown at their field by the screen's form (Form.Take).
var statusOf = map[errs.Code]int{
	errs.Invalid:   http.StatusUnprocessableEntity,
	errs.NotFound:  http.StatusNotFound,
	errs.Conflict:  http.StatusConflict,
	errs.Forbidden: http.StatusForbidden,
	errs.TooLarge:  http.StatusRequestEntityTooLarge,
	errs.Malformed: http.StatusBadRequest,
}
