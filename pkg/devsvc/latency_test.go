package devsvc_test

import (
	"bytes"
	"io"
	"net"
	"net/smtp"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

func mustStartLatencyProxy(tb testing.TB, target string, rtt time.Duration) *devsvc.LatencyProxy {
	tb.Helper()
	p, err := devsvc.StartLatencyProxy(target, rtt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// TestLatencyProxyForwards: a whole SMTP conversation goes through the
// proxy, both ways, unchanged.
func TestLatencyProxyForwards(t *testing.T) {
	t.Parallel()
	c := mustStartCapture(t, devsvc.CaptureOptions{})
	p := mustStartLatencyProxy(t, c.Addr(), 5*time.Millisecond)
	for i := range 2 {
		if err := smtp.SendMail(p.Addr(), nil, "a@example.org", []string{"b@example.org"}, rawMessage("through the proxy")); err != nil {
			t.Fatalf("send %d through the proxy: %v", i, err)
		}
	}
	msgs := c.Messages()
	if len(msgs) != 2 {
		t.Fatalf("capture has %d messages; want 2", len(msgs))
	}
	if want := rawMessage("through the proxy"); !bytes.Equal(msgs[0].Data, want) {
		t.Errorf("message through the proxy:\n%q\nwant\n%q", msgs[0].Data, want)
	}
}

// TestLatencyProxyClose: Close ends the connections it holds open.
func TestLatencyProxyClose(t *testing.T) {
	t.Parallel()
	c := mustStartCapture(t, devsvc.CaptureOptions{})
	p := mustStartLatencyProxy(t, c.Addr(), 0)
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	greeting := make([]byte, 3)
	if _, err := io.ReadFull(conn, greeting); err != nil || string(greeting) != "220" {
		t.Fatalf("greeting %q, %v; want 220", greeting, err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("read after Close: %v; want the connection ended", err)
	}
}

func TestLatencyProxyRefusesNegative(t *testing.T) {
	t.Parallel()
	if _, err := devsvc.StartLatencyProxy("127.0.0.1:1", -time.Millisecond); err == nil {
		t.Error("StartLatencyProxy with a negative latency: no error")
	}
}

// TestLatencyProxyPeak: Peak counts the connections open at once, not
// those opened one after the other.
func TestLatencyProxyPeak(t *testing.T) {
	t.Parallel()
	c := mustStartCapture(t, devsvc.CaptureOptions{})
	p := mustStartLatencyProxy(t, c.Addr(), 0)
	var open []net.Conn
	for range 3 {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		greeting := make([]byte, 3)
		if _, err := io.ReadFull(conn, greeting); err != nil {
			t.Fatal(err)
		}
		open = append(open, conn)
	}
	for _, conn := range open {
		conn.Close()
	}
	if err := smtp.SendMail(p.Addr(), nil, "a@example.org", []string{"b@example.org"}, rawMessage("one more")); err != nil {
		t.Fatal(err)
	}
	if got := p.Peak(); got != 3 && got != 4 {
		t.Errorf("Peak() = %d; want 3 (or 4, when the first three were not yet counted out)", got)
	}
}
