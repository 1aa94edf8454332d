// Package ratelimit paces events against limits that every worker process
// shares through Redis: a GCRA limiter (go-redis/redis_rate) keyed per relay
// or per campaign. A Limiter waits until an event is allowed rather than
// failing it, and takes tokens from Redis in small chunks so that a fast
// limit costs a Redis round trip per chunk, not per message.
//
// It owns the limit arithmetic and the Redis keys under its prefix; it must
// not know about SMTP, campaigns or the database.
package ratelimit

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is Events per Period, with up to Burst events at once. The zero
// Limit is no limit.
type Limit struct {
	Events float64
	Period time.Duration
	Burst  int
}

// PerSecond is n events a second with a burst of one second's worth.
func PerSecond(n float64) Limit {
	return Limit{Events: n, Period: time.Second, Burst: max(1, int(math.Ceil(n)))}
}

// PerHour is n events an hour with a burst of one minute's worth: an hourly
// quota is spread over the hour rather than spent in its first seconds.
func PerHour(n float64) Limit {
	return Limit{Events: n, Period: time.Hour, Burst: max(1, int(math.Ceil(n/60)))}
}

// IsZero reports whether l limits nothing.
func (l Limit) IsZero() bool { return l.Events <= 0 || l.Period <= 0 }

// Scale returns l with f times the events and burst (at least one each).
func (l Limit) Scale(f float64) Limit {
	if l.IsZero() || f >= 1 {
		return l
	}
	return Limit{Events: max(l.Events*f, 1e-3), Period: l.Period, Burst: max(1, int(float64(l.Burst)*f))}
}

// chunk is how many tokens to take from Redis at once: about 100 ms worth,
// never more than the burst (GCRA never grants more than that at once).
func (l Limit) chunk() int {
	perTenth := l.Events / l.Period.Seconds() / 10
	return max(1, min(l.Burst, int(perTenth)))
}

// gcra converts l for redis_rate, whose rate is a whole number: the period is
// stretched a thousandfold so that fractional rates (0.5 a second) survive.
func (l Limit) gcra() redis_rate.Limit {
	const stretch = 1000
	return redis_rate.Limit{
		Rate:   max(1, int(math.Round(l.Events*stretch))),
		Period: l.Period * stretch,
		Burst:  max(1, l.Burst),
	}
}

// Backend grants tokens of a shared limit.
type Backend interface {
	// AllowN takes n tokens of key when limit allows it now; otherwise it
	// takes none and says how long to wait before asking again.
	AllowN(ctx context.Context, key string, limit Limit, n int) (ok bool, retryAfter time.Duration, err error)
}

// Redis is the Backend on a Redis shared by all processes. miniredis, the
// in-process Redis of embedded mode, runs its Lua script too.
type Redis struct {
	gcra   *redis_rate.Limiter
	prefix string
}

// NewRedis keeps its keys under prefix (e.g. the queue name, so that two
// deployments on one Redis do not share limits).
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{gcra: redis_rate.NewLimiter(rdb), prefix: prefix}
}

// AllowN implements Backend.
func (r *Redis) AllowN(ctx context.Context, key string, limit Limit, n int) (bool, time.Duration, error) {
	res, err := r.gcra.AllowN(ctx, r.prefix+key, limit.gcra(), n)
	if err != nil {
		return false, 0, err
	}
	return res.Allowed == n, res.RetryAfter, nil
}

// Limiter waits for tokens of shared limits. It is safe for concurrent use.
type Limiter struct {
	backend Backend
	onWait  func(scope string, waited time.Duration)

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket holds the tokens of one key this process took but has not used.
type bucket struct {
	// turn is held by the one caller asking Redis for the key; the others
	// queue for it, and leave the queue when their context ends.
	turn   chan struct{}
	limit  Limit
	tokens int
}

// NewLimiter waits on backend. onWait, when not nil, is told of every wait,
// with the scope of the key (what comes before its first ':', e.g. "relay").
func NewLimiter(backend Backend, onWait func(scope string, waited time.Duration)) *Limiter {
	return &Limiter{backend: backend, onWait: onWait, buckets: map[string]*bucket{}}
}

// Wait blocks until limit allows one more event under key, and returns how
// long it waited. A zero limit returns at once without asking Redis. A
// changed limit drops the tokens taken under the old one, so slowing down
// takes effect at once.
func (l *Limiter) Wait(ctx context.Context, key string, limit Limit) (time.Duration, error) {
	if limit.IsZero() {
		return 0, nil
	}
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{turn: make(chan struct{}, 1)}
		l.buckets[key] = b
	}
	l.mu.Unlock()

	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
	defer func() { <-b.turn }()
	if b.limit != limit {
		b.limit, b.tokens = limit, 0
	}
	if b.tokens > 0 {
		b.tokens--
		return 0, nil
	}
	n := limit.chunk()
	var start time.Time // of the first wait
	waited := func() time.Duration {
		if start.IsZero() {
			return 0
		}
		return time.Since(start)
	}
	for {
		ok, retry, err := l.backend.AllowN(ctx, key, limit, n)
		if err != nil {
			return waited(), err
		}
		if ok {
			b.tokens = n - 1
			break
		}
		if start.IsZero() {
			start = time.Now()
		}
		t := time.NewTimer(max(retry, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			l.observe(key, waited())
			return waited(), context.Cause(ctx)
		case <-t.C:
		}
		// Tokens come back one emission interval at a time: after a wait,
		// take one rather than waiting again for a whole chunk.
		n = 1
	}
	l.observe(key, waited())
	return waited(), nil
}

func (l *Limiter) observe(key string, waited time.Duration) {
	if waited <= 0 || l.onWait == nil {
		return
	}
	scope, _, _ := strings.Cut(key, ":")
	l.onWait(scope, waited)
}
