package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

func mustStartCapture(tb testing.TB, opts devsvc.CaptureOptions) *devsvc.Capture {
	tb.Helper()
	c, err := devsvc.StartCapture("", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func mustNewPool(tb testing.TB, cfg mailer.Config, opts ...mailer.Option) *mailer.Pool {
	tb.Helper()
	p, err := mailer.NewPool(cfg, nil, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func messageTo(to string) *mailer.Message {
	m := testMessage()
	m.ToEmail = to
	return m
}

func TestPoolSendArrivesIntact(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()})

	m := testMessage()
	res := pool.Send(t.Context(), m)
	if res.Status != mailer.StatusSent || res.Code != 250 {
		t.Fatalf("Send = %+v; want sent 250", res)
	}
	got := capture.Messages()
	if len(got) != 1 {
		t.Fatalf("capture has %d messages; want 1", len(got))
	}
	if got[0].From != m.EnvelopeFrom || !cmp.Equal(got[0].To, []string{m.ToEmail}) {
		t.Errorf("envelope = %q -> %q; want %q -> [%q]", got[0].From, got[0].To, m.EnvelopeFrom, m.ToEmail)
	}
	if got[0].Subject != m.Subject {
		t.Errorf("Subject = %q; want %q", got[0].Subject, m.Subject)
	}
	p := mustParse(t, got[0].Data)
	for name, want := range map[string]string{
		"Message-Id":            "<c12.s345@example.org>",
		"List-Unsubscribe":      m.Headers[0].Value,
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               "Forest Alerts <forest.example.org>",
		"X-Campaign":            "c12",
	} {
		if got := p.Header.Get(name); got != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
	if diff := cmp.Diff([]string{"text/plain; charset=UTF-8", "text/html; charset=UTF-8"}, p.PartTypes); diff != "" {
		t.Errorf("parts, text first (-want +got):\n%s", diff)
	}
	if crlfToLF(p.Text) != m.Text || p.HTML != m.HTML {
		t.Errorf("bodies changed on the way:\ntext %q\nhtml %q", p.Text, p.HTML)
	}
}

func TestPoolEnvelopeFromDefaultsToFrom(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()})
	m := testMessage()
	m.EnvelopeFrom = ""
	if res := pool.Send(t.Context(), m); res.Status != mailer.StatusSent {
		t.Fatalf("Send = %+v", res)
	}
	if got := capture.Messages()[0].From; got != m.FromEmail {
		t.Errorf("MAIL FROM = %q; want %q", got, m.FromEmail)
	}
}

func TestPoolAuth(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	// PLAIN over a plain connection is allowed to a loopback host only.
	pool := mustNewPool(t, mailer.Config{URL: "smtp://user:secret@" + capture.Addr()})
	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Fatalf("Send with AUTH PLAIN = %+v", res)
	}
}

func TestPoolMandatoryTLSRefusesPlainRelay(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr() + "?tls=mandatory"})
	res := pool.Send(t.Context(), testMessage())
	if res.Status != mailer.StatusDeferred || capture.Count() != 0 {
		t.Fatalf("Send = %+v, captured %d; want deferred and nothing sent", res, capture.Count())
	}
}

func TestPoolBoundsConnections(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	proxy := startProxy(t, capture.Addr())
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 2})

	const n = 100
	var wg sync.WaitGroup
	results := make(chan mailer.Result, n)
	for i := range n {
		wg.Go(func() { results <- pool.Send(t.Context(), messageTo(fmt.Sprintf("r%d@example.net", i))) })
	}
	wg.Wait()
	close(results)
	for res := range results {
		if res.Status != mailer.StatusSent {
			t.Fatalf("Send = %+v", res)
		}
	}
	if got := capture.Count(); got != n {
		t.Errorf("captured %d; want %d", got, n)
	}
	if got := proxy.total.Load(); got < 1 || got > 2 {
		t.Errorf("opened %d connections for %d messages; want 1 or 2", got, n)
	}
	if got := proxy.maxOpen.Load(); got > 2 {
		t.Errorf("%d connections open at once; want at most 2", got)
	}
}

