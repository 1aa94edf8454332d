// Package action owns petitions and their signatures as the public sees them:
// the action page at /a/{slug}, the sign form (people, or organizations on a
// sign-on letter) and the thank-you page, and the defences of the sign post
// (a per-visitor CSRF token, honeypot, per-address rate limit, the input
// rule of pkg/input). A recipient's signed link (track.KindAction) makes the
// page recognize them; anyone else cannot change a known supporter but
// through a link mailed to them (confirm.go). It stores through pkg/store
// and must not send mail itself: a Confirmer queues the thanks.
package action

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
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
	maxOrgName    = 200
	maxWebsite    = 500
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
	// Confirm queues the email thanking a new signer; nil sends none.
	Confirm Confirmer
	// Notifier is told of each new signature (outgoing webhooks); may be nil.
	Notifier Notifier
	// Clicks records a recipient's visit through their action link as a
	// click of it (track.Recorder); nil records none.
	Clicks ClickRecorder
	// SignRate is the sign posts allowed per client address and minute; 0 is no limit.
	SignRate int
	// Limits keeps SignRate's count where every serve process shares it
	// (ratelimit.Redis); nil counts in this process alone.
	Limits ratelimit.Backend
	// TrustProxy takes the client address from X-Forwarded-For (see clientAddr).
	TrustProxy bool
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time

	// Brand is the branding read at each page; nil: Org's name and
	// address in the default colors.
	Brand brand.Reader
}

// Confirmer queues the confirmation email of a signature; queueing one
// signature twice must send it once. pkg/delivery implements it.
type Confirmer interface {
	Confirm(ctx context.Context, signatureID int64) error
	// ConfirmChanges is Confirm for a signature whose visitor asked to
	// change a known contact: the email carries link, which applies them.
	ConfirmChanges(ctx context.Context, signatureID int64, link string) error
}

// ClickRecorder takes a click event to write later; track.Recorder implements it.
type ClickRecorder interface {
	Record(e store.Event) bool
}

// Notifier queues outgoing webhooks; pkg/webhook implements it.
type Notifier interface {
	Notify(ctx context.Context, event string, data map[string]any) error
}

// eventSignature is the webhook event of a new signature (webhook.EventSignature).
const eventSignature = "signature"

// recentSigners is how many consenting signers the page lists.
const recentSigners = 10

// Handler serves the action pages.
type Handler struct {
	Deps
	pages   *template.Template
	limiter *limiter
}

// New parses the page templates.
func New(d Deps) (*Handler, error) {
	t, err := template.New("").Funcs(render.ShareFuncs()).Funcs(template.FuncMap{"field": field, "number": render.Number}).ParseFS(d.Pages, "base.html", "action/*.html")
	if err != nil {
		return nil, err
	}
	d.PublicURL = strings.TrimSuffix(d.PublicURL, "/")
	if d.Brand == nil {
		d.Brand = brand.Fixed(brand.Brand{OrgName: d.Org.Name, PostalAddress: d.Org.PostalAddress})
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{Deps: d, pages: t, limiter: newLimiter(d.SignRate, maxTrackedAddresses)}, nil
}

// Routes registers the public action routes on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /a/{slug}", h.page)
	mux.HandleFunc("POST /a/{slug}/sign", h.sign)
	mux.HandleFunc("GET /a/{slug}/thanks", h.thanks)
	mux.HandleFunc("GET /a/{slug}/confirm/{token}", h.confirmPage)
	mux.HandleFunc("POST /a/{slug}/confirm/{token}", h.confirm)
}

func (h *Handler) now() time.Time { return h.Now() }

// fields are what a visitor typed, shown again when something was wrong.
type fields struct {
	Email, FirstName, LastName, PostalCode, City, Comment string
	OptIn, ShowName                                       bool
	// A sign-on letter's signer is an organization.
	Organization, ContactName, Website string
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
	Recent                        []store.PublicSigner
	Orgs                          []store.OrganizationSignature // a letter's approved signers
	Letter                        bool
	Brand                         brand.Brand
}

// fieldView is one labelled input of a form, with its error if any.
type fieldView struct {
	Name, Label, Type, Value, Autocomplete, Error string
	Optional                                      bool
}

// field is the template function that lays out one input of d's form.
func field(d pageData, name, label, typ, value, autocomplete string, optional bool) fieldView {
	return fieldView{Name: name, Label: label, Type: typ, Value: value, Autocomplete: autocomplete, Error: d.Errors[name], Optional: optional}
}

