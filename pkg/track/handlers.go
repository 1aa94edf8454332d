package track

import (
	"context"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Store is what the pages need of the database. Opens and clicks do not touch
// it on the request path but for a click's first lookup of its link.
type Store interface {
	GetSend(ctx context.Context, id int64) (*store.Send, error)
	GetLink(ctx context.Context, id int64) (*store.Link, error)
	GetCampaign(ctx context.Context, id int64) (*store.Campaign, error)
	MemberLists(ctx context.Context, contactID int64, ids []int64) ([]store.List, error)
	Unsubscribe(ctx context.Context, u store.Unsubscription) (*store.Event, error)
	Resubscribe(ctx context.Context, contactID int64) error
	GetPreferences(ctx context.Context, contactID int64, now time.Time) (*store.Preferences, error)
	UpdatePreferences(ctx context.Context, contactID int64, ch store.PreferenceChange) error
	ListTopics(ctx context.Context) ([]store.Topic, error)
}

var _ Store = (*store.Store)(nil)

// Viewer renders the email a send delivered, for view in browser.
type Viewer interface {
	View(ctx context.Context, sendID int64) (string, error)
}

// Notifier is told of unsubscribes (outgoing webhooks).
type Notifier interface {
	Notify(ctx context.Context, event string, data map[string]any) error
}

// Org is shown on every page.
type Org struct{ Name, PostalAddress string }

// Deps are the handler's dependencies; Notifier may be nil.
type Deps struct {
	Store    Store
	Recorder *Recorder
	Signer   *Signer
	Links    *Links
	Viewer   Viewer
	Notifier Notifier
	Org      Org
	Pages    fs.FS // the page templates
	Log      *slog.Logger

	// Brand is the branding read at each page; nil: Org's name and
	// address in the default colors.
	Brand brand.Reader
}

// Handler serves the public tracking endpoints and pages.
type Handler struct {
	Deps
	pages *template.Template
	unsub *Unsubscriber
	now   func() time.Time
	links linkCache
}

// New returns the handler.
func New(d Deps) (*Handler, error) {
	t, err := template.ParseFS(d.Pages, "*.html")
	if err != nil {
		return nil, err
	}
	if d.Brand == nil {
		d.Brand = brand.Fixed(brand.Brand{OrgName: d.Org.Name, PostalAddress: d.Org.PostalAddress})
	}
	return &Handler{Deps: d, pages: t, unsub: NewUnsubscriber(d.Store, d.Signer, d.Notifier, d.Log), now: time.Now, links: linkCache{m: map[int64]cachedLink{}}}, nil
}

// Routes registers the endpoints on mux. GET patterns also answer HEAD.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /t/o/{token}", h.open)
	mux.HandleFunc("GET /t/c/{token}", h.click)
	mux.HandleFunc("GET /u/{token}", h.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", h.unsubscribe)
	mux.HandleFunc("GET /p/{token}", h.preferences)
	mux.HandleFunc("POST /p/{token}", h.savePreferences)
	mux.HandleFunc("GET /v/{token}", h.view)
	mux.HandleFunc("GET /t/test/{what}", h.testLink)
	mux.HandleFunc("POST /t/test/{what}", h.testLink)
}

// gif is a 1x1 transparent GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// send verifies the token of the request and loads its send; it writes a 404
// and returns nil when the token is bad or names no send.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, kind Kind, token string) *store.Send {
	sendID, _, err := h.Signer.Verify(kind, token)
	if err != nil {
		http.NotFound(w, r)
		return nil
	}
	snd, err := h.Store.GetSend(r.Context(), sendID)
	if err != nil {
		h.fail(w, r, err)
		return nil
	}
	return snd
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	Fail(w, r, h.Log, "tracking request failed", err)
}

// Fail answers a public request that failed: 404 for what is not found,
// nothing to a client that left, else a 500 saying only "internal error",
// the detail logged under msg.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, msg string, err error) {
	if errs.CodeOf(err) == errs.NotFound {
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	log.Error(msg, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// open answers from memory: the event is buffered and completed from its send
// when written, so a valid token costs no database round trip.
func (h *Handler) open(w http.ResponseWriter, r *http.Request) {
	sendID, _, err := h.Signer.Verify(KindOpen, strings.TrimSuffix(r.PathValue("token"), ".gif"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h.Recorder.Record(store.Event{Kind: store.EventOpen, SendID: sendID, UserAgent: truncate(r.UserAgent(), 512),
		Machine: machineOpen(r), CreatedAt: h.now().UTC()})
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	w.Write(gif)
}

// click redirects to the link the token names, and only there: the link is
// looked up by the signed id, never taken from the request, and must be http(s).
func (h *Handler) click(w http.ResponseWriter, r *http.Request) {
	sendID, linkID, err := h.Signer.Verify(KindClick, r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	link, err := h.link(r.Context(), linkID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !link.safe {
		http.NotFound(w, r)
		return
	}
	// CampaignID lets the recorder drop a click whose link is not of its send's campaign.
	h.Recorder.Record(store.Event{Kind: store.EventClick, CampaignID: link.CampaignID, SendID: sendID, LinkID: &link.ID,
		UserAgent: truncate(r.UserAgent(), 512), Machine: MachineClick(r), CreatedAt: h.now().UTC()})
	hd := w.Header()
	hd.Set("Location", link.URL)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

// linkCache keeps links, which never change once registered, so repeated
// clicks skip the database. It is bounded: when full it starts over.
type linkCache struct {
	mu sync.RWMutex
	m  map[int64]cachedLink
}

// cachedLink is a link and whether it may be redirected to: an absolute
// http(s) URL, checked once when it is cached.
type cachedLink struct {
	store.Link
	safe bool
}

const linkCacheSize = 10_000

func (h *Handler) link(ctx context.Context, id int64) (cachedLink, error) {
	h.links.mu.RLock()
	l, ok := h.links.m[id]
	h.links.mu.RUnlock()
	if ok {
		return l, nil
	}
	got, err := h.Store.GetLink(ctx, id)
	if err != nil {
		return cachedLink{}, err
	}
	u, err := url.Parse(got.URL)
	l = cachedLink{Link: *got, safe: err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""}
	h.links.mu.Lock()
	if len(h.links.m) >= linkCacheSize {
		clear(h.links.m)
	}
	h.links.m[id] = l
	h.links.mu.Unlock()
	return l, nil
}

// view shows the email as that recipient got it; it is not counted as an open.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	sendID, _, err := h.Signer.Verify(KindView, r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	body, err := h.Viewer.View(r.Context(), sendID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "script-src 'none'; form-action 'none'")
	io.WriteString(w, body)
}

// readForm parses a urlencoded body of at most limit bytes.
func readForm(r *http.Request, limit int64) (url.Values, []byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > limit {
		return nil, nil, errors.New("form too large")
	}
	form, err := url.ParseQuery(string(body))
	return form, body, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func atoi64(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