func TestPoolMessagesPerConn(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	proxy := startProxy(t, capture.Addr())
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 1, MessagesPerConn: 3})
	for range 7 {
		if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
			t.Fatalf("Send = %+v", res)
		}
	}
	if got := proxy.total.Load(); got != 3 {
		t.Errorf("opened %d connections for 7 messages at 3 per connection; want 3", got)
	}
}

func TestPoolReplacesIdleConnections(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	proxy := startProxy(t, capture.Addr())
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), IdleTimeout: time.Minute}, mailer.WithClock(clock))

	for _, wait := range []time.Duration{0, 59 * time.Second, 61 * time.Second} {
		advance(wait)
		if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
			t.Fatalf("Send = %+v", res)
		}
	}
	if got := proxy.total.Load(); got != 2 {
		t.Errorf("opened %d connections; want 2 (reused after 59s idle, replaced after 61s)", got)
	}
}

func TestPoolRejections(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{
		Reject: func(_ string, to []string) error {
			switch to[0] {
			case "greylist@example.net":
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again later"}
			case "nobody@example.net":
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			case "closing@example.net":
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
			}
			return nil
		},
	})
	proxy := startProxy(t, capture.Addr())
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 1})

	tests := []struct {
		to   string
		want mailer.Result
	}{
		{"greylist@example.net", mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.7.1", Reply: "4.7.1 greylisted, try again later"}},
		{"ok@example.net", mailer.Result{Status: mailer.StatusSent, Code: 250}},
		{"nobody@example.net", mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "5.1.1 no such user"}},
		{"ok@example.net", mailer.Result{Status: mailer.StatusSent, Code: 250}},
	}
	for _, tt := range tests {
		got := pool.Send(t.Context(), messageTo(tt.to))
		if got.Status == mailer.StatusSent {
			got.Reply, got.Enhanced = "", "" // the capture's "OK: queued" text is not the point
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Send to %s (-want +got):\n%s", tt.to, diff)
		}
	}
	if got := capture.Count(); got != 2 {
		t.Errorf("captured %d; want the 2 accepted", got)
	}
	if got := proxy.total.Load(); got != 1 {
		t.Errorf("opened %d connections; want 1: a refusal leaves the session usable", got)
	}

	// 421 means the relay is closing the session: not reused.
	if got := pool.Send(t.Context(), messageTo("closing@example.net")); got.Status != mailer.StatusDeferred || got.Code != 421 {
		t.Errorf("Send to closing = %+v; want deferred 421", got)
	}
	if got := pool.Send(t.Context(), messageTo("ok@example.net")); got.Status != mailer.StatusSent {
		t.Errorf("Send after 421 = %+v", got)
	}
	if got := proxy.total.Load(); got != 2 {
		t.Errorf("opened %d connections; want 2 after a 421", got)
	}
}

// TestPoolDroppedConnection: the relay drops the connection mid-session; the
// message is deferred with no reply code, and the next one goes out on a
// fresh connection. The relay pipelines, so the drop comes before any reply
// to the message's commands, as on a stale connection: the message is tried
// once more on a fresh connection, which drops it too.
func TestPoolDroppedConnection(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	proxy := startProxy(t, capture.Addr())
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 1})

	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Fatalf("first Send = %+v", res)
	}
	proxy.dropAtData.Store(true)
	res := pool.Send(t.Context(), testMessage())
	if res.Status != mailer.StatusDeferred || res.Code != 0 {
		t.Errorf("Send on dropped connection = %+v; want deferred, code 0", res)
	}
	proxy.dropAtData.Store(false)
	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Errorf("Send after the drop = %+v; want sent", res)
	}
	if got, want := capture.Count(), int64(2); got != want {
		t.Errorf("captured %d; want %d", got, want)
	}
	if got := proxy.total.Load(); got != 3 {
		t.Errorf("opened %d connections; want 3", got)
	}
}

