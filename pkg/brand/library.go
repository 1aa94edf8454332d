package brand

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// LibraryStore is what the image library needs of the database.
type LibraryStore interface {
	CreateMedia(ctx context.Context, m *store.Media) (bool, error)
	ListMedia(ctx context.Context, limit int) ([]store.Media, error)
	GetMedia(ctx context.Context, id int64) (*store.Media, error)
	MediaBySHA256(ctx context.Context, sum string) (*store.Media, error)
	DeleteMedia(ctx context.Context, id int64) error
}

var _ LibraryStore = (*store.Store)(nil)

// Library is the image library: what the admin adds and deletes, and what
// /media/ serves. Served images are kept in memory a while (cacheBudget
// bytes at most, each for cacheFor): an email opened by thousands loads its
// images thousands of times, and an image's bytes never change under its
// name. An image deleted elsewhere may so be served by this process for
// up to cacheFor more.
type Library struct {
	store     LibraryStore
	brand     Reader
	publicURL string
	log       *slog.Logger
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached
	order []string // digests in the order cached, oldest first
	bytes int
}

type cached struct {
	m  *store.Media
	at time.Time
}

const (
	cacheBudget = 32 << 20
	cacheFor    = time.Minute
	// ListLimit is the most images a listing returns.
	ListLimit = 500
)

// NewLibrary returns the library of st; brand names the logo for
// /brand/logo; publicURL is where the images' absolute URLs point.
func NewLibrary(st LibraryStore, brand Reader, publicURL string, log *slog.Logger) *Library {
	return &Library{store: st, brand: brand, publicURL: strings.TrimSuffix(publicURL, "/"), log: log, now: time.Now, cache: map[string]cached{}}
}

// URL is the absolute URL of an image, as an email needs it.
func (l *Library) URL(m *store.Media) string { return l.publicURL + MediaPath(m.SHA256, m.ContentType) }

// ListItem is one image as ServeList lists it.
type ListItem struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`  // absolute: what an email's <img src> takes
	Path        string    `json:"path"` // the same under any host
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// ServeList answers the images of the library as JSON, newest first:
// {"images": [ListItem...]}. It checks no one: the caller mounts it behind
// its own sign-in (the admin's GET /admin/media.json), for editors that
// let organizers pick an image.
func (l *Library) ServeList(w http.ResponseWriter, r *http.Request) {
	ms, err := l.List(r.Context())
	if err != nil {
		l.fail(w, r, err)
		return
	}
	out := struct {
		Images []ListItem `json:"images"`
	}{Images: make([]ListItem, len(ms))}
	for i, m := range ms {
		out.Images[i] = ListItem{ID: m.ID, URL: l.URL(&m), Path: MediaPath(m.SHA256, m.ContentType), Name: m.Name,
			ContentType: m.ContentType, Width: m.Width, Height: m.Height, Size: m.Size, CreatedAt: m.CreatedAt}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		l.log.Warn("write image list", "err", err)
	}
}

// Add checks an upload (ReadImage) and stores it, by the user named by;
// created is false when the same image was in the library already.
func (l *Library) Add(ctx context.Context, name string, data []byte, by string) (m *store.Media, created bool, err error) {
	if m, err = ReadImage(name, data); err != nil {
		return nil, false, err
	}
	m.CreatedBy = by
	created, err = l.store.CreateMedia(ctx, m)
	return m, created, err
}

// List returns the images, newest first, without their bytes.
func (l *Library) List(ctx context.Context) ([]store.Media, error) {
	return l.store.ListMedia(ctx, ListLimit)
}

// Get returns one image without its bytes.
func (l *Library) Get(ctx context.Context, id int64) (*store.Media, error) {
	return l.store.GetMedia(ctx, id)
}

// Delete removes an image; the logo is refused (a conflict).
func (l *Library) Delete(ctx context.Context, id int64) error {
	m, err := l.store.GetMedia(ctx, id)
	if err != nil {
		return err
	}
	if err := l.store.DeleteMedia(ctx, id); err != nil {
		return err
	}
	l.mu.Lock()
	l.forget(m.SHA256)
	l.mu.Unlock()
	return nil
}

// Routes registers the public image routes on mux: /media/<sha256>.<ext>,
// for ever the same bytes, and /brand/logo, the logo of the moment.
func (l *Library) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /media/{file}", l.serveMedia)
	mux.HandleFunc("GET /brand/logo", l.serveLogo)
}

// mediaFile is the last segment of an image's path.
var mediaFile = regexp.MustCompile(`^([0-9a-f]{64})\.(png|jpg|gif|webp)$`)

func (l *Library) serveMedia(w http.ResponseWriter, r *http.Request) {
	match := mediaFile.FindStringSubmatch(r.PathValue("file"))
	if match == nil {
		http.NotFound(w, r)
		return
	}
	m := l.open(w, r, match[1])
	if m == nil {
		return
	}
	if imageTypes[m.ContentType] != match[2] {
		http.NotFound(w, r)
		return
	}
	// The name is the digest of the bytes: they never change.
	serve(w, r, m, "public, max-age=31536000, immutable")
}

// serveLogo serves the logo at a URL that does not change with it: cached
// a minute, then asked again with its ETag.
func (l *Library) serveLogo(w http.ResponseWriter, r *http.Request) {
	b, err := l.brand.Current(r.Context())
	if err != nil {
		l.fail(w, r, err)
		return
	}
	if b.Logo == nil {
		http.Error(w, "no logo is set", http.StatusNotFound)
		return
	}
	if m := l.open(w, r, b.Logo.SHA256); m != nil {
		serve(w, r, m, "public, max-age=60")
	}
}

// open returns the image with its bytes, from memory when it can; it
// answers the request itself and returns nil when it cannot.
func (l *Library) open(w http.ResponseWriter, r *http.Request, sum string) *store.Media {
	now := l.now()
	l.mu.Lock()
	c, ok := l.cache[sum]
	if ok && now.Sub(c.at) >= cacheFor {
		l.forget(sum)
		ok = false
	}
	l.mu.Unlock()
	if ok {
		return c.m
	}
	m, err := l.store.MediaBySHA256(r.Context(), sum)
	if err != nil {
		l.fail(w, r, err)
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cache[sum]; !ok && len(m.Data) <= cacheBudget/4 {
		l.cache[sum] = cached{m: m, at: now}
		l.order = append(l.order, sum)
		l.bytes += len(m.Data)
		for l.bytes > cacheBudget && len(l.order) > 0 {
			l.forget(l.order[0])
		}
	}
	return m
}

// forget drops an image from memory; l.mu is held.
func (l *Library) forget(sum string) {
	c, ok := l.cache[sum]
	if !ok {
		return
	}
	delete(l.cache, sum)
	l.bytes -= len(c.m.Data)
	for i, s := range l.order {
		if s == sum {
			l.order = append(l.order[:i], l.order[i+1:]...)
			break
		}
	}
}

// serve writes an image: its type as stored (never sniffed again by the
// browser), its digest as ETag, so If-None-Match is answered 304.
func serve(w http.ResponseWriter, r *http.Request, m *store.Media, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", `"`+m.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "", m.CreatedAt, bytes.NewReader(m.Data))
}

func (l *Library) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errs.CodeOf(err) == errs.NotFound {
		http.NotFound(w, r)
		return
	}
	l.log.Error("serve image", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
