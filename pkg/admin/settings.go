package admin

import (
	"encoding/base64"
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/webhook"
)

// Settings is what the settings screen shows of the configuration. It comes
// from the environment (DEARFRIEND_*), so the screen shows it read-only and
// says which variable to change.
type Settings struct {
	// Relays are DEARFRIEND_SMTP_URL's relays, passwords hidden; none in
	// dev mode without it, when mail goes to the built-in capture server.
	Relays []Relay
	// RelaysError says why DEARFRIEND_SMTP_URL could not be read, if it could not.
	RelaysError                  string
	OrgName, FromName, FromEmail string
	PostalAddress                string
	// APITokenFromEnv is true when DEARFRIEND_API_TOKEN sets the token,
	// false when it was generated once and kept in the database.
	APITokenFromEnv bool
}

// Relay is one SMTP relay as the settings screen shows it.
type Relay struct {
	URL                string // the password replaced by xxxxx
	Weight, MaxConns   int
	PerSecond, PerHour float64 // 0: no cap
}

// DescribeRelays reads DEARFRIEND_SMTP_URL as the workers do
// (mailer.ParseRelays) for the settings screen, passwords hidden.
func DescribeRelays(smtpURL string, defaultConns int) ([]Relay, error) {
	if smtpURL == "" {
		return nil, nil
	}
	rcs, err := mailer.ParseRelays(smtpURL, defaultConns)
	if err != nil {
		return nil, err
	}
	out := make([]Relay, len(rcs))
	for i, rc := range rcs {
		out[i] = Relay{URL: config.Redact(rc.URL), Weight: rc.Weight, MaxConns: rc.MaxConns, PerSecond: rc.PerSecond, PerHour: rc.PerHour}
	}
	return out, nil
}

func (h *Handler) settingsRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/settings", h.page(store.RoleAdmin, h.settings))
	mux.Handle("POST /admin/settings/topics", h.action(store.RoleAdmin, h.createTopic))
	mux.Handle("POST /admin/settings/webhooks", h.action(store.RoleAdmin, h.createWebhook))
	mux.Handle("POST /admin/settings/token", h.action(store.RoleAdmin, h.rotateToken))
}

// settingsNotices are the confirmations the settings screen shows after a change (?saved=).
var settingsNotices = map[string]string{"topic": "The topic is created.",
	"webhook": "The webhook is registered. Copy its secret now: it is not shown again.",
	"token":   "The API token is replaced: the old one no longer works. Copy the new one now: it is not shown again."}

// onceCookie carries a secret made by a post (a webhook's secret, a new
// API token) to the page the post redirects to, which shows it and
// deletes the cookie: a reload does not post again, nor show it again.
const onceCookie = "dearfriend_once"

// showOnce redirects to the settings screen, which shows secret this once
// under the notice saved names.
func (h *Handler) showOnce(w http.ResponseWriter, r *http.Request, saved, secret string) {
	// Encoded: a secret typed by an admin may hold what a cookie cannot.
	http.SetCookie(w, &http.Cookie{Name: onceCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(secret)), Path: "/admin/settings", HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode, MaxAge: 300})
	http.Redirect(w, r, "/admin/settings?saved="+saved, http.StatusSeeOther)
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request, s *signedIn) {
	notice, secret := settingsNotices[r.URL.Query().Get("saved")], ""
	if c, err := r.Cookie(onceCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: onceCookie, Path: "/admin/settings", MaxAge: -1})
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && notice != "" && r.URL.Query().Get("saved") != "topic" {
			secret = string(b)
		}
	}
	h.showSettings(w, r, s, http.StatusOK, NewForm(nil), NewForm(nil), notice, secret)
}

// showSettings draws the settings screen with its two forms; secret is a
// new webhook's secret or API token, shown this once.
func (h *Handler) showSettings(w http.ResponseWriter, r *http.Request, s *signedIn, status int, topic, hook *Form, notice, secret string) {
	topics, err := h.Store.ListTopics(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	hooks, err := h.Store.ListWebhooks(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	events := make([]struct {
		Name    string
		Checked bool
	}, len(webhook.Events))
	for i, e := range webhook.Events {
		events[i].Name = e
		for _, v := range hook.Values["events"] {
			events[i].Checked = events[i].Checked || v == e
		}
	}
	h.render(w, r, s, status, "settings.html", view{Title: "Settings", Section: "Settings", Notice: notice,
		Data: struct {
			Settings    Settings
			Topics      []store.Topic
			Webhooks    []store.Webhook
			TopicForm   *Form
			WebhookForm *Form
			Events      any
			Secret      string
		}{h.Deps.Settings, topics, hooks, topic, hook, events, secret}})
}

// createTopic adds a topic with the API's rules (store.CheckNamed).
func (h *Handler) createTopic(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	name, description, err := store.CheckNamed(f.Get("name"), f.Get("description"), store.MaxTopicName)
	if err == nil {
		err = h.Store.CreateTopic(r.Context(), &store.Topic{Name: name, Description: description})
	}
	if err != nil {
		if f.Take(err) {
			h.showSettings(w, r, s, http.StatusUnprocessableEntity, f, NewForm(nil), "", "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/admin/settings?saved=topic#topics", http.StatusSeeOther)
}

// createWebhook registers a webhook with the API's rules (webhook.Check)
// and shows its secret this once, as the API does.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	wh, err := webhook.Check(f.Get("url"), f.Values["events"], f.Get("secret"))
	if err == nil {
		err = h.Store.CreateWebhook(r.Context(), wh)
	}
	if err != nil {
		if f.Take(err) {
			h.showSettings(w, r, s, http.StatusUnprocessableEntity, NewForm(nil), f, "", "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.showOnce(w, r, "webhook", wh.Secret)
}

// rotateToken replaces the API token kept in the database with a new one,
// shown this once; clients with the old one are refused from now on. A
// token set by DEARFRIEND_API_TOKEN is the environment's to change.
func (h *Handler) rotateToken(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.Deps.Settings.APITokenFromEnv {
		h.problem(w, r, s, http.StatusConflict, "The API token is set by DEARFRIEND_API_TOKEN: change it there and restart.")
		return
	}
	token := randomID()
	if err := h.Store.ReplaceSetting(r.Context(), store.SettingAPIToken, token); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("API token rotated", "by", s.User.Email)
	h.showOnce(w, r, "token", token)
}
