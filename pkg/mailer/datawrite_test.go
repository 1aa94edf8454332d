package mailer_test

import (
	"bufio"
	"bytes"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// writeLog is a net.Conn that keeps a copy of every Write.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *writeLog) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(b))
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// take returns the writes since the last take.
func (c *writeLog) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.writes
	c.writes = nil
	return w
}

// dotWriter is DATA as net/textproto writes it.
func dotWriter(parts ...[]byte) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := textproto.NewWriter(bw).DotWriter()
	for _, p := range parts {
		w.Write(p)
	}
	w.Close()
	return buf.Bytes()
}

// TestPoolWritesMessageOnce: after DATA's go-ahead the message, stuffed and
// with its final dot, is one write on the connection, and the relay
// receives exactly the bytes that were built and signed: lines that start
// with a dot, a bare LF from the signer (made CRLF, as textproto did),
// binary text (quoted-printable), a body of a few hundred kilobytes.
func TestPoolWritesMessageOnce(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	var (
		mu   sync.Mutex
		logs []*writeLog
	)
	wrap := mailer.WithConnWrapper(func(c net.Conn) net.Conn {
		l := &writeLog{Conn: c}
		mu.Lock()
		logs = append(logs, l)
		mu.Unlock()
		return l
	})
	const sig = ".X-Dot-Signature: a\n\tb\r\n"
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr(), MaxConns: 1}, wrap,
		mailer.WithSigner(signerFunc(func(dst, _ []byte) ([]byte, error) { return append(dst, sig...), nil })))

	long := largeMessage()
	long.Text = strings.Repeat(long.Text, 8)
	for _, tt := range []struct {
		name string
		edit func(*mailer.Message)
	}{
		{"plain", func(*mailer.Message) {}},
		{"dots", func(m *mailer.Message) {
			m.Text = ".one dot\n..two dots\n.\nend.\r\n.\r\n"
			m.HTML = "<p>\n.leading</p>\n."
		}},
		{"bare LF and CR", func(m *mailer.Message) { m.Text = "a\nb\rc\r\n\n.d\n" }},
		{"binary", func(m *mailer.Message) { m.Text = "\x00\x01\xff\xfe\x80 é\r\n.\xc3\n" }},
		{"long", func(m *mailer.Message) { m.Text, m.HTML = long.Text, long.HTML }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			tt.edit(m)
			built := mustBuildBytes(t, m)
			if res := pool.Send(t.Context(), m); res.Status != mailer.StatusSent {
				t.Fatalf("Send = %+v", res)
			}
			want := []byte(".X-Dot-Signature: a\r\n\tb\r\n") // the bare LF made CRLF
			want = append(want, built...)
			if got := capture.Messages()[0].Data; !bytes.Equal(got, want) {
				t.Fatalf("relay received another message than was built and signed: %d bytes, want %d, first difference at %d",
					len(got), len(want), firstDiff(got, want))
			}

			mu.Lock()
			if len(logs) != 1 {
				t.Fatalf("%d connections; want 1", len(logs))
			}
			writes := logs[0].take()
			mu.Unlock()
			// The relay pipelines: MAIL FROM, RCPT TO and DATA are one write.
			data := -1
			for i, w := range writes {
				if bytes.HasPrefix(w, []byte("MAIL FROM:")) && bytes.HasSuffix(w, []byte("\r\nDATA\r\n")) {
					data = i
				}
			}
			if data < 0 {
				t.Fatalf("no write of MAIL FROM to DATA among the %d writes", len(writes))
			}
			after := writes[data+1:]
			if len(after) != 1 {
				t.Fatalf("%d writes after DATA; want 1, the whole message", len(after))
			}
			if stuffed := dotWriter([]byte(sig), built); !bytes.Equal(after[0], stuffed) {
				t.Errorf("the message write is not what textproto's DotWriter sends: %d bytes, want %d, first difference at %d",
					len(after[0]), len(stuffed), firstDiff(after[0], stuffed))
			}
		})
	}
}

// firstDiff is the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