// TestPoolRetriesStaleConnection: the relay closed an idle connection; the
// next message finds out at MAIL FROM, before anything was accepted, and goes
// out on a fresh connection instead of being deferred.
func TestPoolRetriesStaleConnection(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	proxy := startProxy(t, capture.Addr())
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + proxy.Addr(), MaxConns: 1})

	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Fatalf("first Send = %+v", res)
	}
	proxy.closeAll()
	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Errorf("Send on a stale connection = %+v; want sent on a fresh one", res)
	}
	if got := capture.Count(); got != 2 {
		t.Errorf("captured %d; want 2", got)
	}
}

// TestPoolHonoursContext: a relay that never answers holds Send only until
// the context ends, not for the 30s command timeout.
func TestPoolHonoursContext(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // accept, then say nothing
		}
	}()
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + ln.Addr().String(), MaxConns: 1})

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := pool.Send(ctx, testMessage())
	if res.Status != mailer.StatusDeferred || res.Code != 0 {
		t.Errorf("Send = %+v; want deferred, code 0", res)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Send took %v after its context ended", took)
	}

	// The slot is free again: a second Send also ends with its context.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	if res := pool.Send(ctx2, testMessage()); res.Status != mailer.StatusDeferred {
		t.Errorf("second Send = %+v; want deferred", res)
	}
}

func TestPoolWaitsForFreeConnection(t *testing.T) {
	t.Parallel()
	atData, release := make(chan struct{}, 1), make(chan struct{})
	capture := mustStartCapture(t, devsvc.CaptureOptions{
		Reject: func(string, []string) error {
			atData <- struct{}{}
			<-release
			return nil
		},
	})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr(), MaxConns: 1})

	first := make(chan mailer.Result)
	go func() { first <- pool.Send(context.Background(), testMessage()) }()
	<-atData // the only connection is busy

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if res := pool.Send(ctx, testMessage()); res.Status != mailer.StatusDeferred || res.Code != 0 {
		t.Errorf("Send while the only connection is busy = %+v; want deferred when ctx ends", res)
	}
	close(release)
	if res := <-first; res.Status != mailer.StatusSent {
		t.Errorf("first Send = %+v", res)
	}
}

func TestPoolClosed(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()})
	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
		t.Fatalf("Send = %+v", res)
	}
	if err := pool.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if res := pool.Send(t.Context(), testMessage()); res.Status != mailer.StatusDeferred {
		t.Errorf("Send after Close = %+v; want deferred", res)
	}
}

func TestPoolInvalidMessage(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()})
	m := testMessage()
	m.Subject = "x\r\nBcc: everyone@example.net"
	if res := pool.Send(t.Context(), m); res.Status != mailer.StatusFailed || res.Code != 0 {
		t.Errorf("Send = %+v; want failed", res)
	}
	if capture.Count() != 0 {
		t.Error("an invalid message reached the relay")
	}
}

type signerFunc func(dst, msg []byte) ([]byte, error)

func (f signerFunc) Sign(dst, msg []byte) ([]byte, error) { return f(dst, msg) }

func TestPoolSigner(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	var signed []byte
	signing := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()}, mailer.WithSigner(signerFunc(func(dst, msg []byte) ([]byte, error) {
		signed = bytes.Clone(msg)
		return append(dst, "X-Test-Signature: ok\r\n"...), nil
	})))
	m := testMessage()
	if res := signing.Send(t.Context(), m); res.Status != mailer.StatusSent {
		t.Fatalf("Send = %+v", res)
	}
	data := capture.Messages()[0].Data
	if want := append([]byte("X-Test-Signature: ok\r\n"), mustBuildBytes(t, m)...); !bytes.Equal(data, want) {
		t.Errorf("sent message is not the signer's field then the built message:\n%s", data)
	}
	if !bytes.Equal(signed, mustBuildBytes(t, m)) {
		t.Errorf("the signer saw another message than Build writes:\n%s", signed)
	}

	failing := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()}, mailer.WithSigner(signerFunc(func(dst, _ []byte) ([]byte, error) {
		return dst, errors.New("no key")
	})))
	if res := failing.Send(t.Context(), testMessage()); res.Status != mailer.StatusFailed {
		t.Errorf("Send with a failing signer = %+v; want failed", res)
	}
	if got := capture.Count(); got != 1 {
		t.Errorf("captured %d; want 1", got)
	}
}

