// Package inbound is the SMTP server of the bounce domain: what the mail
// system sends back to dearfriend. It accepts, at RCPT, only the VERP
// addresses bounce+<token>@<bounce domain> whose token is genuine, the
// feedback-loop address and the List-Unsubscribe mailto address; anything
// else is refused with 550 5.1.1. Delivery reports and complaints go, read by
// pkg/bounce, to a bounce.Sink; mail to the mailto address unsubscribes as
// the RFC 8058 one-click POST does (track.Unsubscriber). It owns the SMTP
// conversation and its limits only: it decides nothing about contacts and
// touches no storage itself.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// Unsubscriber unsubscribes the contact a List-Unsubscribe token names
// (track.Unsubscriber): a bad token is track.ErrBadToken.
type Unsubscriber interface {
	OneClick(ctx context.Context, token, agent string) error
}

var _ Unsubscriber = (*track.Unsubscriber)(nil)

// Config is what the server accepts mail for, and its limits. Zero limits
// take the defaults below.
type Config struct {
	// Domain is the bounce domain: bounce+<token>@Domain is accepted when
	// the token is genuine. Empty: no VERP address is accepted.
	Domain string
	// FeedbackAddress takes feedback-loop complaints (ARF reports); empty: none.
	FeedbackAddress string
	// UnsubscribeAddress is the List-Unsubscribe mailto address; empty: none.
	UnsubscribeAddress string

	MaxConns      int           // sessions at once; one more is answered 421 and closed (default 100)
	MaxBytes      int64         // largest message, refused with 552 (default bounce.MaxSize)
	MaxRecipients int           // recipients per message (default 50)
	Timeout       time.Duration // a command, or a whole message body, must arrive within it (default 2m)
	// TakeTimeout bounds one hand-over to the sink or the unsubscriber
	// (default 30s): past it, the sender is told to try again.
	TakeTimeout time.Duration
}

// Deps are the server's collaborators.
type Deps struct {
	Sink         bounce.Sink  // takes the events of reports and complaints
	Unsubscriber Unsubscriber // unsubscribes for mail to UnsubscribeAddress
	Signer       *track.Signer
	Log          *slog.Logger
	Now          func() time.Time // nil: time.Now
}

// The defaults of Config's limits.
const (
	DefaultMaxConns      = 100
	DefaultMaxRecipients = 50
	DefaultTimeout       = 2 * time.Minute
	defaultTakeTimeout   = 30 * time.Second
	// maxLineLength is far above RFC 5321's 1,000: real reports break it,
	// and a refused report is a lost one.
	maxLineLength = 64 << 10
)

// Server is the inbound SMTP server.
type Server struct {
	cfg  Config
	deps Deps
	smtp *smtp.Server

	mu sync.Mutex
	ln *limitListener // set by Serve
}

// New returns a server of cfg; Serve starts it.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Sink == nil || deps.Unsubscriber == nil || deps.Signer == nil || deps.Log == nil {
		return nil, errors.New("inbound: Sink, Unsubscriber, Signer and Log are required")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = bounce.MaxSize
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TakeTimeout <= 0 {
		cfg.TakeTimeout = defaultTakeTimeout
	}
	cfg.Domain = strings.ToLower(cfg.Domain)
	cfg.FeedbackAddress = strings.ToLower(cfg.FeedbackAddress)
	cfg.UnsubscribeAddress = strings.ToLower(cfg.UnsubscribeAddress)
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		lc, _ := c.Conn().(*limitConn)
		return &session{s: s, conn: lc, remote: c.Conn().RemoteAddr().String()}, nil
	}))
	srv.Domain = cfg.Domain
	if srv.Domain == "" {
		srv.Domain = "localhost"
	}
	srv.MaxMessageBytes = cfg.MaxBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.MaxLineLength = maxLineLength
	srv.ReadTimeout = cfg.Timeout
	srv.WriteTimeout = cfg.Timeout
	srv.ErrorLog = smtpLogger{deps.Log}
	s.smtp = srv
	return s, nil
}

// Serve answers the connections of ln until Shutdown or Close; it returns
// nil then.
func (s *Server) Serve(ln net.Listener) error {
	ll := newLimitListener(ln, s.cfg.MaxConns, s.smtp.Domain, s.deps.Log)
	s.mu.Lock()
	s.ln = ll
	s.mu.Unlock()
	err := s.smtp.Serve(ll)
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("inbound SMTP: %w", err)
	}
	return nil
}

// Shutdown stops listening, closes the sessions between messages, and waits
// for the messages under way to end, until ctx is done; then it closes what
// is left. A sender cut off retries: nothing it sent is lost.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.smtp.Shutdown(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ll := s.ln
		s.mu.Unlock()
		select {
		case err := <-done:
			if err != nil && ll != nil {
				ll.closeAll()
			}
			if errors.Is(err, smtp.ErrServerClosed) {
				return nil
			}
			return err
		case <-tick.C:
			if ll != nil {
				ll.closeIdle()
			}
		}
	}
}

// Close closes the listener and every session at once.
func (s *Server) Close() error {
	err := s.smtp.Close()
	s.mu.Lock()
	if s.ln != nil {
		s.ln.closeAll()
	}
	s.mu.Unlock()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// smtpLogger sends go-smtp's log lines to slog.
type smtpLogger struct{ l *slog.Logger }

func (l smtpLogger) Printf(format string, v ...any) {
	l.l.Warn("inbound SMTP", "detail", fmt.Sprintf(format, v...))
}

func (l smtpLogger) Println(v ...any) {
	l.l.Warn("inbound SMTP", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
