package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// ErrPoolClosed is the reply text of a Send on a closed Pool.
var ErrPoolClosed = errors.New("mailer: pool is closed")

// Signer signs a built message before it is sent: the seam for DKIM
// (DKIMSigner). Sign appends to dst the header fields to put in front of msg,
// each ending in CRLF. msg may share dst's array, so Sign must not write to
// it. An error fails the message (StatusFailed).
type Signer interface {
	Sign(dst, msg []byte) ([]byte, error)
}

// Option changes how a Pool works.
type Option func(*Pool)

// WithSigner signs every message with s before it is sent.
func WithSigner(s Signer) Option { return func(p *Pool) { p.signer = s } }

// WithTLSConfig sets the TLS configuration for STARTTLS and smtps, e.g. to
// trust a private CA. The pool uses a copy, with ServerName set to the
// URL's host when empty.
func WithTLSConfig(cfg *tls.Config) Option { return func(p *Pool) { p.userTLS = cfg } }

// WithClock replaces time.Now, which the pool uses to tell how long a
// connection has been idle.
func WithClock(now func() time.Time) Option { return func(p *Pool) { p.now = now } }

// Pool sends messages over a bounded set of kept-open SMTP connections. It is
// safe for concurrent use.
type Pool struct {
	cfg       Config
	client    *mail.Client
	tlsConfig *tls.Config // for smtps only: TLS from the first byte
	userTLS   *tls.Config
	logger    *slog.Logger
	signer    Signer
	now       func() time.Time
	wrapConn  func(net.Conn) net.Conn // for tests: sees every TCP write

	// bufs holds the buffers messages are written into (*[]byte): a
	// message then costs no allocation for its wire form.
	bufs sync.Pool

	// busy holds one token per Send that holds a connection. A Send only
	// dials when no connection is idle, so connections open never exceed
	// cap(busy).
	busy chan struct{}
	// waiting counts the Sends waiting for a slot in busy.
	waiting atomic.Int64

	mu     sync.Mutex
	idle   []*conn // most recently used last
	closed bool
}

// conn is one open SMTP session.
type conn struct {
	sc       *smtp.Client
	nc       *abortConn
	sent     int
	reused   bool // has been handed to an earlier Send
	lastUsed time.Time

	pipelining bool   // the relay offers PIPELINING (RFC 2920)
	mailParams string // MAIL FROM parameters, as go-mail sends them
	// dirty: the last transaction did not end with the relay's reply to
	// its data; the next one starts with RSET.
	dirty bool
	// broken: a write failed or a reply was missing or unreadable; the
	// session is out of step and must not be reused.
	broken bool
	cmds   []byte    // the opening commands of a transaction opened alone
	steps  []command // where each of them ends in cmds
}

// NewPool checks cfg and prepares a pool; it opens no connection until the
// first Send. Zero fields in cfg take their value from the URL's query, then
// the defaults.
func NewPool(cfg Config, logger *slog.Logger, opts ...Option) (*Pool, error) {
	fromURL, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	ep, _, _ := parseEndpoint(cfg.URL) // already checked by ParseURL
	for _, f := range []struct {
		name string
		neg  bool
	}{
		{"MaxConns", cfg.MaxConns < 0},
		{"MessagesPerConn", cfg.MessagesPerConn < 0},
		{"Timeout", cfg.Timeout < 0},
		{"IdleTimeout", cfg.IdleTimeout < 0},
	} {
		if f.neg {
			return nil, fmt.Errorf("mailer: %s is negative; want 0 for the default or a positive value", f.name)
		}
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = fromURL.MaxConns
	}
	if cfg.MessagesPerConn == 0 {
		cfg.MessagesPerConn = fromURL.MessagesPerConn
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = fromURL.Timeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = fromURL.IdleTimeout
	}
	if cfg.HeloName == "" {
		cfg.HeloName = fromURL.HeloName
	} else if err := checkHelo(cfg.HeloName); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	p := &Pool{
		cfg:    cfg,
		logger: logger,
		now:    time.Now,
		busy:   make(chan struct{}, cfg.MaxConns),
		bufs:   sync.Pool{New: func() any { return new([]byte) }},
	}
	for _, opt := range opts {
		opt(p)
	}
	tlsConfig := &tls.Config{ServerName: ep.host, MinVersion: tls.VersionTLS12}
	if p.userTLS != nil {
		tlsConfig = p.userTLS.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = ep.host
		}
	}
	if ep.implicitTLS {
		p.tlsConfig = tlsConfig
	}

	// go-mail dials, greets, negotiates TLS and authenticates; the pool
	// drives each transaction itself (see transact).
	clientOpts := []mail.Option{
		mail.WithPort(ep.port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithTLSPolicy(ep.tlsPolicy),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(p.dial),
	}
	if cfg.HeloName != "" {
		clientOpts = append(clientOpts, mail.WithHELO(cfg.HeloName))
	}
	if ep.user != "" {
		clientOpts = append(clientOpts,
			mail.WithSMTPAuth(ep.auth), mail.WithUsername(ep.user), mail.WithPassword(ep.pass))
	}
	p.client, err = mail.NewClient(ep.host, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: %w", err)
	}
	return p, nil
}

