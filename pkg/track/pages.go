package track

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// CSRF purposes: a token for one form is refused by the other.
const (
	formUnsubscribe = "unsubscribe"
	formPreferences = "preferences"
)

// unsubscribeReasons are offered as a radio list; "other" takes free text.
var unsubscribeReasons = []struct{ Value, Label string }{
	{"too_many", "I get too much email"},
	{"not_relevant", "The email is not relevant to me"},
	{"never_signed_up", "I never signed up"},
	{"other", "Another reason"},
}

const maxReasonText = 500

// pageData is what every page shows; html/template escapes each field.
type pageData struct {
	Title, Email, Status, OrgName, PostalAddress string
	Action, CSRF, UnsubscribeURL, PreferencesURL string
	Notice                                       string
	Reasons                                      any
	Lists                                        []store.List
	Topics                                       []topicChoice
	Prefs                                        *store.Preferences
	PausedUntil                                  string
	Brand                                        brand.Brand
}

type topicChoice struct {
	store.Topic
	Wanted bool
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	b, err := h.Brand.Current(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Brand, d.OrgName, d.PostalAddress = b, b.OrgName, b.PostalAddress
	SetPageHeaders(w.Header())
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, name, d); err != nil {
		h.Log.Error("render page", "page", name, "err", err)
	}
}

// freshScript is the hash of the one script of templates/pages/base.html:
// a page the browser restores from its back-forward cache is loaded again,
// so going back after signing shows the count as it is, not as it was.
// The policy allows that script alone.
const freshScript = "'sha256-NW31r4+rFXFYpHg0g2WSmF0kpq+e7TKWdw5+EICtLVQ='"

// SetPageHeaders sets what every public HTML page is served with: never
// cached, no referrer, no script but freshScript, no framing, forms posting
// only to us.
func SetPageHeaders(hd http.Header) {
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src "+freshScript+"; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
}

// audienceLists returns the lists of the send's campaign that its contact is
// a member of: the lists "unsubscribe from this list only" can offer.
func (h *Handler) audienceLists(r *http.Request, snd *store.Send) ([]store.List, error) {
	c, err := h.Store.GetCampaign(r.Context(), snd.CampaignID)
	if err != nil {
		return nil, err
	}
	return h.Store.MemberLists(r.Context(), snd.ContactID, c.Audience.Lists)
}

// unsubscribePage only asks: scanners fetch every link, so a GET changes nothing.
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	snd := h.send(w, r, KindUnsubscribe, token)
	if snd == nil {
		return
	}
	lists, err := h.audienceLists(r, snd)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, "unsubscribe.html", pageData{Title: "Unsubscribe", Email: snd.Email, Action: "/u/" + token,
		CSRF: h.Signer.CSRF(formUnsubscribe, token), Reasons: unsubscribeReasons, Lists: lists,
		PreferencesURL: h.Links.Preferences(snd.ID)})
}

// unsubscribe handles the RFC 8058 one-click POST (body
// "List-Unsubscribe=One-Click": everything, a bare 200) and the page's form
// (CSRF token required; scope "all" or one list of the campaign; a reason).
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	form, formErr := readUnsubscribeForm(r, 4096)
	if formErr == nil && isOneClick(form) {
		// The same call as mail to the List-Unsubscribe mailto (pkg/inbound).
		if err := h.unsub.OneClick(r.Context(), token, r.UserAgent()); errors.Is(err, ErrBadToken) {
			http.NotFound(w, r)
		} else if err != nil {
			h.fail(w, r, err)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		return
	}
	snd := h.send(w, r, KindUnsubscribe, token)
	if snd == nil {
		return
	}
	if formErr != nil {
		http.Error(w, "could not read the form", http.StatusBadRequest)
		return
	}
	if !h.Signer.CheckCSRF(formUnsubscribe, token, form.Get("csrf")) {
		http.Error(w, "this form has expired or was not sent from our page; open the link in your email again", http.StatusForbidden)
		return
	}
	u := store.Unsubscription{SendID: snd.ID, UserAgent: truncate(r.UserAgent(), 512), Reason: reasonOf(form)}
	var left string // the list left, when only one
	if scope := form.Get("scope"); scope != "" && scope != "all" {
		lists, err := h.audienceLists(r, snd)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		id, _ := atoi64(strings.TrimPrefix(scope, "list:"))
		i := slices.IndexFunc(lists, func(l store.List) bool { return l.ID == id })
		if i < 0 {
			http.Error(w, "scope names no list of this email", http.StatusBadRequest)
			return
		}
		u.ListID, left = &lists[i].ID, lists[i].Name
	}
	if err := h.unsub.Unsubscribe(r.Context(), snd, u); err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, "unsubscribed.html", pageData{Title: "Unsubscribed", Email: snd.Email, Notice: left,
		PreferencesURL: h.Links.Preferences(snd.ID)})
}

