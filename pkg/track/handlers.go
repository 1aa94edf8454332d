package track

import (
	"context"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Store is what tracking needs of the database.
type Store interface {
	GetSend(ctx context.Context, id int64) (*store.Send, error)
	GetLink(ctx context.Context, id int64) (*store.Link, error)
	GetContact(ctx context.Context, id int64) (*store.Contact, error)
	InsertEvent(ctx context.Context, e *store.Event) error
	Unsubscribe(ctx context.Context, sendID int64, userAgent string) error
}

// Viewer renders the email a send delivered, for view in browser.
type Viewer interface {
	View(ctx context.Context, sendID int64) (string, error)
}

// Org is shown on every page.
type Org struct{ Name, PostalAddress string }

// Handler serves the public tracking endpoints and pages.
type Handler struct {
	store  Store
	signer *Signer
	links  *Links
	viewer Viewer
	org    Org
	pages  *template.Template
	log    *slog.Logger
}

// New returns the handler; pages is the folder of page templates.
func New(st Store, signer *Signer, links *Links, viewer Viewer, org Org, pages fs.FS, log *slog.Logger) (*Handler, error) {
	t, err := template.ParseFS(pages, "*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{store: st, signer: signer, links: links, viewer: viewer, org: org, pages: t, log: log}, nil
}

// Routes registers the endpoints on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /t/o/{token}", h.open)
	mux.HandleFunc("GET /t/c/{token}", h.click)
	mux.HandleFunc("GET /u/{token}", h.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", h.unsubscribe)
	mux.HandleFunc("GET /p/{token}", h.preferences)
	mux.HandleFunc("GET /v/{token}", h.view)
}

// gif is a 1x1 transparent GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// send verifies the token of the request and loads its send; it writes a 404
// and returns nil when the token is bad or names no send.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, kind Kind, token string) (*store.Send, int64) {
	sendID, linkID, err := h.signer.Verify(kind, token)
	if err != nil {
		http.NotFound(w, r)
		return nil, 0
	}
	snd, err := h.store.GetSend(r.Context(), sendID)
	if err != nil {
		h.fail(w, r, err)
		return nil, 0
	}
	return snd, linkID
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errs.CodeOf(err) == errs.NotFound {
		http.NotFound(w, r)
		return
	}
	h.log.Error("tracking request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (h *Handler) event(r *http.Request, kind string, snd *store.Send, linkID *int64) {
	e := &store.Event{Kind: kind, CampaignID: snd.CampaignID, SendID: snd.ID, ContactID: snd.ContactID, LinkID: linkID, UserAgent: truncate(r.UserAgent(), 512)}
	if err := h.store.InsertEvent(r.Context(), e); err != nil {
		h.log.Error("record event", "kind", kind, "send_id", snd.ID, "err", err)
	}
}

func (h *Handler) open(w http.ResponseWriter, r *http.Request) {
	snd, _ := h.send(w, r, KindOpen, strings.TrimSuffix(r.PathValue("token"), ".gif"))
	if snd == nil {
		return
	}
	h.event(r, store.EventOpen, snd, nil)
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	w.Write(gif)
}

func (h *Handler) click(w http.ResponseWriter, r *http.Request) {
	snd, linkID := h.send(w, r, KindClick, r.PathValue("token"))
	if snd == nil {
		return
	}
	link, err := h.store.GetLink(r.Context(), linkID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if link.CampaignID != snd.CampaignID {
		http.NotFound(w, r)
		return
	}
	h.event(r, store.EventClick, snd, &link.ID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link.URL, http.StatusFound)
}

type pageData struct {
	Title, Email, Status, OrgName, PostalAddress string
	Action, UnsubscribeURL, PreferencesURL       string
}

func (h *Handler) page(w http.ResponseWriter, name string, d pageData) {
	d.OrgName, d.PostalAddress = h.org.Name, h.org.PostalAddress
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := h.pages.ExecuteTemplate(w, name, d); err != nil {
		h.log.Error("render page", "page", name, "err", err)
	}
}

// unsubscribePage only asks: scanners fetch every link, so a GET changes nothing.
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	snd, _ := h.send(w, r, KindUnsubscribe, token)
	if snd == nil {
		return
	}
	h.page(w, "unsubscribe.html", pageData{Title: "Unsubscribe", Email: snd.Email, Action: "/u/" + token,
		PreferencesURL: h.links.Preferences(snd.ID)})
}

// unsubscribe handles both the page's form and the RFC 8058 one-click POST
// (body "List-Unsubscribe=One-Click"), which gets a bare 200.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	snd, _ := h.send(w, r, KindUnsubscribe, r.PathValue("token"))
	if snd == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		http.Error(w, "could not read the request", http.StatusBadRequest)
		return
	}
	if err := h.store.Unsubscribe(r.Context(), snd.ID, truncate(r.UserAgent(), 512)); err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.Contains(string(body), "List-Unsubscribe=One-Click") {
		w.WriteHeader(http.StatusOK)
		return
	}
	h.page(w, "unsubscribed.html", pageData{Title: "Unsubscribed", Email: snd.Email})
}

func (h *Handler) preferences(w http.ResponseWriter, r *http.Request) {
	snd, _ := h.send(w, r, KindPreferences, r.PathValue("token"))
	if snd == nil {
		return
	}
	c, err := h.store.GetContact(r.Context(), snd.ContactID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, "preferences.html", pageData{Title: "Email settings", Email: snd.Email, Status: c.Status,
		UnsubscribeURL: "/u/" + h.links.UnsubscribeToken(snd.ID)})
}

// view shows the email as that recipient got it; it is not counted as an open.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	sendID, _, err := h.signer.Verify(KindView, r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	body, err := h.viewer.View(r.Context(), sendID)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "script-src 'none'; form-action 'none'")
	io.WriteString(w, body)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
