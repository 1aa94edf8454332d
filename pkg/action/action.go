// Package action owns petitions and their signatures as the public sees them:
// the action page at /a/{slug}, the sign form and the thank-you page. A
// recipient's signed link (track.KindAction) makes the page recognize them.
// It stores through pkg/store and must not send mail itself.
package action

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// Limits of the sign form. The body limit is far above the comment's so a
// comment too long is answered on the form, with what was typed kept.
const (
	MaxComment    = 10000 // characters
	maxName       = 100
	maxPostalCode = 20
	maxFormBytes  = 2 << 20
)

// Org is who runs the page, shown at its foot.
type Org struct{ Name, PostalAddress string }

// Deps are the handler's dependencies.
type Deps struct {
	Store     *store.Store
	Signer    *track.Signer
	PublicURL string // where share links point, without a trailing slash
	Org       Org
	Pages     fs.FS // templates/pages: base.html and action/*.html
	Log       *slog.Logger
}

// Handler serves the action pages.
type Handler struct {
	Deps
	pages *template.Template
}

// New parses the page templates.
func New(d Deps) (*Handler, error) {
	t, err := template.New("").Funcs(render.ShareFuncs()).ParseFS(d.Pages, "base.html", "action/*.html")
	if err != nil {
		return nil, err
	}
	d.PublicURL = strings.TrimSuffix(d.PublicURL, "/")
	return &Handler{Deps: d, pages: t}, nil
}

// Routes registers the public action routes on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /a/{slug}", h.page)
	mux.HandleFunc("POST /a/{slug}/sign", h.sign)
}

// fields are what a visitor typed, shown again when something was wrong.
type fields struct {
	Email, FirstName, LastName, PostalCode, Comment string
	OptIn                                           bool
}

type pageData struct {
	Title, OrgName, PostalAddress string
	Petition                      *store.Petition
	Count                         int64
	Percent                       int64
	Signer                        *store.Contact // the recognized recipient, if any
	Token, Ref, CSRF              string
	Form                          fields
	Errors                        map[string]string
	ShareURL, ShareText           string
	New                           bool
}

const csrfPurpose = "petition-sign"