const csrfPurpose = "petition-sign"

// recipient is who a valid action token names: their send, their contact,
// and the campaign's link the token was minted for (0 for a link older than
// action clicks). A token that does not verify is no one, never someone else.
type recipient struct {
	send    *store.Send
	contact *store.Contact
	linkID  int64
}

// recipient returns the recipient token names; contact is nil for no one.
func (h *Handler) recipient(ctx context.Context, token string) (recipient, error) {
	if token == "" {
		return recipient{}, nil
	}
	sendID, linkID, err := h.Signer.Verify(track.KindAction, token)
	if err != nil {
		return recipient{}, nil
	}
	snd, err := h.Store.GetSend(ctx, sendID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return recipient{}, nil
		}
		return recipient{}, err
	}
	c, err := h.Store.GetContact(ctx, snd.ContactID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return recipient{}, nil
		}
		return recipient{}, err
	}
	return recipient{send: snd, contact: c, linkID: linkID}, nil
}

// maxUserAgent is as much of a user agent as a click keeps, as track does.
const maxUserAgent = 512

// countClick records the visit of rc through their action link as a click
// of that link, flagged as a scanner's as any tracked click would be.
func (h *Handler) countClick(r *http.Request, rc recipient) {
	if h.Clicks == nil || rc.linkID == 0 {
		return
	}
	h.Clicks.Record(store.Event{Kind: store.EventClick, CampaignID: rc.send.CampaignID, SendID: rc.send.ID, LinkID: &rc.linkID,
		UserAgent: truncateUA(r.UserAgent()), Machine: track.MachineClick(r), CreatedAt: h.now().UTC()})
}

func truncateUA(ua string) string {
	if len(ua) > maxUserAgent {
		return ua[:maxUserAgent]
	}
	return ua
}

// petition loads the petition the path names.
func (h *Handler) petition(w http.ResponseWriter, r *http.Request) (pageData, bool) {
	slug := r.PathValue("slug")
	if input.Check("slug", slug, false) != nil {
		http.NotFound(w, r)
		return pageData{}, false
	}
	p, err := h.Store.PetitionBySlug(r.Context(), slug)
	if err != nil {
		h.fail(w, r, err)
		return pageData{}, false
	}
	b, err := h.Brand.Current(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return pageData{}, false
	}
	return pageData{Title: p.Title, OrgName: b.OrgName, PostalAddress: b.PostalAddress, Brand: b, Petition: p,
		Letter: p.Kind == store.PetitionKindLetter}, true
}

// tally loads what a page shows beside the form: the count, the consenting
// recent signers, a letter's approved organizations.
func (h *Handler) tally(ctx context.Context, d *pageData) error {
	var err error
	if d.Letter {
		if d.Orgs, err = h.Store.ApprovedOrganizations(ctx, d.Petition); err != nil {
			return err
		}
		d.Count = int64(len(d.Orgs))
	} else {
		if d.Count, err = h.Store.CountSignatures(ctx, d.Petition.ID); err != nil {
			return err
		}
		if d.Recent, err = h.Store.RecentSigners(ctx, d.Petition.ID, recentSigners); err != nil {
			return err
		}
	}
	d.Percent = percent(d.Count, d.Petition.Goal)
	return nil
}

