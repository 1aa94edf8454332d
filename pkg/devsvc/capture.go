package devsvc

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	defaultCaptureLimit = 1000
	defaultKeepBatch    = 500
	maxMessageBytes     = 32 << 20
	// Long enough that a sender's kept-open connection survives pauses
	// between batches; short enough that abandoned connections go away.
	captureIdleTimeout = 5 * time.Minute
)

// CaptureOptions configures a Capture. The zero value is ready to use.
type CaptureOptions struct {
	// Limit is how many messages to keep for Messages and Message; older
	// ones are dropped, Count keeps counting. 0 means 1000.
	Limit int
	// OnMessage, if set, is called for every accepted message, on the
	// connection's goroutine, after the message is stored. Data must not be
	// modified.
	OnMessage func(Message)
	// Reject, if set, is a fault hook consulted once per message when the
	// client sends DATA, before the body is read. A non-nil error refuses the
	// message: an *smtp.SMTPError is sent as is (e.g. 451 or 550), ErrDrop
	// closes the connection without an answer, any other error is sent as
	// 554. A refused message is neither counted nor kept.
	Reject func(from string, to []string) error
	// Keep, if set, keeps accepted messages beyond the process (embedded
	// mode keeps them in its database). Messages that arrive on other
	// connections while a call runs are handed to the next call together,
	// up to KeepBatch at a time: one write for many messages. A message's
	// "250" waits for the call that keeps it, so a sender that saw it
	// accepted finds it kept; an error answers 451 (try again later) and
	// the message is neither counted nor kept in memory.
	Keep func(ctx context.Context, msgs []Message) error
	// KeepBatch bounds the messages of one Keep call; 0 means 500.
	KeepBatch int
	// Now is the clock that stamps Message.Received; nil means time.Now.
	Now func() time.Time
	// Logger receives connection-level errors; nil discards them.
	Logger *slog.Logger
}

// ErrDrop, returned by CaptureOptions.Reject, drops the connection in the
// middle of DATA, as a relay that crashed or a network that failed would.
var ErrDrop = errors.New("devsvc: drop the connection")

// Message is one accepted message.
type Message struct {
	ID       int64 // 1, 2, 3... in order of acceptance
	From     string
	To       []string
	Received time.Time
	Data     []byte // raw RFC 5322 bytes, as received; shared, do not modify
	Subject  string // decoded from RFC 2047
}

// Capture is a real SMTP server that accepts every message and keeps the most
// recent ones for the outbox page and for tests. Plain SMTP: no TLS, no
// authentication required (AUTH PLAIN is accepted with any credentials, for
// clients that insist).
type Capture struct {
	limit     int
	onMessage func(Message)
	reject    func(string, []string) error
	now       func() time.Time

	srv    *smtp.Server
	ln     net.Listener
	addr   string
	served chan struct{}

	mu   sync.Mutex
	seq  atomic.Int64 // ID of the newest message; written under mu
	ring []Message    // message with ID n sits at (n-1) % limit

	keeper *keeper // nil without CaptureOptions.Keep
}

// StartCapture starts a capture server listening on addr; "" means 127.0.0.1
// on a free port.
func StartCapture(addr string, opts CaptureOptions) (*Capture, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("devsvc: capture limit %d: must not be negative", opts.Limit)
	}
	c := &Capture{
		limit:     opts.Limit,
		onMessage: opts.OnMessage,
		reject:    opts.Reject,
		now:       opts.Now,
		served:    make(chan struct{}),
	}
	if c.limit == 0 {
		c.limit = defaultCaptureLimit
	}
	if c.now == nil {
		c.now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	if opts.KeepBatch < 0 {
		return nil, fmt.Errorf("devsvc: keep batch %d: must not be negative", opts.KeepBatch)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devsvc: start smtp capture on %s: %w", addr, err)
	}
	if opts.Keep != nil {
		c.keeper = startKeeper(opts.Keep, cmp.Or(opts.KeepBatch, defaultKeepBatch))
	}
	c.ln = ln
	c.addr = ln.Addr().String()

	srv := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		return &captureSession{c: c, conn: conn}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = maxMessageBytes
	srv.ReadTimeout = captureIdleTimeout
	srv.WriteTimeout = captureIdleTimeout
	srv.ErrorLog = smtpLogger{logger}
	c.srv = srv

	go func() {
		defer close(c.served)
		if err := srv.Serve(ln); err != nil {
			logger.Warn("smtp capture stopped", "addr", c.addr, "error", err)
		}
	}()
	return c, nil
}