// Send delivers one message on a kept-open connection from the pool, dialing
// when none is idle, up to MaxConns; when all are busy it waits, and gives up
// when ctx ends. Cancelling ctx also aborts a conversation in progress. It
// is a Lane of one message: see Lane for a sender with more to send.
//
// A connection that fails without a reply is closed, never reused; if that
// happens at MAIL FROM on a connection that had been idle (the relay dropped
// it meanwhile), the message is sent once more on a fresh connection, which
// cannot duplicate it since the relay had not accepted anything. Failures
// before MAIL FROM (dial, greeting, STARTTLS, AUTH) are Deferred whatever the
// reply code: they are about the relay, not the recipient.
func (p *Pool) Send(ctx context.Context, m *Message) Result {
	l := poolLane{p: p}
	l.send(ctx, m, time.Time{})
	l.flush(ctx)
	return l.ended[0].res
}

// build makes m's transaction: the message built, signed, and dot-stuffed
// with its final dot, in a buffer of p.bufs. ok is false, with the result,
// when it cannot be built.
func (p *Pool) build(m *Message, start time.Time) (t *transaction, res Result, ok bool) {
	t = &transaction{from: m.EnvelopeFrom, to: m.ToEmail, start: start}
	if t.from == "" {
		t.from = m.FromEmail
	}
	buf := p.bufs.Get().(*[]byte)
	defer p.putBuf(buf)
	raw, err := AppendMessage((*buf)[:0], m)
	*buf = raw
	if err != nil {
		return t, Classify(err), false
	}
	var header []byte
	if p.signer != nil {
		// The signature goes after the message in the same buffer, and on
		// the wire in front of it.
		signed, err := p.signer.Sign(raw, raw)
		*buf = signed
		if err != nil {
			return t, Result{Status: StatusFailed, Reply: "sign: " + err.Error()}, false
		}
		header = signed[len(raw):]
	}
	t.buf = p.bufs.Get().(*[]byte)
	w, st := appendDotStuffed((*t.buf)[:0], header, dotBegin)
	w, st = appendDotStuffed(w, raw, st)
	t.wire = appendDotEnd(w, st)
	*t.buf = t.wire
	return t, Result{}, true
}

// putBuf returns a buffer to p.bufs, unless an unusually large message
// made it too big to keep around.
func (p *Pool) putBuf(b *[]byte) {
	if cap(*b) > 4<<20 {
		return
	}
	*b = (*b)[:0]
	p.bufs.Put(b)
}

// verdict is what err, the end of t's conversation on c, means for t: its
// result, and whether the session must be closed (no reply, a 421, the
// context ended: aborted). retry: it broke at MAIL FROM on a connection that
// had been idle, so nothing of t was taken and a fresh connection may try.
// A message the relay took counts toward MessagesPerConn.
func (p *Pool) verdict(ctx context.Context, c *conn, t *transaction, err error, aborted bool) (res Result, closing, retry bool) {
	if err == nil {
		c.sent++
		res = Result{Status: StatusSent, Code: 250, Reply: t.reply}
		res.Enhanced = enhancedCode(res.Reply)
		// Sent, but when the context ended just after, the connection's
		// deadline is gone for good.
		return res, aborted, false
	}
	res = Classify(err)
	if aborted {
		res = Result{Status: StatusDeferred, Reply: context.Cause(ctx).Error()}
	}
	var se *smtpError
	errors.As(err, &se)
	if se != nil && se.stage == stageReply && res.Code == 0 {
		// No reply to the final dot: the relay may have taken the
		// message, so it must not be sent again as if it had not.
		res = Result{Status: StatusUnknown, Reply: "no reply after the message was sent: " + res.Reply}
	}
	if c.broken || res.Code == 0 || res.Code == 421 || aborted {
		// No reply, or the relay is closing: the session is unusable.
		retry = c.reused && !aborted && se != nil && se.stage <= stageMailFrom
		return res, true, retry
	}
	// A refusal: the session is in step.
	return res, false, false
}

// done gives c back after a transaction: closed when closing, else kept
// for the next one unless it carried MessagesPerConn.
func (p *Pool) done(c *conn, closing bool, cause error) {
	if closing {
		p.discard(c, cause)
		return
	}
	p.release(c, c.sent < p.cfg.MessagesPerConn, "messages_per_conn reached")
}

