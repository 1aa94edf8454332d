package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/hibiken/asynqmon"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// queuePath is the queue monitor's page: asynqmon in a frame of the admin
// layout, which it serves under queueAppPath.
const (
	queuePath    = "/admin/queue"
	queueAppPath = queuePath + "/app"
)

// queueRoutes mounts the queue monitor for admins, when there is a queue to
// watch (Deps.QueueRedis).
func (h *Handler) queueRoutes(mux *http.ServeMux) {
	if h.QueueRedis == nil {
		return
	}
	h.queueMonitor = asynqmon.New(asynqmon.Options{RootPath: queueAppPath, RedisConnOpt: h.QueueRedis})
	index, policy, err := queueIndex(h.queueMonitor)
	if err != nil {
		// asynqmon's page is built into it: only a new version of it gets here.
		h.Log.Error("queue monitor: read its page", "err", err)
	}
	mux.Handle("GET "+queuePath, http.RedirectHandler(queuePath+"/", http.StatusMovedPermanently))
	mux.Handle("GET "+queuePath+"/{$}", h.page(store.RoleAdmin, func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		h.render(w, r, s, http.StatusOK, "queue.html", view{Title: "Queue monitor", Section: "Queue", Data: queueAppPath + "/"})
	}))
	mux.Handle("GET "+queueAppPath, http.RedirectHandler(queueAppPath+"/", http.StatusMovedPermanently))
	mux.Handle(queueAppPath+"/", h.page(store.RoleAdmin, func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		if !sameOrigin(r) {
			h.problem(w, r, s, http.StatusForbidden, "This request was not sent from this site.")
			return
		}
		// Framed by the queue page of this site only, and loading nothing
		// from elsewhere. asynqmon's styles are injected at run time.
		hd := w.Header()
		hd.Set("X-Frame-Options", "SAMEORIGIN")
		hd.Set("Content-Security-Policy", policy)
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		if index != nil && isQueuePage(r) {
			hd.Set("Content-Type", "text/html; charset=utf-8")
			hd.Set("Cache-Control", "no-store")
			w.Write(index)
			return
		}
		h.queueMonitor.ServeHTTP(w, r)
	}))
}

// externalStyles are the web fonts asynqmon's page links from Google: left
// out, it falls back to the system's sans-serif and loads nothing from
// another site.
var externalStyles = regexp.MustCompile(`<link rel="stylesheet" href="https?://[^"]*"/?>`)

// narrowDrawer starts asynqmon with its sidebar closed in a narrow frame
// (a phone's), where open it leaves the page no room; asynqmon keeps the
// choice in localStorage once its menu button changes it.
const narrowDrawer = `if (innerWidth < 600 && localStorage.getItem("asynqmon:state") === null) ` +
	`localStorage.setItem("asynqmon:state", JSON.stringify({settings: {isDrawerOpen: false}}))`

var inlineScripts = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// queueIndex renders asynqmon's page once, without its external styles,
// and returns it with the Content-Security-Policy that allows its inline
// scripts by their hashes.
func queueIndex(mon http.Handler) ([]byte, string, error) {
	policy := "default-src 'self'; script-src 'self'%s; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
	rec := &recorder{header: http.Header{}}
	mon.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: queueAppPath + "/"}, Header: http.Header{}})
	page := externalStyles.ReplaceAll(rec.body.Bytes(), nil)
	page = bytes.Replace(page, []byte("</head>"), []byte("<script>"+narrowDrawer+"</script></head>"), 1)
	if rec.status != http.StatusOK || !bytes.Contains(page, []byte(`<div id="root">`)) {
		return nil, fmt.Sprintf(policy, ""), fmt.Errorf("asynqmon answered %d with no root element", rec.status)
	}
	var hashes strings.Builder
	for _, m := range inlineScripts.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		fmt.Fprintf(&hashes, " 'sha256-%s'", base64.StdEncoding.EncodeToString(sum[:]))
	}
	return page, fmt.Sprintf(policy, hashes.String()), nil
}

// isQueuePage reports whether r asks for one of asynqmon's pages rather
// than its API or a file: the page answers every path without a dot.
func isQueuePage(r *http.Request) bool {
	rel := strings.TrimPrefix(r.URL.Path, queueAppPath+"/")
	return r.Method == http.MethodGet && !strings.HasPrefix(rel, "api/") && !strings.Contains(path.Base("/"+rel), ".")
}

// recorder keeps one response in memory.
type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) { r.status = status }

// sameOrigin reports whether a request that changes something (the
// monitor's buttons call its JSON API with POST and DELETE, without our
// CSRF token) comes from a page of this site. Browsers say where a request
// comes from in Sec-Fetch-Site, or else in Origin; a request with neither is
// not a browser's, and a forged cross-site one always carries them.
func sameOrigin(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// Close releases the queue monitor's Redis connection.
func (h *Handler) Close() error {
	if h.queueMonitor == nil {
		return nil
	}
	return h.queueMonitor.Close()
}
