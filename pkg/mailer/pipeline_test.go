package mailer_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// hookRelay is a real SMTP server (go-smtp, which offers PIPELINING) whose
// answers to MAIL FROM, RCPT TO and the data a test decides. A hook may
// close the connection (c.Conn().Close()) to drop it at that point.
type hookRelay struct {
	addr     string
	sessions atomic.Int64 // one per connection
	// trips counts round trips: reads that bring the client's bytes after
	// the relay wrote a reply, the client having waited for it.
	trips atomic.Int64
	conns connSet

	mail func(c *smtp.Conn, from string) error
	rcpt func(c *smtp.Conn, to string) error
	data func(c *smtp.Conn, to string) error // after the whole message was read

	mu       sync.Mutex
	accepted []string // the recipient of each accepted message
}

func startHookRelay(tb testing.TB, r *hookRelay) *hookRelay {
	tb.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		r.sessions.Add(1)
		return &hookSession{relay: r, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = discardLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(tripListener{Listener: ln, relay: r})
	}()
	tb.Cleanup(func() {
		srv.Close()
		ln.Close()
		<-done
	})
	return r
}

// tripListener counts the round trips of the relay's connections and
// keeps them, for dropAll.
type tripListener struct {
	net.Listener
	relay *hookRelay
}

func (l tripListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.relay.conns.add(c)
	return &tripConn{Conn: c, trips: &l.relay.trips}, nil
}

// connSet is the server side of the connections a relay accepted.
type connSet struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (s *connSet) add(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = append(s.conns, c)
}

// dropAll closes every connection, as a relay that restarts would.
func (s *connSet) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// tripConn is one server-side connection: a read that returns bytes after
// a write is the end of a round trip. go-smtp reads what the client wrote
// (pipelined commands included) from its buffer before it reads the
// connection again, so a group costs one.
type tripConn struct {
	net.Conn
	trips   *atomic.Int64
	written atomic.Bool
}

func (c *tripConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.written.Swap(false) {
		c.trips.Add(1)
	}
	return n, err
}

func (c *tripConn) Write(b []byte) (int, error) {
	c.written.Store(true)
	return c.Conn.Write(b)
}

func (r *hookRelay) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.accepted...)
}

type hookSession struct {
	relay *hookRelay
	conn  *smtp.Conn
	to    string
}

func (s *hookSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.relay.mail != nil {
		return s.relay.mail(s.conn, from)
	}
	return nil
}

func (s *hookSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.relay.rcpt != nil {
		if err := s.relay.rcpt(s.conn, to); err != nil {
			return err
		}
	}
	s.to = to
	return nil
}

func (s *hookSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if s.relay.data != nil {
		if err := s.relay.data(s.conn, s.to); err != nil {
			return err
		}
	}
	s.relay.mu.Lock()
	s.relay.accepted = append(s.relay.accepted, s.to)
	s.relay.mu.Unlock()
	return nil
}

func (s *hookSession) Reset()        { s.to = "" }
func (s *hookSession) Logout() error { return nil }

// wireLog records what the pool writes on each connection it dials, and
// can hide PIPELINING from its EHLO reply, as from a relay that does not
// offer it.
type wireLog struct {
	hidePipelining bool
	quiet          bool // records nothing: for benchmarks

	mu     sync.Mutex
	writes []string
}

func (l *wireLog) option() mailer.Option {
	return mailer.WithConnWrapper(func(c net.Conn) net.Conn { return &wireConn{Conn: c, log: l} })
}

// take returns the writes since the last take, EHLO and QUIT left out.
func (l *wireLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, w := range l.writes {
		if !strings.HasPrefix(w, "EHLO ") && w != "QUIT\r\n" {
			out = append(out, w)
		}
	}
	l.writes = nil
	return out
}

type wireConn struct {
	net.Conn
	log *wireLog
}

func (c *wireConn) Write(b []byte) (int, error) {
	if c.log.quiet {
		return c.Conn.Write(b)
	}
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, string(b))
	c.log.mu.Unlock()
	return c.Conn.Write(b)
}