// Addr is the host:port the server listens on.
func (c *Capture) Addr() string { return c.addr }

// Count is the number of messages accepted since the server started.
func (c *Capture) Count() int64 { return c.seq.Load() }

// Messages returns the kept messages, newest first.
func (c *Capture) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	newest := c.seq.Load()
	out := make([]Message, 0, len(c.ring))
	for id := newest; id > newest-int64(len(c.ring)); id-- {
		out = append(out, c.ring[c.slot(id)])
	}
	return out
}

// Message returns the message with the given ID, if it is still kept.
func (c *Capture) Message(id int64) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	newest := c.seq.Load()
	if id < 1 || id > newest || id <= newest-int64(len(c.ring)) {
		return Message{}, false
	}
	return c.ring[c.slot(id)], true
}

// Close stops accepting connections, closes open ones and waits for the
// server to stop.
func (c *Capture) Close() error {
	err := c.srv.Close()
	// The server learns of its listener only once Serve runs; a Close
	// before that would leave Serve waiting in Accept.
	c.ln.Close()
	<-c.served
	if c.keeper != nil {
		c.keeper.stop()
	}
	return err
}

func (c *Capture) slot(id int64) int { return int((id - 1) % int64(c.limit)) }

func (c *Capture) store(m *Message) {
	c.mu.Lock()
	m.ID = c.seq.Load() + 1
	if len(c.ring) < c.limit {
		c.ring = append(c.ring, *m)
	} else {
		c.ring[c.slot(m.ID)] = *m
	}
	c.seq.Store(m.ID)
	c.mu.Unlock()
}

// captureSession is one SMTP connection's state.
type captureSession struct {
	c    *Capture
	conn *smtp.Conn
	from string
	to   []string
}

var _ smtp.AuthSession = (*captureSession)(nil)

func (s *captureSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *captureSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}

func (s *captureSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *captureSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *captureSession) Data(r io.Reader) error {
	if s.c.reject != nil {
		if err := s.c.reject(s.from, s.to); errors.Is(err, ErrDrop) {
			s.conn.Conn().Close()
			return err
		} else if err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	buf.Grow(16 << 10)
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	data := buf.Bytes()
	m := Message{
		From:     s.from,
		To:       s.to,
		Received: s.c.now(),
		Data:     data,
		Subject:  headerValue(data, "Subject"),
	}
	if s.c.keeper != nil {
		if err := s.c.keeper.keep(m); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not keep the message, try again later"}
		}
	}
	s.c.store(&m)
	if s.c.onMessage != nil {
		s.c.onMessage(m)
	}
	return nil
}

// Reset starts a new transaction. The recipients slice is handed to the
// stored message, so it is replaced rather than truncated.
func (s *captureSession) Reset() {
	s.from = ""
	s.to = nil
}

func (s *captureSession) Logout() error { return nil }

// headerValue returns the first header field called name in the raw message,
// unfolded and decoded from RFC 2047. It reads only the header section and
// allocates only for the result: every message goes through it.
func headerValue(data []byte, name string) string {
	var wordDecoder mime.WordDecoder
	for len(data) > 0 {
		line, rest := cutLine(data)
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return "" // end of the header section
		}
		data = rest
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || !strings.EqualFold(string(line[:colon]), name) {
			continue
		}
		value := strings.TrimSpace(string(line[colon+1:]))
		for len(data) > 0 && (data[0] == ' ' || data[0] == '\t') {
			line, data = cutLine(data)
			value += " " + strings.TrimSpace(string(line))
		}
		if decoded, err := wordDecoder.DecodeHeader(value); err == nil {
			return decoded
		}
		return value
	}
	return ""
}

func cutLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return bytes.TrimRight(data[:i], "\r"), data[i+1:]
	}
	return data, nil
}

// smtpLogger sends go-smtp's log lines to slog.
type smtpLogger struct{ l *slog.Logger }

func (l smtpLogger) Printf(format string, v ...any) {
	l.l.Warn("smtp capture", "detail", fmt.Sprintf(format, v...))
}

func (l smtpLogger) Println(v ...any) {
	l.l.Warn("smtp capture", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