// proxy forwards TCP connections to an SMTP server, counting them, and can
// drop them: at the client's DATA command (and the commands pipelined with
// it), or all at once.
type proxy struct {
	ln         net.Listener
	target     string
	total      atomic.Int64
	open       atomic.Int64
	maxOpen    atomic.Int64
	dropAtData atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(client) })
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		p.closeAll()
		wg.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) serve(client net.Conn) {
	p.total.Add(1)
	open := p.open.Add(1)
	defer p.open.Add(-1)
	for {
		max := p.maxOpen.Load()
		if open <= max || p.maxOpen.CompareAndSwap(max, open) {
			break
		}
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	defer client.Close()
	defer server.Close()

	go func() {
		io.Copy(client, server)
		client.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if p.dropAtData.Load() && bytes.HasSuffix(buf[:n], []byte("DATA\r\n")) {
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// BenchmarkPoolSend sends through the pool to the capture server, both in
// this process: the cost of Build plus the SMTP conversation on loopback.
func BenchmarkPoolSend(b *testing.B) { benchmarkPoolSend(b, testMessage()) }

// BenchmarkPoolSendLarge is BenchmarkPoolSend with a 50 KB newsletter, the
// size at which the DATA writer showed in profiles.
func BenchmarkPoolSendLarge(b *testing.B) { benchmarkPoolSend(b, largeMessage()) }

// largeMessage is testMessage with about 25 KB of HTML and of text.
func largeMessage() *mailer.Message {
	m := testMessage()
	para := "Dear Friend, the forest needs you. Add your name before Friday: https://example.org/p/1?c=12&s=345\n"
	m.Text = strings.Repeat(para, 25<<10/len(para))
	m.HTML = strings.Repeat(`<p style="color:#333;font-family:Georgia,serif">`+para+"</p>\n", 25<<10/(len(para)+60))
	return m
}

func benchmarkPoolSend(b *testing.B, m *mailer.Message) {
	capture := mustStartCapture(b, devsvc.CaptureOptions{Limit: 100})
	pool := mustNewPool(b, mailer.Config{URL: "smtp://" + capture.Addr(), MaxConns: 4})
	b.ReportAllocs()
	b.SetParallelism(2) // more senders than connections, as in a worker
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := pool.Send(context.Background(), m); res.Status != mailer.StatusSent {
				b.Errorf("Send = %+v", res)
				return
			}
		}
	})
}

// TestPoolReplyAfterTheMessage: a relay that answers the final dot late is
// waited for as long as the URL's timeout says; past it, the message is
// unknown (it went out whole, the relay may have taken it), not deferred
// as if it had never been sent.
func TestPoolReplyAfterTheMessage(t *testing.T) {
	t.Parallel()
	const delay = 600 * time.Millisecond
	capture := mustStartCapture(t, devsvc.CaptureOptions{OnMessage: func(devsvc.Message) { time.Sleep(delay) }})
	for _, tt := range []struct {
		timeout string
		want    mailer.Status
	}{
		{"5s", mailer.StatusSent},
		{"200ms", mailer.StatusUnknown},
	} {
		t.Run(tt.timeout, func(t *testing.T) {
			pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr() + "?tls=none&timeout=" + tt.timeout})
			if res := pool.Send(t.Context(), testMessage()); res.Status != tt.want {
				t.Errorf("Send to a relay answering after %s with timeout=%s: %+v, want %s", delay, tt.timeout, res, tt.want)
			}
		})
	}
}