// reasonOf joins the chosen reason and the free text, bounded.
func reasonOf(form map[string][]string) string {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	reason := get("reason")
	if !slices.ContainsFunc(unsubscribeReasons, func(x struct{ Value, Label string }) bool { return x.Value == reason }) {
		reason = ""
	}
	text := truncate(get("reason_text"), maxReasonText)
	if input.Check("reason_text", text, true) != nil {
		// Dropped, not refused: an unsubscribe must never fail for its reason.
		text = ""
	}
	if text != "" {
		if reason != "" {
			reason += ": "
		}
		reason += text
	}
	return reason
}

// pauses are the pause lengths offered, in days.
var pauses = []int{30, 60, 90}

func (h *Handler) preferences(w http.ResponseWriter, r *http.Request) {
	h.preferencesPage(w, r, http.StatusOK, "")
}

func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request, status int, notice string) {
	token := r.PathValue("token")
	snd := h.send(w, r, KindPreferences, token)
	if snd == nil {
		return
	}
	p, err := h.Store.GetPreferences(r.Context(), snd.ContactID, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	topics, err := h.Store.ListTopics(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := pageData{Title: "Email settings", Email: snd.Email, Status: p.Contact.Status, Prefs: p, Notice: notice,
		Action: "/p/" + token, CSRF: h.Signer.CSRF(formPreferences, token)}
	for _, t := range topics {
		d.Topics = append(d.Topics, topicChoice{Topic: t, Wanted: !p.OptedOut[t.ID]})
	}
	if p.PausedUntil != nil {
		d.PausedUntil = p.PausedUntil.Format("January 2, 2006")
	}
	h.page(w, r, status, "preferences.html", d)
}

// savePreferences applies one form of the preference center to the contact of
// the verified token, and only to it: no form field names a contact.
func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	snd := h.send(w, r, KindPreferences, token)
	if snd == nil {
		return
	}
	form, _, err := readForm(r, 16<<10)
	if err != nil {
		http.Error(w, "could not read the form", http.StatusBadRequest)
		return
	}
	if !h.Signer.CheckCSRF(formPreferences, token, form.Get("csrf")) {
		http.Error(w, "this form has expired or was not sent from our page; open the link in your email again", http.StatusForbidden)
		return
	}
	if err := input.Values(form); err != nil {
		e, _ := errs.As(err)
		h.preferencesPage(w, r, http.StatusUnprocessableEntity, "Nothing was saved: "+e.Error())
		return
	}
	ctx := r.Context()
	var notice string
	switch form.Get("action") {
	case "save":
		ch := store.PreferenceChange{}
		freq := form.Get("frequency")
		ch.Frequency = &freq
		ch.Topics = []int64{}
		for _, v := range form["topic"] {
			if id, ok := atoi64(v); ok {
				ch.Topics = append(ch.Topics, id)
			}
		}
		first, postal := form.Get("first_name"), form.Get("postal_code")
		ch.FirstName, ch.PostalCode = &first, &postal
		err, notice = h.Store.UpdatePreferences(ctx, snd.ContactID, ch), "Your settings are saved."
	case "pause":
		days, _ := atoi64(form.Get("days"))
		if !slices.Contains(pauses, int(days)) {
			http.Error(w, "a pause lasts 30, 60 or 90 days", http.StatusBadRequest)
			return
		}
		until := h.now().UTC().Add(time.Duration(days) * 24 * time.Hour)
		p := &until
		err, notice = h.Store.UpdatePreferences(ctx, snd.ContactID, store.PreferenceChange{PausedUntil: &p}), "Email is paused."
	case "resume":
		var none *time.Time
		err, notice = h.Store.UpdatePreferences(ctx, snd.ContactID, store.PreferenceChange{PausedUntil: &none}), "Email is on again."
	case "unsubscribe":
		err = h.unsub.Unsubscribe(ctx, snd, store.Unsubscription{SendID: snd.ID, Reason: "preference center", UserAgent: truncate(r.UserAgent(), 512)})
		notice = "You are unsubscribed from all email."
	case "resubscribe":
		err, notice = h.Store.Resubscribe(ctx, snd.ContactID), "Welcome back: you are subscribed again."
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			h.preferencesPage(w, r, http.StatusUnprocessableEntity, e.Error())
			return
		}
		h.fail(w, r, err)
		return
	}
	h.preferencesPage(w, r, http.StatusOK, notice)
}