// Read hides PIPELINING by renaming it to an extension of the same length
// that no client knows: go-smtp writes each EHLO line at once, so the word
// is never split between reads.
func (c *wireConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if c.log.hidePipelining {
		if i := bytes.Index(b[:n], []byte("250-PIPELINING\r\n")); i >= 0 {
			copy(b[i+4:], "XPIPELININ")
		}
	}
	return n, err
}

// message is how a test names a write of the whole message.
const message = "<message>"

// kinds names the writes: a message's data, final dot included, as
// message, followed by what was written behind it; the rest as written.
func kinds(writes []string) []string {
	out := make([]string, len(writes))
	for i, w := range writes {
		out[i] = w
		// Dot-stuffing leaves no lone dot inside a message: the first is
		// its end.
		if end := strings.Index(w, "\r\n.\r\n"); end >= 0 && strings.Contains(w[:end], "Subject: ") {
			out[i] = message + w[end+len("\r\n.\r\n"):]
		}
	}
	return out
}

func opening(to string) string {
	return "MAIL FROM:<bounce+c12.s345@example.org> BODY=8BITMIME\r\nRCPT TO:<" + to + ">\r\nDATA\r\n"
}

// TestPoolPipelinesTheOpening: with a relay that offers PIPELINING, a
// message costs two writes, each followed by one wait for replies: MAIL
// FROM, RCPT TO and DATA together, then the message. No RSET between
// messages that went through.
func TestPoolPipelinesTheOpening(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{})
	var wire wireLog
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
	wire.take()
	var want []string
	for _, to := range []string{"a@example.net", "b@example.net", "c@example.net"} {
		if res := pool.Send(t.Context(), messageTo(to)); res.Status != mailer.StatusSent {
			t.Fatalf("Send to %s = %+v", to, res)
		}
		want = append(want, opening(to), message)
	}
	if diff := cmp.Diff(want, kinds(wire.take())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a@example.net", "b@example.net", "c@example.net"}, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
}

