package mailer_test

import (
	"bytes"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

var errDropped = errors.New("dropped")

// TestPoolDroppedMidPipeline: a relay that drops the connection before
// the message went out leaves it deferred, with no reply code, and
// nothing was taken; one that drops it after the whole message went out
// may have taken it: unknown. The pool opens a fresh connection for the
// next message either way.
func TestPoolDroppedMidPipeline(t *testing.T) {
	t.Parallel()
	drop := func(c *smtp.Conn, addr string) error {
		if addr == "drop@example.net" {
			c.Conn().Close()
			return errDropped
		}
		return nil
	}
	tests := []struct {
		name  string
		relay *hookRelay
		want  mailer.Status
	}{
		{"after the reply to MAIL FROM", &hookRelay{rcpt: drop}, mailer.StatusDeferred},
		{"after the message", &hookRelay{data: drop}, mailer.StatusUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relay := startHookRelay(t, tt.relay)
			pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1})
			res := pool.Send(t.Context(), messageTo("drop@example.net"))
			if res.Status != tt.want || res.Code != 0 {
				t.Errorf("Send = %+v; want %v with no reply code", res, tt.want)
			}
			if res := pool.Send(t.Context(), messageTo("ok@example.net")); res.Status != mailer.StatusSent {
				t.Errorf("next Send = %+v; want sent", res)
			}
			if diff := cmp.Diff([]string{"ok@example.net"}, relay.received()); diff != "" {
				t.Errorf("relay accepted (-want +got):\n%s", diff)
			}
			if got := relay.sessions.Load(); got != 2 {
				t.Errorf("%d connections; want 2", got)
			}
		})
	}
}

// TestPoolStaleConnectionPipelined: a kept-open connection the relay drops
// at the pipelined commands, before any reply, is like one that went stale:
// nothing can have been taken, so the message goes out on a fresh one.
func TestPoolStaleConnectionPipelined(t *testing.T) {
	t.Parallel()
	var mails atomic.Int64
	relay := startHookRelay(t, &hookRelay{mail: func(c *smtp.Conn, _ string) error {
		if mails.Add(1) == 2 { // the second message's, on the kept-open connection
			c.Conn().Close()
			return errDropped
		}
		return nil
	}})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1})
	for _, to := range []string{"first@example.net", "second@example.net"} {
		if res := pool.Send(t.Context(), messageTo(to)); res.Status != mailer.StatusSent {
			t.Errorf("Send to %s = %+v; want sent", to, res)
		}
	}
	if diff := cmp.Diff([]string{"first@example.net", "second@example.net"}, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
	if got := relay.sessions.Load(); got != 2 {
		t.Errorf("%d connections; want 2", got)
	}
}

// TestPoolPipelinedTimeout: a relay that does not answer the pipelined
// commands within the timeout leaves the message deferred (it never went
// out), not unknown, and its connection is not reused.
func TestPoolPipelinedTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	relay := startHookRelay(t, &hookRelay{rcpt: func(_ *smtp.Conn, to string) error {
		if to == "slow@example.net" {
			<-release
		}
		return nil
	}})
	t.Cleanup(func() { close(release) }) // before the relay stops
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1, Timeout: 200 * time.Millisecond})
	res := pool.Send(t.Context(), messageTo("slow@example.net"))
	if res.Status != mailer.StatusDeferred || res.Code != 0 || !strings.Contains(res.Reply, "timeout") {
		t.Errorf("Send = %+v; want deferred by a timeout, no reply code", res)
	}
	if res := pool.Send(t.Context(), messageTo("ok@example.net")); res.Status != mailer.StatusSent {
		t.Errorf("next Send = %+v; want sent", res)
	}
	if got := relay.sessions.Load(); got != 2 {
		t.Errorf("%d connections; want 2: a timed-out session is not reused", got)
	}
}

