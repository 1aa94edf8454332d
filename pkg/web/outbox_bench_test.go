package web_test

import (
	"bytes"
	"fmt"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/web"
)

// BenchmarkOutboxCapture sends b.N messages of about 12 KB (an action
// alert's size) over 8 kept-open SMTP connections, as a worker's pool does,
// to the capture of embedded mode: kept in memory only, and kept in the
// database as the outbox does. It reports messages captured per second.
//
//	go test -run '^$' -bench OutboxCapture -benchtime 5000x ./pkg/web/
func BenchmarkOutboxCapture(b *testing.B) {
	const conns = 8
	body := strings.Repeat("<p>Dear friend, the permit hearing is Thursday. Add your name before it closes.</p>\r\n", 140)
	b.Run("memory", func(b *testing.B) { benchCapture(b, devsvc.CaptureOptions{Limit: 10}, conns, body) })
	for _, db := range testenv.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			st := testenv.Store(b, db.Migrated(b))
			benchCapture(b, devsvc.CaptureOptions{Limit: 10, Keep: web.KeepOutbox(st)}, conns, body)
		})
	}
}

func benchCapture(b *testing.B, opts devsvc.CaptureOptions, conns int, body string) {
	c, err := devsvc.StartCapture("", opts)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := smtp.Dial(c.Addr())
			if err != nil {
				errc <- err
				return
			}
			defer cl.Close()
			var msg bytes.Buffer
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				rcpt := fmt.Sprintf("supporter%06d@example.org", i)
				msg.Reset()
				fmt.Fprintf(&msg, "From: alerts@example.org\r\nTo: %s\r\nSubject: Tell Governor Hale: no permit (%d)\r\n"+
					"Content-Type: text/html; charset=utf-8\r\n\r\n%s", rcpt, i, body)
				if err := send(cl, rcpt, msg.Bytes()); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	if got := c.Count(); got != int64(b.N) {
		b.Fatalf("%d messages captured, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func send(cl *smtp.Client, rcpt string, msg []byte) error {
	if err := cl.Mail("alerts@example.org"); err != nil {
		return err
	}
	if err := cl.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}
