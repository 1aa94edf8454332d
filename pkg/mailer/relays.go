package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/ratelimit"
)

// RelayConfig is one relay of a set: the Config of its pool, and its share
// and pace.
type RelayConfig struct {
	Config
	// Name is host:port, with #2, #3… when the set names the same relay
	// again (another account); it labels metrics and rate-limit keys.
	Name string
	// Weight is the relay's share of messages relative to the others.
	Weight int
	// PerSecond and PerHour cap the messages sent through the relay by all
	// worker processes together; 0 is no cap.
	PerSecond float64
	PerHour   float64
}

// ParseRelays reads DEARFRIEND_SMTP_URL: one or more relay URLs (see Config)
// separated by white space or commas. Each URL's query may also carry
//
//	weight=N      share of messages relative to the other relays; default 1
//	rate=N        messages per second, across all workers; default unlimited
//	rate_hour=N   messages per hour, across all workers; default unlimited
//
// A relay without max_conns gets defaultConns connections (0: DefaultMaxConns).
// An error names the relay by its position and host and says which
// parameter is wrong; it never repeats a password. A comma inside a URL (in
// a password, say) must be written %2C.
func ParseRelays(raw string, defaultConns int) ([]RelayConfig, error) {
	urls := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(urls) == 0 {
		return nil, errors.New("mailer: SMTP URL is empty; want smtp://host:port or smtps://host:port, several separated by commas")
	}
	relays := make([]RelayConfig, 0, len(urls))
	seen := map[string]int{}
	for i, u := range urls {
		rc, err := parseRelay(u, defaultConns)
		if err != nil {
			which := fmt.Sprintf("relay %d", i+1)
			if rc.Name != "" {
				which += " (" + rc.Name + ")"
			}
			return nil, fmt.Errorf("mailer: SMTP URL %s: %s", which, strings.TrimPrefix(err.Error(), "mailer: SMTP URL: "))
		}
		seen[rc.Name]++
		if n := seen[rc.Name]; n > 1 {
			rc.Name += "#" + strconv.Itoa(n)
		}
		relays = append(relays, rc)
	}
	return relays, nil
}

// parseRelay reads one URL of a set. On error, the Name is set when the
// host could be read, so that the error can say which relay is wrong.
func parseRelay(raw string, defaultConns int) (RelayConfig, error) {
	rc := RelayConfig{Weight: 1}
	ep, q, err := parseEndpoint(raw)
	if ep.host != "" {
		rc.Name = hostPort(ep.host, ep.port)
	}
	if err != nil {
		return rc, err
	}
	rc.Name = hostPort(ep.host, ep.port)
	if rc.Config, err = ParseURL(raw); err != nil {
		return rc, err
	}
	if !q.Has("max_conns") && defaultConns > 0 {
		rc.MaxConns = defaultConns
	}
	if v, ok := single(q, "weight"); ok {
		if rc.Weight, err = positiveInt("weight", v); err != nil {
			return rc, err
		}
		if rc.Weight > 1000 {
			return rc, urlError("weight=%s: want a whole number from 1 to 1000", v)
		}
	}
	for _, p := range []struct {
		key string
		dst *float64
	}{{"rate", &rc.PerSecond}, {"rate_hour", &rc.PerHour}} {
		if v, ok := single(q, p.key); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || !(n > 0) || math.IsInf(n, 0) {
				return rc, urlError("%s=%s: want a positive number of messages", p.key, v)
			}
			*p.dst = n
		}
	}
	return rc, nil
}