// TestPoolLoneDotAfterRefusedRecipient: a relay that refuses the recipient
// and still answers DATA with 354, against RFC 2920, gets the lone dot that
// ends empty data and never the message; the session goes on. go-smtp
// does not misbehave like that, so this relay is scripted.
func TestPoolLoneDotAfterRefusedRecipient(t *testing.T) {
	t.Parallel()
	relay := startScriptedRelay(t)
	var wire wireLog
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
	res := pool.Send(t.Context(), messageTo("nobody@example.net"))
	want := mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "5.1.1 no such user"}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Send (-want +got):\n%s", diff)
	}
	if res := pool.Send(t.Context(), messageTo("ok@example.net")); res.Status != mailer.StatusSent {
		t.Errorf("next Send = %+v; want sent", res)
	}
	wantWrites := []string{opening("nobody@example.net"), ".\r\n", "RSET\r\n" + opening("ok@example.net"), message}
	if diff := cmp.Diff(wantWrites, kinds(wire.take())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	// ReadDotBytes gives the data with LF line ends.
	built := bytes.ReplaceAll(mustBuildBytes(t, messageTo("ok@example.net")), []byte("\r\n"), []byte("\n"))
	if diff := cmp.Diff([]int{0, len(built)}, relay.dataSizes()); diff != "" {
		t.Errorf("sizes of the data the relay got (-want +got):\n%s", diff)
	}
}

// TestPoolOddReplies: a refusal on several lines is read whole and
// classified; a reply that does not parse leaves the message deferred with
// no code, and the session, out of step, is not reused.
func TestPoolOddReplies(t *testing.T) {
	t.Parallel()
	relay := startScriptedRelay(t)
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1})
	tests := []struct {
		to    string
		want  mailer.Result
		conns int64 // connections opened so far
	}{
		{"multiline@example.net", mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1",
			Reply: "5.1.1 the mailbox you asked for\n5.1.1 does not exist here"}, 1},
		{"ok@example.net", mailer.Result{Status: mailer.StatusSent, Code: 250, Enhanced: "2.0.0", Reply: "2.0.0 queued"}, 1},
		{"garbage@example.net", mailer.Result{Status: mailer.StatusDeferred}, 1},
		{"ok@example.net", mailer.Result{Status: mailer.StatusSent, Code: 250, Enhanced: "2.0.0", Reply: "2.0.0 queued"}, 2},
	}
	for _, tt := range tests {
		got := pool.Send(t.Context(), messageTo(tt.to))
		if tt.want.Status == mailer.StatusDeferred {
			got.Reply = "" // the parser's words are not the point
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Send to %s (-want +got):\n%s", tt.to, diff)
		}
		if got := relay.conns.Load(); got != tt.conns {
			t.Errorf("after the Send to %s: %d connections; want %d", tt.to, got, tt.conns)
		}
	}
}

// scriptedRelay offers PIPELINING, refuses nobody@example.net at RCPT TO,
// answers garbage@example.net with a line that is no SMTP reply and
// multiline@example.net with a refusal on two lines, and answers DATA with
// 354 whatever came before.
type scriptedRelay struct {
	addr  string
	conns atomic.Int64
	mu    sync.Mutex
	sizes []int
}

func (r *scriptedRelay) dataSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.sizes...)
}

func startScriptedRelay(tb testing.TB) *scriptedRelay {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r := &scriptedRelay{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				r.serve(c)
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return r
}

func (r *scriptedRelay) serve(c net.Conn) {
	r.conns.Add(1)
	text := textproto.NewConn(c)
	reply := func(s string) bool { return text.PrintfLine("%s", s) == nil }
	if !reply("220 localhost ESMTP") {
		return
	}
	for {
		line, err := text.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		var ok bool
		switch strings.ToUpper(verb) {
		case "EHLO":
			ok = reply("250-localhost\r\n250-PIPELINING\r\n250 8BITMIME")
		case "MAIL", "RSET":
			ok = reply("250 2.0.0 ok")
		case "RCPT":
			switch {
			case strings.Contains(arg, "nobody@"):
				ok = reply("550 5.1.1 no such user")
			case strings.Contains(arg, "garbage@"):
				ok = reply("hello, is it me you are looking for")
			case strings.Contains(arg, "multiline@"):
				ok = reply("550-5.1.1 the mailbox you asked for\r\n550 5.1.1 does not exist here")
			default:
				ok = reply("250 2.1.5 ok")
			}
		case "DATA":
			if !reply("354 go ahead") {
				return
			}
			data, err := text.ReadDotBytes()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.sizes = append(r.sizes, len(data))
			r.mu.Unlock()
			ok = reply("250 2.0.0 queued")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			ok = reply("502 5.5.2 unknown command")
		}
		if !ok {
			return
		}
	}
}
