package action

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/ratelimit"
)

// maxTrackedAddresses bounds the limiter's memory whatever the number of
// addresses a flood comes from.
const maxTrackedAddresses = 100_000

// allowSign takes one of the sign posts the request's client address may
// make this minute. With Deps.Limits the count is shared by every serve
// process behind the load balancer (a GCRA in Redis, the same burst and
// refill as limiter); a Redis that does not answer lets the post through, as
// a lost signature costs more than a missed flood.
func (h *Handler) allowSign(r *http.Request) bool {
	addr := ClientAddr(r, h.TrustProxy)
	if h.Limits == nil || h.SignRate <= 0 {
		return h.limiter.allow(addr)
	}
	limit := ratelimit.Limit{Events: float64(h.SignRate), Period: time.Minute, Burst: h.SignRate}
	ok, _, err := h.Limits.AllowN(r.Context(), "sign:"+addr, limit, 1)
	if err != nil {
		h.Log.Warn("sign rate limit unavailable: post let through", "err", err)
		return true
	}
	return ok
}

// limiter is a token bucket per client address, in memory: each address may
// post a burst of perMinute at once, refilled evenly over a minute. It is per
// process (Deps.Limits nil); behind several processes each allows its own share.
type limiter struct {
	mu        sync.Mutex
	perMinute float64
	max       int
	buckets   map[string]*bucket
	now       func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// newLimiter allows perMinute posts per address and minute; 0 allows all.
func newLimiter(perMinute, maxAddresses int) *limiter {
	return &limiter{perMinute: float64(perMinute), max: maxAddresses, buckets: map[string]*bucket{}, now: time.Now}
}

// allow takes a token of addr's bucket and reports whether there was one.
func (l *limiter) allow(addr string) bool {
	if l.perMinute <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[addr] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evict forgets the full buckets, which a new one would equal; when the map
// is still full, it forgets a quarter of the addresses, whichever Go's map
// order yields: memory stays bounded and a flood cannot pin it.
func (l *limiter) evict(now time.Time) {
	for addr, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Minutes()*l.perMinute >= l.perMinute {
			delete(l.buckets, addr)
		}
	}
	for addr := range l.buckets {
		if len(l.buckets) < l.max*3/4 {
			break
		}
		delete(l.buckets, addr)
	}
}

// ClientAddr is the address a request comes from: the connection's peer, or
// with trustProxy the last X-Forwarded-For entry, the one the proxy in front
// appended (entries before it are whatever the client claimed). The admin
// UI's sign-in limits count by it too.
func ClientAddr(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
