package admin

import (
	"net/http"
	"net/url"

	"github.com/hibiken/asynqmon"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// queuePath is where the queue monitor (asynqmon) is mounted.
const queuePath = "/admin/queue"

// queueRoutes mounts the queue monitor for admins, when there is a queue to
// watch (Deps.QueueRedis).
func (h *Handler) queueRoutes(mux *http.ServeMux) {
	if h.QueueRedis == nil {
		return
	}
	h.queueMonitor = asynqmon.New(asynqmon.Options{RootPath: queuePath, RedisConnOpt: h.QueueRedis})
	mux.Handle("GET "+queuePath, http.RedirectHandler(queuePath+"/", http.StatusMovedPermanently))
	mux.Handle(queuePath+"/", h.page(store.RoleAdmin, func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		if !sameOrigin(r) {
			h.problem(w, r, s, http.StatusForbidden, "This request was not sent from this site.")
			return
		}
		// Its pages bring their own scripts and styles; only framing and
		// the referrer are ours to restrict.
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.queueMonitor.ServeHTTP(w, r)
	}))
}

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