// TestPoolPipelinedRefusals: each reply in a pipelined group is classified
// as when the commands go one at a time; a refused MAIL FROM or RCPT TO
// keeps the message off the wire; the session stays open, and the next
// message's commands start with an RSET in the same write (not after a
// refused message: its final dot ended the transaction). The same holds
// for a relay without PIPELINING, one command at a time.
func TestPoolPipelinedRefusals(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{
		rcpt: func(_ *smtp.Conn, to string) error {
			switch to {
			case "nobody@example.net":
				return refusal(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			case "greylist@example.net":
				return refusal(451, smtp.EnhancedCode{4, 7, 1}, "greylisted, try again later")
			}
			return nil
		},
		data: func(_ *smtp.Conn, to string) error {
			if to == "content@example.net" {
				return refusal(554, smtp.EnhancedCode{5, 6, 0}, "message content rejected")
			}
			return nil
		},
	})
	mailRelay := startHookRelay(t, &hookRelay{
		mail: func(*smtp.Conn, string) error {
			return refusal(451, smtp.EnhancedCode{4, 3, 0}, "sender queue full")
		},
	})
	mailRefused := startHookRelay(t, &hookRelay{
		mail: func(*smtp.Conn, string) error {
			return refusal(550, smtp.EnhancedCode{5, 1, 8}, "sender domain does not exist")
		},
	})

	tests := []struct {
		name   string
		relay  *hookRelay
		to     string
		want   mailer.Result
		reject bool // the relay refused before DATA: the message never goes out
	}{
		{"RCPT 550", relay, "nobody@example.net",
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "5.1.1 no such user"}, true},
		{"RCPT 451", relay, "greylist@example.net",
			mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.7.1", Reply: "4.7.1 greylisted, try again later"}, true},
		{"data 554", relay, "content@example.net",
			mailer.Result{Status: mailer.StatusFailed, Code: 554, Enhanced: "5.6.0", Reply: "5.6.0 message content rejected"}, false},
		{"MAIL 451", mailRelay, "ok@example.net",
			mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.3.0", Reply: "4.3.0 sender queue full"}, true},
		{"MAIL 550", mailRefused, "ok@example.net",
			mailer.Result{Status: mailer.StatusFailed, Code: 550, Enhanced: "5.1.8", Reply: "5.1.8 sender domain does not exist"}, true},
	}
	for _, pipelining := range []bool{true, false} {
		for _, tt := range tests {
			name := tt.name
			if !pipelining {
				name += ", no PIPELINING"
			}
			t.Run(name, func(t *testing.T) {
				wire := wireLog{hidePipelining: !pipelining}
				pool := mustNewPool(t, mailer.Config{URL: "smtp://" + tt.relay.addr, MaxConns: 1}, wire.option())
				sessions := tt.relay.sessions.Load()
				before := len(tt.relay.received())

				got := pool.Send(t.Context(), messageTo(tt.to))
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Send to %s (-want +got):\n%s", tt.to, diff)
				}
				writes := kinds(wire.take())
				if sent := writes[len(writes)-1] == message; sent == tt.reject {
					t.Errorf("writes %q: message written %v; want %v", writes, sent, !tt.reject)
				}

				// The next message on the same session starts with RSET
				// after a refused command; the final dot ends a transaction
				// whatever the reply to it (RFC 5321 §4.1.1.4).
				next := pool.Send(t.Context(), messageTo("ok@example.net"))
				writes = kinds(wire.take())
				want := []string{opening("ok@example.net"), message}
				if !pipelining {
					want = []string{"MAIL FROM:<bounce+c12.s345@example.org> BODY=8BITMIME\r\n",
						"RCPT TO:<ok@example.net>\r\n", "DATA\r\n", message}
				}
				switch {
				case tt.reject && pipelining:
					want[0] = "RSET\r\n" + want[0]
				case tt.reject:
					want = append([]string{"RSET\r\n"}, want...)
				}
				if tt.relay == relay {
					if next.Status != mailer.StatusSent {
						t.Errorf("next Send = %+v; want sent", next)
					}
				} else if pipelining { // MAIL FROM refused again
					want = want[:1]
				} else {
					want = want[:2]
				}
				if diff := cmp.Diff(want, writes); diff != "" {
					t.Errorf("writes of the next message (-want +got):\n%s", diff)
				}
				if got := tt.relay.sessions.Load() - sessions; got != 1 {
					t.Errorf("%d connections; want 1: a refusal leaves the session usable", got)
				}
				var wantAccepted []string
				if tt.relay == relay {
					wantAccepted = []string{"ok@example.net"}
				}
				if diff := cmp.Diff(wantAccepted, tt.relay.received()[before:]); diff != "" {
					t.Errorf("relay accepted (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// BenchmarkPoolSendRTT sends through the pool to the capture server 10 ms
// away (devsvc.LatencyProxy), over 8 connections: one message per Send from
// 16 senders, with and without PIPELINING, and through 8 lanes, one per
// connection, as the worker's senders do. msg/s is the figure to read: at
// most 8 / (2 × 10 ms) = 400 pipelined, 8 / (4 × 10 ms) = 200 not, and
// 8 / 10 ms = 800 through lanes, the next message's commands written with
// the data of the one before.
func BenchmarkPoolSendRTT(b *testing.B) {
	capture := mustStartCapture(b, devsvc.CaptureOptions{Limit: 100})
	proxy, err := devsvc.StartLatencyProxy(capture.Addr(), 10*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proxy.Close() })
	m := largeMessage()
	for _, mode := range []string{"pipelining", "one command at a time", "lanes"} {
		b.Run(mode, func(b *testing.B) {
			wire := wireLog{hidePipelining: mode == "one command at a time", quiet: true}
			pool := mustNewPool(b, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 8}, wire.option())
			if mode == "lanes" {
				// One sender per connection: GOMAXPROCS × p goroutines.
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			} else {
				b.SetParallelism(16) // more senders than connections, as in a worker
			}
			b.RunParallel(func(pb *testing.PB) {
				check := func(results []mailer.Result) bool {
					for _, res := range results {
						if res.Status != mailer.StatusSent {
							b.Errorf("Send = %+v", res)
							return false
						}
					}
					return true
				}
				if mode != "lanes" {
					for pb.Next() {
						if !check([]mailer.Result{pool.Send(context.Background(), m)}) {
							return
						}
					}
					return
				}
				lane := pool.Lane()
				for pb.Next() {
					if !check(lane.Send(context.Background(), m)) {
						return
					}
				}
				check(lane.Flush(context.Background()))
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}

// refusal is the error a go-smtp hook answers with to refuse a command.
func refusal(code int, enh smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}
