// Package admin is the organizers' web UI under /admin: server-rendered
// pages (html/template from templates/admin), sign-in with sessions, roles,
// CSRF tokens and sign-in rate limiting. Every screen is a small file here
// with its templates in templates/admin; they share one layout, one
// stylesheet and one form helper (form.go). It reads and writes through
// pkg/store and checks input with the rules pkg/audience shares with the API;
// imports, previews and sends go through the services it is given
// (services.go), the same the API uses. It must not send mail itself or
// speak JSON (the queue monitor it mounts for admins, asynqmon, speaks its own).
//
// Adding a screen: write templates/admin/<name>.html defining "content",
// register its routes in Routes with h.page (GET, any signed-in role at or
// above the one given) or h.action (POST: CSRF checked, role required), and
// render with h.render(w, r, s, status, "<name>.html", view{...}).
package admin

import (
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Deps are the admin UI's dependencies.
type Deps struct {
	Store *store.Store
	// Templates holds layout.html, form.html, bounce_days.html (shared
	// parts), one file per screen and
	// static/admin.css: templates/admin.
	Templates fs.FS
	// PublicURL is the base URL people reach the server at; https makes the
	// session cookie Secure.
	PublicURL string
	// OutboxURL is the captured-mail outbox in embedded mode, "" otherwise.
	OutboxURL string
	// TrustProxy counts sign-in failures by the last X-Forwarded-For entry
	// (DEARFRIEND_TRUST_PROXY): behind a proxy every request has its address.
	TrustProxy bool
	Log        *slog.Logger

	// The services of the import, message and campaign screens; a screen
	// whose service is nil answers 404 (the tests of other screens leave
	// them out).
	Imports    Importer
	Compiler   Compiler
	Previews   Previews
	Dispatcher Dispatcher
	// ConfirmAbove is the audience size over which sending asks the
	// organizer to type the number of recipients (DEARFRIEND_CONFIRM_ABOVE,
	// 1000 by default); 0 asks always.
	ConfirmAbove int64
	// TimeZone is the organization's IANA zone, the schedule's default
	// (DEARFRIEND_TIME_ZONE); empty takes the organizer's browser's.
	TimeZone string

	// Settings is what the settings screen shows of the configuration.
	Settings Settings
	// QueueRedis is the task queue's Redis, which the queue monitor
	// (asynqmon, under /admin/queue/) reads; nil leaves the monitor out.
	QueueRedis asynq.RedisConnOpt

	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time

	// Brand is the branding the Branding screen saves and the header
	// shows; Library the image library of the Images screen. A nil one
	// leaves its screen out (404).
	Brand   *brand.Source
	Library *brand.Library
}

// Handler serves the admin UI.
type Handler struct {
	Deps
	pages  map[string]*template.Template // by file name, each with the layout
	css    []byte
	js     []byte
	secure bool // cookies only over https
	// queueMonitor is asynqmon, when Deps.QueueRedis is set; Close closes it.
	queueMonitor *asynqmon.HTTPHandler
	// blocksJS is the message screen's block editor (static/blocks.js).
	blocksJS []byte
}

// New parses the templates: each screen's file together with the layout and
// the form partials.
func New(d Deps) (*Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &Handler{Deps: d, pages: map[string]*template.Template{}, secure: strings.HasPrefix(d.PublicURL, "https://")}
	base, err := template.New("").Funcs(funcs).ParseFS(d.Templates, "layout.html", "form.html", "bounce_days.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(d.Templates, "*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == "layout.html" || name == "form.html" || name == "bounce_days.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(d.Templates, name)
		if err != nil {
			return nil, err
		}
		h.pages[name] = t
	}
	if h.css, err = fs.ReadFile(d.Templates, "static/admin.css"); err != nil {
		return nil, err
	}
	if h.js, err = fs.ReadFile(d.Templates, "static/admin.js"); err != nil {
		return nil, err
	}
	if h.blocksJS, err = fs.ReadFile(d.Templates, "static/blocks.js"); err != nil {
		return nil, err
	}
	return h, nil
}

// Routes registers the admin UI on mux. Every GET but the sign-in page and
// the stylesheet needs a session; every POST also a CSRF token.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/static/admin.css", h.stylesheet)
	mux.HandleFunc("GET /admin/static/admin.js", h.script)
	mux.HandleFunc("GET /admin/static/blocks.js", h.blocksScript)
	mux.HandleFunc("GET /admin/signin", h.signinPage)
	mux.HandleFunc("POST /admin/signin", h.signin)
	mux.Handle("POST /admin/signout", h.action(store.RoleViewer, h.signout))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))

	mux.Handle("GET /admin/{$}", h.page(store.RoleViewer, h.dashboard))
	mux.Handle("GET /admin/contacts", h.page(store.RoleViewer, h.contacts))
	mux.Handle("GET /admin/contacts/{id}", h.page(store.RoleViewer, h.contact))
	mux.Handle("GET /admin/contacts/{id}/edit", h.page(store.RoleOrganizer, h.editContactPage))
	mux.Handle("POST /admin/contacts/{id}", h.action(store.RoleOrganizer, h.editContact))
	mux.Handle("POST /admin/contacts/{id}/tags", h.action(store.RoleOrganizer, h.addTags))
	mux.Handle("POST /admin/contacts/{id}/tags/remove", h.action(store.RoleOrganizer, h.removeTag))
	mux.Handle("POST /admin/contacts/{id}/bounce/lift", h.action(store.RoleOrganizer, h.liftBounce))
	mux.Handle("POST /admin/contacts/{id}/lists", h.action(store.RoleOrganizer, h.addToList))
	mux.Handle("POST /admin/contacts/{id}/lists/remove", h.action(store.RoleOrganizer, h.removeFromList))
	mux.Handle("GET /admin/contacts/{id}/export.json", h.page(store.RoleOrganizer, h.exportContact))
	mux.Handle("GET /admin/contacts/{id}/erase", h.page(store.RoleOrganizer, h.erasePage))
	mux.Handle("POST /admin/contacts/{id}/erase", h.action(store.RoleOrganizer, h.eraseContact))
	mux.Handle("GET /admin/lists", h.page(store.RoleViewer, h.lists))
	mux.Handle("POST /admin/lists", h.action(store.RoleOrganizer, h.createList))
	mux.Handle("POST /admin/lists/{id}/rename", h.action(store.RoleOrganizer, h.renameList))
	mux.Handle("POST /admin/lists/{id}/delete", h.action(store.RoleOrganizer, h.deleteList))
	mux.Handle("GET /admin/users", h.page(store.RoleAdmin, h.users))
	mux.Handle("POST /admin/users", h.action(store.RoleAdmin, h.createUser))
	mux.Handle("POST /admin/users/{id}/role", h.action(store.RoleAdmin, h.setRole))
	mux.Handle("POST /admin/users/{id}/disable", h.action(store.RoleAdmin, h.disableUser))
	mux.Handle("POST /admin/users/{id}/enable", h.action(store.RoleAdmin, h.enableUser))
	mux.Handle("POST /admin/users/{id}/reset", h.action(store.RoleAdmin, h.makeResetLink))
	mux.Handle("GET /admin/account", h.page(store.RoleViewer, h.account))
	mux.Handle("POST /admin/account/password", h.action(store.RoleViewer, h.changePassword))
	mux.HandleFunc("GET /admin/reset/{token}", h.resetPage)
	mux.HandleFunc("POST /admin/reset/{token}", h.reset)
	h.sendingRoutes(mux)
	h.deskRoutes(mux)
	h.reportRoutes(mux)
	h.brandingRoutes(mux)
}