// show tallies d and renders page name with status.
func (h *Handler) show(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	if err := h.tally(r.Context(), &d); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, status, name, d)
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	d, ok := h.petition(w, r)
	if !ok {
		return
	}
	if err := input.Values(r.URL.Query()); err != nil {
		http.Error(w, "the address of this page is not valid: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	token := r.URL.Query().Get("r")
	rc, err := h.recipient(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rc.contact != nil {
		h.countClick(r, rc)
	}
	c := rc.contact
	d.Ref = r.URL.Query().Get("ref")
	if c != nil && !d.Letter {
		d.Signer, d.Token = c, token
		d.Form = fields{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, PostalCode: c.PostalCode}
	}
	d.CSRF = h.csrf(d.Petition.Slug, d.Token, h.visitor(w, r))
	h.show(w, r, http.StatusOK, "petition.html", d)
}

// shownFields are the sign forms' fields a visitor sees, each with its
// error next to it.
var shownFields = map[string]bool{"email": true, "first_name": true, "last_name": true, "postal_code": true, "city": true,
	"comment": true, "organization": true, "contact_name": true, "website": true}

// honeypot is the form field people never see (hidden by CSS and from
// screen readers) and bots fill in.
const honeypot = "homepage"

func (h *Handler) sign(w http.ResponseWriter, r *http.Request) {
	if !h.allowSign(r) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "Too many signatures from your network in a short time; please wait a minute and try again.", http.StatusTooManyRequests)
		return
	}
	d, ok := h.petition(w, r)
	if !ok {
		return
	}
	p := d.Petition
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusRequestEntityTooLarge)
		return
	}
	if !p.Open {
		h.show(w, r, http.StatusConflict, "petition.html", d)
		return
	}
	rc, err := h.recipient(r.Context(), r.PostForm.Get("r"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	snd, c := rc.send, rc.contact
	if c != nil && !d.Letter {
		d.Signer, d.Token = c, r.PostForm.Get("r")
	}
	d.Ref = r.PostForm.Get("ref")
	form := r.PostForm.Get
	d.Form = fields{Email: form("email"), FirstName: strings.TrimSpace(form("first_name")),
		LastName: strings.TrimSpace(form("last_name")), PostalCode: strings.TrimSpace(form("postal_code")),
		City: strings.TrimSpace(form("city")), Comment: form("comment"), OptIn: form("opt_in") != "", ShowName: form("show_name") != "",
		Organization: strings.TrimSpace(form("organization")), ContactName: strings.TrimSpace(form("contact_name")),
		Website: strings.TrimSpace(form("website"))}
	// A form from another site, another visitor or another day is drawn
	// again with a fresh token, what was typed kept, and nothing stored.
	if !h.checkCSRF(r, p.Slug, d.Token, r.PostForm.Get("csrf")) {
		d.CSRF = h.csrf(p.Slug, d.Token, h.visitor(w, r))
		d.Errors = map[string]string{"csrf": "This form has expired or was not sent from our page. Please check what you typed and send it again."}
		h.show(w, r, http.StatusForbidden, "petition.html", d)
		return
	}
	d.CSRF = r.PostForm.Get("csrf")
	if err := input.Values(r.PostForm); err != nil {
		e, _ := errs.As(err)
		name := e.Field
		if !shownFields[name] {
			name = "form" // a hidden field: said above the form
		}
		d.Errors = map[string]string{name: "This field cannot hold line breaks, control characters or invalid text; please type it again."}
		h.show(w, r, http.StatusUnprocessableEntity, "petition.html", d)
		return
	}
	if d.Letter {
		h.signLetter(w, r, d)
		return
	}
	var email string
	d.Errors, email = check(d.Form, d.Signer != nil)
	if len(d.Errors) > 0 {
		h.show(w, r, http.StatusUnprocessableEntity, "petition.html", d)
		return
	}
	if form(honeypot) != "" {
		// A bot: it is answered as a person would be, and nothing is stored.
		h.thank(w, r, d, &store.Contact{FirstName: d.Form.FirstName}, true)
		return
	}
	f := d.Form
	at := store.Attribution{Comment: strings.TrimSpace(f.Comment), City: f.City, ShowName: f.ShowName, ReferrerContactID: h.referrer(d.Ref)}
	known := false // an unrecognized visitor typed the address of a contact we have
	if c != nil {
		at.CampaignID, at.SendID = snd.CampaignID, snd.ID
	} else {
		var created bool
		c, created, err = h.Store.AddSigner(r.Context(), store.Signer{Email: email, FirstName: f.FirstName, LastName: f.LastName,
			PostalCode: f.PostalCode, OptIn: f.OptIn, Source: "petition:" + p.Slug})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// The signature counts, but the name goes public only once the
		// owner of the address confirms it.
		known, at.ShowName = !created, at.ShowName && created
	}
	isNew, err := h.Store.Sign(r.Context(), p.ID, c.ID, at)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if isNew {
		h.announce(r.Context(), p, c, at, known, f)
	}
	if snd != nil && rc.linkID != 0 {
		// The signature proves a person clicked: count them as a clicker
		// even if the page's visit looked like a scanner's.
		if err := h.Store.SignerClick(r.Context(), snd, rc.linkID, truncateUA(r.UserAgent()), h.now()); err != nil {
			h.Log.Error("record a signer's click", "send_id", snd.ID, "link_id", rc.linkID, "err", err)
		}
	}
	if known {
		// Thanked by the name typed: the page must not tell a stranger
		// the name we hold for an address.
		c = &store.Contact{ID: c.ID, FirstName: f.FirstName}
	}
	h.thank(w, r, d, c, isNew)
}

// announce queues the confirmation email and the webhooks of c's new
// signature; for a known contact signed by an unrecognized visitor (known),
// the email carries the link that applies what f asked to change. The
// signature stands whatever happens here: a failure is logged, not shown.
func (h *Handler) announce(ctx context.Context, p *store.Petition, c *store.Contact, at store.Attribution, known bool, f fields) {
	if h.Confirm == nil && h.Notifier == nil {
		return
	}
	id, err := h.Store.SignatureID(ctx, p.ID, c.ID)
	if err != nil {
		h.Log.Error("read new signature", "petition_id", p.ID, "contact_id", c.ID, "err", err)
		return
	}
	// When changes are held, the email with their link is the confirmation.
	if held := known && h.holdChanges(ctx, p, c, id, f); !held && h.Confirm != nil {
		if err := h.Confirm.Confirm(ctx, id); err != nil {
			h.Log.Error("queue signature confirmation", "signature_id", id, "err", err)
		}
	}
	if h.Notifier != nil {
		data := map[string]any{"signature_id": id, "petition_id": p.ID, "slug": p.Slug, "contact_id": c.ID, "email": c.Email,
			"first_name": c.FirstName, "last_name": c.LastName, "comment": at.Comment, "campaign_id": at.CampaignID,
			"send_id": at.SendID, "referrer_contact_id": at.ReferrerContactID}
		if err := h.Notifier.Notify(ctx, eventSignature, data); err != nil {
			h.Log.Error("queue signature webhooks", "signature_id", id, "err", err)
		}
	}
}

// signLetter takes an organization's signature of a letter, pending the
// organizer's approval.
func (h *Handler) signLetter(w http.ResponseWriter, r *http.Request, d pageData) {
	var email string
	d.Errors, email = checkOrganization(d.Form)
	if len(d.Errors) > 0 {
		h.show(w, r, http.StatusUnprocessableEntity, "petition.html", d)
		return
	}
	if r.PostForm.Get(honeypot) == "" {
		o := &store.OrganizationSignature{PetitionID: d.Petition.ID, Organization: d.Form.Organization,
			ContactName: d.Form.ContactName, Email: email, Website: d.Form.Website}
		var err error
		if d.New, err = h.Store.SignLetter(r.Context(), o); err != nil {
			h.fail(w, r, err)
			return
		}
	} else {
		d.New = true // a bot is answered as a person would be
	}
	h.thank(w, r, d, nil, d.New)
}

// checkOrganization validates a letter's form; it returns the messages by
// field and the normalized email.
func checkOrganization(f fields) (map[string]string, string) {
	problems := map[string]string{}
	if f.Organization == "" || utf8.RuneCountInString(f.Organization) > maxOrgName {
		problems["organization"] = "Please enter your organization's name (at most 200 characters)."
	}
	if f.ContactName == "" || utf8.RuneCountInString(f.ContactName) > maxOrgName {
		problems["contact_name"] = "Please enter the name of a contact person (at most 200 characters)."
	}
	email := checkEmail(f.Email, problems)
	if f.Website != "" {
		u, err := url.Parse(f.Website)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(f.Website) > maxWebsite {
			problems["website"] = "Please enter the full address of your website, starting with https://, or leave it empty."
		}
	}
	return problems, email
}

func checkEmail(raw string, problems map[string]string) string {
	email, err := audience.NormalizeEmail("email", raw)
	if err != nil {
		if strings.TrimSpace(raw) == "" {
			problems["email"] = "Please enter your email address."
		} else {
			problems["email"] = "This does not look like an email address; please check it."
		}
	}
	return email
}

// check validates the form; a recognized signer typed only the comment.
// It returns the messages by field and the normalized email.
func check(f fields, recognized bool) (map[string]string, string) {
	problems := map[string]string{}
	if utf8.RuneCountInString(f.Comment) > MaxComment {
		problems["comment"] = "Your comment is " + strconv.Itoa(utf8.RuneCountInString(f.Comment)) + " characters long; please keep it to " + strconv.Itoa(MaxComment) + "."
	}
	if utf8.RuneCountInString(f.City) > maxName {
		problems["city"] = "A city has at most 100 characters."
	}
	if recognized {
		return problems, ""
	}
	email := checkEmail(f.Email, problems)
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