// acquire waits for a free slot, then takes an idle connection or dials one.
func (p *Pool) acquire(ctx context.Context) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	select {
	case p.busy <- struct{}{}:
	default:
		// Lanes holding a connection give it up after their message
		// under way (Lane.Send) while someone waits here.
		p.waiting.Add(1)
		select {
		case p.busy <- struct{}{}:
			p.waiting.Add(-1)
		case <-ctx.Done():
			p.waiting.Add(-1)
			return nil, context.Cause(ctx)
		}
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.busy
			return nil, ErrPoolClosed
		}
		var c *conn
		if n := len(p.idle); n > 0 {
			c, p.idle = p.idle[n-1], p.idle[:n-1]
		}
		p.mu.Unlock()
		if c == nil {
			break
		}
		if p.now().Sub(c.lastUsed) > p.cfg.IdleTimeout {
			p.quit(c, "idle_timeout reached")
			continue
		}
		c.reused = true
		return c, nil
	}

	c, err := p.open(ctx)
	if err != nil {
		<-p.busy
		return nil, err
	}
	return c, nil
}

// dialKey carries a *dialSlot through go-mail's dial to p.dial.
type dialKey struct{}

// dialSlot hands the connection p.dial makes back to open, which go-mail does
// not do when the greeting, STARTTLS or AUTH fails.
type dialSlot struct {
	mu      sync.Mutex
	nc      *abortConn
	aborted bool
}

func (s *dialSlot) set(nc *abortConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nc = nc
	if s.aborted {
		nc.abort()
	}
}

func (s *dialSlot) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	if s.nc != nil {
		s.nc.abort()
	}
}

func (p *Pool) open(ctx context.Context) (*conn, error) {
	slot := &dialSlot{}
	stop := context.AfterFunc(ctx, slot.abort)
	sc, err := p.client.DialToSMTPClientWithContext(context.WithValue(ctx, dialKey{}, slot))
	aborted := !stop()
	if err == nil && aborted {
		_ = sc.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		if slot.nc != nil {
			_ = slot.nc.Close()
		}
		if aborted {
			err = context.Cause(ctx)
		}
		p.logger.Debug("smtp connect failed", "addr", p.client.ServerAddr(), "error", err)
		return nil, err
	}
	c := &conn{sc: sc, nc: slot.nc}
	c.pipelining, _ = sc.Extension("PIPELINING")
	if ok, _ := sc.Extension("8BITMIME"); ok {
		c.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		c.mailParams += " SMTPUTF8"
	}
	p.logger.Debug("smtp connection opened", "addr", p.client.ServerAddr(), "pipelining", c.pipelining)
	return c, nil
}

// dial is go-mail's dialer: it wraps the connection so that a cancelled
// context can interrupt it, and sets up TLS for smtps.
func (p *Pool) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if p.wrapConn != nil {
		raw = p.wrapConn(raw)
	}
	nc := &abortConn{Conn: raw}
	if slot, ok := ctx.Value(dialKey{}).(*dialSlot); ok {
		slot.set(nc)
	}
	if p.tlsConfig == nil {
		return nc, nil
	}
	tc := tls.Client(nc, p.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return tc, nil
}

func (p *Pool) release(c *conn, keep bool, why string) {
	if keep {
		c.lastUsed = p.now()
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, c)
			p.mu.Unlock()
			<-p.busy
			return
		}
		p.mu.Unlock()
		why = "pool closed"
	}
	p.quit(c, why)
	<-p.busy
}

// discard drops a broken connection without a goodbye.
func (p *Pool) discard(c *conn, cause error) {
	_ = c.sc.Close()
	p.logger.Debug("smtp connection dropped", "addr", p.client.ServerAddr(), "error", cause)
	<-p.busy
}

// quit ends a healthy session politely.
func (p *Pool) quit(c *conn, why string) error {
	err := c.sc.Quit()
	if err != nil {
		_ = c.sc.Close()
	}
	p.logger.Debug("smtp connection closed", "addr", p.client.ServerAddr(), "reason", why, "error", err)
	return err
}

// Close closes idle connections and makes further Sends fail as Deferred.
// Connections in use are closed when their Send returns.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	var errs []error
	for _, c := range idle {
		if err := p.quit(c, "pool closed"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// abortConn lets a cancelled context interrupt blocked reads and writes:
// go-mail holds its own lock for the whole of each SMTP command, so the
// deadline has to be forced from below, and kept in the past even when
// go-mail extends it afterwards.
type abortConn struct {
	net.Conn
	mu      sync.Mutex
	aborted bool
}

var past = time.Unix(1, 0)

func (c *abortConn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aborted = true
	_ = c.Conn.SetDeadline(past)
}

func (c *abortConn) SetDeadline(t time.Time) error { return c.set(c.Conn.SetDeadline, t) }

func (c *abortConn) SetReadDeadline(t time.Time) error { return c.set(c.Conn.SetReadDeadline, t) }

func (c *abortConn) SetWriteDeadline(t time.Time) error { return c.set(c.Conn.SetWriteDeadline, t) }

// set applies a deadline, or the past once the connection was aborted, so a
// later deadline cannot undo an abort.
func (c *abortConn) set(setter func(time.Time) error, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		t = past
	}
	return setter(t)
}