// navItem is one entry of the header's navigation.
type navItem struct {
	Name, Path string
	Role       string // the least role that sees it
}

// nav is the header's navigation, in order. The outbox entry is added in
// embedded mode only (see navFor).
var nav = []navItem{
	{Name: "Dashboard", Path: "/admin/", Role: store.RoleViewer},
	{Name: "Contacts", Path: "/admin/contacts", Role: store.RoleViewer},
	{Name: "Lists", Path: "/admin/lists", Role: store.RoleViewer},
	{Name: "Segments", Path: "/admin/segments", Role: store.RoleViewer},
	{Name: "Messages", Path: "/admin/messages", Role: store.RoleViewer},
	{Name: "Campaigns", Path: "/admin/campaigns", Role: store.RoleViewer},
	{Name: "Petitions", Path: "/admin/petitions", Role: store.RoleViewer},
	{Name: "Images", Path: "/admin/media", Role: store.RoleViewer},
	{Name: "Users", Path: "/admin/users", Role: store.RoleAdmin},
	{Name: "Branding", Path: "/admin/branding", Role: store.RoleAdmin},
	{Name: "Settings", Path: "/admin/settings", Role: store.RoleAdmin},
	{Name: "Queue", Path: queuePath + "/", Role: store.RoleAdmin},
}

// navFor returns the entries a user's role sees.
func (h *Handler) navFor(u *store.User) []navItem {
	var out []navItem
	for _, n := range nav {
		if allowed(u.Role, n.Role) && (n.Path != queuePath+"/" || h.queueMonitor != nil) {
			out = append(out, n)
		}
	}
	if h.OutboxURL != "" {
		out = append(out, navItem{Name: "Outbox", Path: h.OutboxURL, Role: store.RoleViewer})
	}
	return out
}

func (h *Handler) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(h.css)
}

// script is the little JavaScript the screens work without: live counts,
// previews reloaded after a save, the cursor put on an error's line.
func (h *Handler) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(h.js)
}

// blocksScript is the message screen's block editor; without it the
// screen edits the HTML source.
func (h *Handler) blocksScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(h.blocksJS)
}