// recipient returns the send and contact a valid action token names; any
// token that does not verify is no one, never someone else.
func (h *Handler) recipient(ctx context.Context, token string) (*store.Send, *store.Contact, error) {
	if token == "" {
		return nil, nil, nil
	}
	sendID, _, err := h.Signer.Verify(track.KindAction, token)
	if err != nil {
		return nil, nil, nil
	}
	snd, err := h.Store.GetSend(ctx, sendID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	c, err := h.Store.GetContact(ctx, snd.ContactID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	return snd, c, nil
}

func (h *Handler) petition(w http.ResponseWriter, r *http.Request) (*store.Petition, int64, bool) {
	p, err := h.Store.PetitionBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.fail(w, r, err)
		return nil, 0, false
	}
	n, err := h.Store.CountSignatures(r.Context(), p.ID)
	if err != nil {
		h.fail(w, r, err)
		return nil, 0, false
	}
	return p, n, true
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	p, n, ok := h.petition(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("r")
	_, c, err := h.recipient(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := h.data(p, n)
	d.Ref = r.URL.Query().Get("ref")
	if c != nil {
		d.Signer, d.Token = c, token
		d.Form = fields{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, PostalCode: c.PostalCode}
	}
	d.CSRF = h.Signer.CSRF(csrfPurpose, p.Slug+"\x00"+d.Token)
	h.render(w, http.StatusOK, "petition.html", d)
}

func (h *Handler) sign(w http.ResponseWriter, r *http.Request) {
	p, n, ok := h.petition(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusRequestEntityTooLarge)
		return
	}
	d := h.data(p, n)
	if !p.Open {
		h.render(w, http.StatusConflict, "petition.html", d)
		return
	}
	snd, c, err := h.recipient(r.Context(), r.PostForm.Get("r"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if c != nil {
		d.Signer, d.Token = c, r.PostForm.Get("r")
	}
	if !h.Signer.CheckCSRF(csrfPurpose, p.Slug+"\x00"+d.Token, r.PostForm.Get("csrf")) {
		http.Error(w, "this form has expired or was not sent from our page; open the petition again", http.StatusForbidden)
		return
	}
	d.CSRF = r.PostForm.Get("csrf")
	d.Ref = r.PostForm.Get("ref")
	f := fields{Email: r.PostForm.Get("email"), FirstName: strings.TrimSpace(r.PostForm.Get("first_name")),
		LastName: strings.TrimSpace(r.PostForm.Get("last_name")), PostalCode: strings.TrimSpace(r.PostForm.Get("postal_code")),
		Comment: r.PostForm.Get("comment"), OptIn: r.PostForm.Get("opt_in") != ""}
	d.Form = f
	var email string
	d.Errors, email = check(f, c != nil)
	if len(d.Errors) > 0 {
		h.render(w, http.StatusUnprocessableEntity, "petition.html", d)
		return
	}
	at := store.Attribution{Comment: strings.TrimSpace(f.Comment), ReferrerContactID: h.referrer(d.Ref)}
	if c != nil {
		at.CampaignID, at.SendID = snd.CampaignID, snd.ID
	} else {
		c, err = h.Store.UpsertSigner(r.Context(), store.Signer{Email: email, FirstName: f.FirstName, LastName: f.LastName,
			PostalCode: f.PostalCode, OptIn: f.OptIn, Source: "petition:" + p.Slug})
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if d.New, err = h.Store.Sign(r.Context(), p.ID, c.ID, at); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Count, err = h.Store.CountSignatures(r.Context(), p.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	d.Percent = percent(d.Count, p.Goal)
	d.Signer = c
	d.ShareURL = h.PublicURL + "/a/" + p.Slug + "?ref=" + h.referral(c.ID)
	d.ShareText = p.ShareText
	if d.ShareText == "" {
		d.ShareText = p.Title
	}
	h.render(w, http.StatusOK, "thanks.html", d)
}

// check validates the form; a recognized signer typed only the comment.
// It returns the messages by field and the normalized email.
func check(f fields, recognized bool) (map[string]string, string) {
	problems := map[string]string{}
	if utf8.RuneCountInString(f.Comment) > MaxComment {
		problems["comment"] = "Your comment is " + strconv.Itoa(utf8.RuneCountInString(f.Comment)) + " characters long; please keep it to " + strconv.Itoa(MaxComment) + "."
	}
	if recognized {
		return problems, ""
	}
	email, err := audience.NormalizeEmail("email", f.Email)
	if err != nil {
		if strings.TrimSpace(f.Email) == "" {
			problems["email"] = "Please enter your email address."
		} else {
			problems["email"] = "This does not look like an email address; please check it."
		}
	}
	if f.FirstName == "" || utf8.RuneCountInString(f.FirstName) > maxName {
		problems["first_name"] = "Please enter your first name (at most 100 characters)."
	}
	if f.LastName == "" || utf8.RuneCountInString(f.LastName) > maxName {
		problems["last_name"] = "Please enter your last name (at most 100 characters)."
	}
	if utf8.RuneCountInString(f.PostalCode) > maxPostalCode {
		problems["postal_code"] = "A postal code has at most 20 characters."
	}
	return problems, email
}

// referral is the code a signer's share link carries: their contact id and a
// MAC of it, so a referral cannot be credited to someone else.
func (h *Handler) referral(contactID int64) string {
	id := strconv.FormatInt(contactID, 10)
	return id + "." + h.Signer.CSRF("referral", id)
}

// referrer returns the contact a referral code names, or zero.
func (h *Handler) referrer(code string) int64 {
	id, mac, ok := strings.Cut(code, ".")
	if !ok || !h.Signer.CheckCSRF("referral", id, mac) {
		return 0
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

func (h *Handler) data(p *store.Petition, n int64) pageData {
	return pageData{Title: p.Title, OrgName: h.Org.Name, PostalAddress: h.Org.PostalAddress,
		Petition: p, Count: n, Percent: percent(n, p.Goal)}
}

func percent(n, goal int64) int64 {
	if goal <= 0 {
		return 0
	}
	return min(100, n*100/goal)
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, d pageData) {
	track.SetPageHeaders(w.Header())
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, name, d); err != nil {
		h.Log.Error("render action page", "page", name, "err", err)
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	track.Fail(w, r, h.Log, "action request failed", err)
}