func single(q url.Values, key string) (string, bool) {
	if !q.Has(key) {
		return "", false
	}
	return q.Get(key), true
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// Throttled reports whether the relay asks to slow down rather than refusing
// this message: 421 (closing, try later), or 451 with an enhanced code 4.7.x
// (a policy or rate limit).
func (r Result) Throttled() bool {
	return r.Code == 421 || r.Code == 451 && strings.HasPrefix(r.Enhanced, "4.7.")
}

// RateWaiter waits until a shared rate limit allows one more message
// (ratelimit.Limiter).
type RateWaiter interface {
	Wait(ctx context.Context, key string, limit ratelimit.Limit) (time.Duration, error)
}

// Observer is told of every attempt and every throttling reply (metrics).
type Observer interface {
	// Attempt is one message through relay: outcome is a Status name or
	// "throttled"; took is the SMTP exchange, rate-limit waits excluded.
	Attempt(relay, outcome string, took time.Duration)
	Throttle(relay string)
}

// RelaysOptions adjusts NewRelays.
type RelaysOptions struct {
	// Limiter enforces each relay's rate and rate_hour; nil enforces none.
	Limiter  RateWaiter
	Observer Observer // nil: nobody is told
	// Backoff is how long a throttled relay stays slowed down before it
	// starts to recover; default 30 s. Recovery then adds a tenth of the
	// full pace every Backoff/10.
	Backoff time.Duration
	Now     func() time.Time
}

// Relays sends each message through one of several relays, picked by weight
// (smooth weighted round robin), each relay with its own kept-open Pool,
// rate limits and throttling state. It is safe for concurrent use.
//
// A relay whose connections fail is skipped while another is healthy, and a
// message that could not reach it is handed to another at once. A relay
// that answers with throttling replies (see Result.Throttled) is slowed down
// — half the rate and connections per reply, down to a sixteenth — for the
// back-off period, then recovers step by step (AIMD).
type Relays struct {
	relays []*relay
	opts   RelaysOptions
	log    *slog.Logger

	mu sync.Mutex // the round robin's counters and each relay's health
}

// relay is one member of the set.
type relay struct {
	RelayConfig
	pool   *Pool
	gate   gate
	limits []relayLimit // its rates per second and per hour, those set, with their Redis keys

	// under Relays.mu
	current   int           // smooth weighted round robin
	downUntil time.Time     // skipped until then when another relay is up
	downFor   time.Duration // grows while connections keep failing

	mu        sync.Mutex // the throttling state
	factor    float64    // share of the configured pace in force, (0, 1]
	calmAt    time.Time  // end of the back-off after the last throttling reply
	raisedAt  time.Time
	throttles int64
}

// minFactor is how far throttling slows a relay down: a sixteenth of its pace.
const minFactor = 1.0 / 16

// NewRelays opens no connection; each relay's pool dials on first use. opts
// apply to every pool (signer, TLS configuration, clock).
func NewRelays(cfgs []RelayConfig, logger *slog.Logger, o RelaysOptions, opts ...Option) (*Relays, error) {
	if len(cfgs) == 0 {
		return nil, errors.New("mailer: no relay configured")
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rs := &Relays{opts: o, log: logger}
	for _, c := range cfgs {
		p, err := NewPool(c.Config, logger.With("relay", c.Name), opts...)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("relay %s: %w", c.Name, err)
		}
		r := &relay{RelayConfig: c, pool: p, factor: 1}
		r.Weight = max(1, r.Weight)
		if c.PerSecond > 0 {
			r.limits = append(r.limits, relayLimit{"relay:" + r.Name + ":s", ratelimit.PerSecond(c.PerSecond)})
		}
		if c.PerHour > 0 {
			r.limits = append(r.limits, relayLimit{"relay:" + r.Name + ":h", ratelimit.PerHour(c.PerHour)})
		}
		r.gate.limit = p.cfg.MaxConns
		rs.relays = append(rs.relays, r)
	}
	return rs, nil
}

// Send delivers m through a relay picked by weight, waiting first for that
// relay's rate limits. If the relay could not be reached at all, another
// one is tried. It is a Lane of one message.
func (rs *Relays) Send(ctx context.Context, m *Message) Result {
	l := rs.Lane()
	res := l.Send(ctx, m)
	if len(res) == 0 {
		res = l.Flush(ctx)
	}
	return res[0]
}

// Lane returns a lane over the set: each message goes through the relay
// picked for it, and the next message is opened behind the open one when
// both go to the same relay and it has no rate limit (a rate's wait would
// keep the open message waiting).
func (rs *Relays) Lane() *Lane { return &Lane{rs: rs} }

// relayLimit is one of a relay's rates and the key it is counted under.
type relayLimit struct {
	key   string
	limit ratelimit.Limit
}

// mustYield says whether the lane must send its open message alone before
// the next one: the relay has a rate to wait for, or others wait for its
// slots, or throttling took the lane's slot away.
func (l *Lane) mustYield() bool {
	return l.rs.opts.Limiter != nil && len(l.r.limits) > 0 || l.r.gate.crowded()
}

// sendVia hands m to the lane on r, taking a slot of r and waiting for its
// rates first when the lane holds none. A message that could not reach r at
// all is tried on another relay when move allows.
func (l *Lane) sendVia(ctx context.Context, r *relay, m *Message, move bool) {
	rs := l.rs
	if l.r == nil {
		if err := r.gate.enter(ctx); err != nil {
			l.out = append(l.out, Result{Status: StatusDeferred, Reply: err.Error()})
			return
		}
		l.r, l.pl = r, poolLane{p: r.pool, ended: l.pl.ended}
		if rs.opts.Limiter != nil {
			factor := r.pace()
			for _, lim := range r.limits {
				if _, err := rs.opts.Limiter.Wait(ctx, lim.key, lim.limit.Scale(factor)); err != nil {
					l.release()
					l.out = append(l.out, Result{Status: StatusDeferred, Reply: "rate limit: " + err.Error()})
					return
				}
			}
		}
	}
	l.pl.send(ctx, m, rs.opts.Now())
	n := len(l.pl.ended)
	move = move && len(rs.relays) > 1 && l.pl.open == nil && n > 0 && l.pl.ended[n-1].unsent
	var lost ended
	if move {
		lost, l.pl.ended = l.pl.ended[n-1], l.pl.ended[:n-1]
	}
	l.collect(r)
	if l.pl.open == nil {
		l.release()
	}
	if !move {
		return
	}
	rs.observe(r, &lost)
	if other := rs.pick(r); other != r && other != nil {
		l.sendVia(ctx, other, m, false)
		return
	}
	l.out = append(l.out, lost.res)
}

// flushRelay sends the open message, if any, and gives back the relay's slot.
func (l *Lane) flushRelay(ctx context.Context) {
	if l.r == nil {
		return
	}
	r := l.r
	l.pl.flush(ctx)
	l.collect(r)
	l.release()
}

// release gives back the slot of the relay the lane holds.
func (l *Lane) release() {
	l.r.gate.leave()
	l.r = nil
}

// observe tells the set what a relay answered: throttling, health, and
// the Observer. took runs from the message's handing over to its result.
func (rs *Relays) observe(r *relay, e *ended) {
	e.res.Relay = r.Name
	res := e.res
	outcome := res.Status.String()
	if res.Throttled() {
		outcome = "throttled"
		rs.throttled(r)
	} else if res.Code != 0 || res.Status != StatusDeferred && res.Status != StatusUnknown {
		r.recover(rs.opts.Now(), rs.opts.Backoff)
	}
	rs.health(r, e.unsent)
	if rs.opts.Observer != nil {
		rs.opts.Observer.Attempt(r.Name, outcome, rs.opts.Now().Sub(e.start))
	}
}

// pick chooses the next relay by smooth weighted round robin among those
// that are up, or among all of them when none is; never skip, unless skip is
// the only relay.
func (rs *Relays) pick(skip *relay) *relay {
	if len(rs.relays) == 1 {
		return rs.relays[0]
	}
	now := rs.opts.Now()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var best *relay
	for pass := 0; pass < 2 && best == nil; pass++ {
		total := 0
		for _, r := range rs.relays {
			if r == skip || (pass == 0 && now.Before(r.downUntil)) {
				continue
			}
			r.current += r.Weight
			total += r.Weight
			if best == nil || r.current > best.current {
				best = r
			}
		}
		if best != nil {
			best.current -= total
		}
	}
	return best
}

// health marks a relay down when a connection to it could not be opened:
// for a second, doubling while it keeps failing, up to a minute.
func (rs *Relays) health(r *relay, unsent bool) {
	if len(rs.relays) == 1 {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if !unsent {
		r.downFor = 0
		return
	}
	r.downFor = min(max(time.Second, 2*r.downFor), time.Minute)
	r.downUntil = rs.opts.Now().Add(r.downFor)
	rs.log.Warn("relay unreachable; skipping it while another is up", "relay", r.Name, "for", r.downFor)
}

// throttled halves the relay's pace: its rates and its connections.
func (rs *Relays) throttled(r *relay) {
	now := rs.opts.Now()
	r.mu.Lock()
	r.factor = max(r.factor/2, minFactor)
	r.calmAt, r.raisedAt = now.Add(rs.opts.Backoff), now.Add(rs.opts.Backoff)
	r.throttles++
	factor := r.factor
	r.mu.Unlock()
	r.gate.setLimit(max(1, int(math.Ceil(float64(r.pool.cfg.MaxConns)*factor))))
	if rs.opts.Observer != nil {
		rs.opts.Observer.Throttle(r.Name)
	}
	rs.log.Warn("relay throttles; slowing down", "relay", r.Name, "pace", factor)
}

// recover adds a tenth of the full pace each Backoff/10 after the back-off
// has passed.
func (r *relay) recover(now time.Time, backoff time.Duration) {
	r.mu.Lock()
	if r.factor >= 1 || now.Before(r.calmAt) || now.Sub(r.raisedAt) < backoff/10 {
		r.mu.Unlock()
		return
	}
	r.factor = min(1, r.factor+0.1)
	r.raisedAt = now
	factor := r.factor
	r.mu.Unlock()
	r.gate.setLimit(max(1, int(math.Ceil(float64(r.pool.cfg.MaxConns)*factor))))
}

func (r *relay) pace() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.factor
}

// RelayState is how a relay of the set stands.
type RelayState struct {
	Name      string
	Weight    int
	Pace      float64 // share of the configured rate and connections in force: 1 unless throttled
	MaxConns  int     // connections allowed now
	Throttles int64   // throttling replies so far
	Up        bool    // false while skipped after failed connections
}

// State returns the state of each relay, in configuration order.
func (rs *Relays) State() []RelayState {
	now := rs.opts.Now()
	out := make([]RelayState, len(rs.relays))
	for i, r := range rs.relays {
		r.mu.Lock()
		out[i] = RelayState{Name: r.Name, Weight: r.Weight, Pace: r.factor, Throttles: r.throttles}
		r.mu.Unlock()
		rs.mu.Lock()
		out[i].Up = !now.Before(r.downUntil)
		rs.mu.Unlock()
		r.gate.mu.Lock()
		out[i].MaxConns = r.gate.limit
		r.gate.mu.Unlock()
	}
	return out
}

// Close closes every relay's pool.
func (rs *Relays) Close() error {
	var errs []error
	for _, r := range rs.relays {
		errs = append(errs, r.pool.Close())
	}
	return errors.Join(errs...)
}

// gate bounds the messages in flight through a relay below its pool's
// MaxConns while it is throttled.
type gate struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	waiting int
	wake    chan struct{} // closed when a slot frees or the limit rises
}

func (g *gate) enter(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.inUse < g.limit {
			g.inUse++
			g.mu.Unlock()
			return nil
		}
		if g.wake == nil {
			g.wake = make(chan struct{})
		}
		w := g.wake
		g.waiting++
		g.mu.Unlock()
		select {
		case <-w:
			g.mu.Lock()
			g.waiting--
			g.mu.Unlock()
		case <-ctx.Done():
			g.mu.Lock()
			g.waiting--
			g.mu.Unlock()
			return context.Cause(ctx)
		}
	}
}

// crowded says whether a sender waits for a slot, or the limit fell below
// the slots in use.
func (g *gate) crowded() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting > 0 || g.inUse > g.limit
}

func (g *gate) leave() {
	g.mu.Lock()
	g.inUse--
	g.wakeAll()
	g.mu.Unlock()
}

func (g *gate) setLimit(n int) {
	g.mu.Lock()
	g.limit = n
	g.wakeAll()
	g.mu.Unlock()
}

// wakeAll lets waiters look again; g.mu is held.
func (g *gate) wakeAll() {
	if g.waiting > 0 && g.wake != nil {
		close(g.wake)
		g.wake = nil
	}
}
