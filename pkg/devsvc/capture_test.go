package devsvc_test

import (
	"context"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

func mustStartCapture(tb testing.TB, opts devsvc.CaptureOptions) *devsvc.Capture {
	tb.Helper()
	c, err := devsvc.StartCapture("", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("close capture: %v", err)
		}
	})
	return c
}

func rawMessage(subject string) []byte {
	return []byte("From: Dear Friend <alerts@example.org>\r\n" +
		"To: ada@example.net\r\n" +
		"Subject: " + subject + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Add your name.\r\n")
}

func TestCaptureKeepsMessages(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := mustStartCapture(t, devsvc.CaptureOptions{Now: func() time.Time { return received }})

	// Subjects as they arrive on the wire, and as Capture must decode them.
	subjects := []struct{ raw, want string }{
		{"Stop the pipeline", "Stop the pipeline"},
		{"=?UTF-8?Q?Sign_now:_caf=C3=A9s_deserve_better?=", "Sign now: cafés deserve better"},
		{"=?utf-8?B?8J+MsyBTYXZlIHRoZSBmb3Jlc3Q=?=", "🌳 Save the forest"},
		{"=?UTF-8?Q?Dear_Fr?=\r\n =?UTF-8?Q?iend=2C_act_now?=", "Dear Friend, act now"},
	}
	for _, s := range subjects {
		err := smtp.SendMail(c.Addr(), nil, "alerts@example.org", []string{"ada@example.net", "bob@example.net"}, rawMessage(s.raw))
		if err != nil {
			t.Fatalf("send %q: %v", s.raw, err)
		}
	}

	if got := c.Count(); got != int64(len(subjects)) {
		t.Errorf("Count = %d; want %d", got, len(subjects))
	}
	msgs := c.Messages()
	if len(msgs) != len(subjects) {
		t.Fatalf("Messages returned %d; want %d", len(msgs), len(subjects))
	}
	for i, m := range msgs {
		want := subjects[len(subjects)-1-i] // newest first
		if m.Subject != want.want {
			t.Errorf("message %d Subject = %q; want %q", m.ID, m.Subject, want.want)
		}
	}

	newest := msgs[0]
	if diff := cmp.Diff(devsvc.Message{
		ID:       4,
		From:     "alerts@example.org",
		To:       []string{"ada@example.net", "bob@example.net"},
		Received: received,
		Subject:  "Dear Friend, act now",
	}, newest, cmpIgnoreData); diff != "" {
		t.Errorf("newest message (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(string(newest.Data), "\r\n\r\nAdd your name.\r\n") {
		t.Errorf("Data does not end with the body:\n%s", newest.Data)
	}

	got, ok := c.Message(2)
	if !ok || got.Subject != subjects[1].want {
		t.Errorf("Message(2) = %q, %v; want %q", got.Subject, ok, subjects[1].want)
	}
	for _, id := range []int64{0, -1, 5} {
		if _, ok := c.Message(id); ok {
			t.Errorf("Message(%d) found; want not found", id)
		}
	}
}

var cmpIgnoreData = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Data" }, cmp.Ignore())

func TestCaptureLimitDropsOldest(t *testing.T) {
	t.Parallel()
	c := mustStartCapture(t, devsvc.CaptureOptions{Limit: 3})
	for i := 1; i <= 7; i++ {
		if err := smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"b@example.org"}, rawMessage(fmt.Sprint("n", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Count(); got != 7 {
		t.Errorf("Count = %d; want 7", got)
	}
	var ids []int64
	var subjects []string
	for _, m := range c.Messages() {
		ids = append(ids, m.ID)
		subjects = append(subjects, m.Subject)
	}
	if diff := cmp.Diff([]int64{7, 6, 5}, ids); diff != "" {
		t.Errorf("kept IDs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n7", "n6", "n5"}, subjects); diff != "" {
		t.Errorf("kept subjects (-want +got):\n%s", diff)
	}
	if _, ok := c.Message(4); ok {
		t.Error("Message(4) still kept with Limit 3 after 7 messages")
	}
	if m, ok := c.Message(5); !ok || m.Subject != "n5" {
		t.Errorf("Message(5) = %q, %v; want n5", m.Subject, ok)
	}
}

func TestCaptureReject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		wantCode int
	}{
		{"temporary", &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}, 451},
		{"permanent", &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, 550},
		{"plain error", errors.New("disk on fire"), 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotFrom string
			var gotTo []string
			var delivered atomic.Int64
			c := mustStartCapture(t, devsvc.CaptureOptions{
				OnMessage: func(devsvc.Message) { delivered.Add(1) },
				Reject: func(from string, to []string) error {
					gotFrom, gotTo = from, append([]string(nil), to...)
					if to[0] == "refuse@example.net" {
						return tt.err
					}
					return nil
				},
			})

			err := smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"refuse@example.net", "b@example.net"}, rawMessage("x"))
			var tpErr *textproto.Error
			if !errors.As(err, &tpErr) || tpErr.Code != tt.wantCode {
				t.Fatalf("send = %v; want SMTP reply %d", err, tt.wantCode)
			}
			if gotFrom != "a@example.org" || !cmp.Equal(gotTo, []string{"refuse@example.net", "b@example.net"}) {
				t.Errorf("Reject saw from=%q to=%q", gotFrom, gotTo)
			}
			if c.Count() != 0 || len(c.Messages()) != 0 || delivered.Load() != 0 {
				t.Errorf("refused message was kept: Count=%d OnMessage=%d", c.Count(), delivered.Load())
			}

			if err := smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"ok@example.net"}, rawMessage("y")); err != nil {
				t.Fatalf("send after refusal: %v", err)
			}
			if c.Count() != 1 || delivered.Load() != 1 {
				t.Errorf("after one accepted message: Count=%d OnMessage=%d; want 1, 1", c.Count(), delivered.Load())
			}
		})
	}
}

// TestCaptureManyConnections sends many messages over each of many concurrent
// connections.
func TestCaptureManyConnections(t *testing.T) {
	t.Parallel()
	const conns, perConn = 20, 50
	var delivered atomic.Int64
	c := mustStartCapture(t, devsvc.CaptureOptions{Limit: 100, OnMessage: func(devsvc.Message) { delivered.Add(1) }})

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			errs <- sendMany(c.Addr(), i, perConn)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Count(); got != conns*perConn {
		t.Errorf("Count = %d; want %d", got, conns*perConn)
	}
	if got := delivered.Load(); got != conns*perConn {
		t.Errorf("OnMessage called %d times; want %d", got, conns*perConn)
	}
	if got := len(c.Messages()); got != 100 {
		t.Errorf("kept %d messages; want Limit 100", got)
	}
}

func sendMany(addr string, conn, n int) error {
	client, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer client.Close()
	for j := range n {
		if err := client.Mail("a@example.org"); err != nil {
			return err
		}
		if err := client.Rcpt(fmt.Sprintf("c%d.m%d@example.net", conn, j)); err != nil {
			return err
		}
		w, err := client.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(rawMessage(fmt.Sprint(conn, "/", j))); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return client.Quit()
}

func TestCaptureAcceptsAuthPlain(t *testing.T) {
	t.Parallel()
	c := mustStartCapture(t, devsvc.CaptureOptions{})
	auth := smtp.PlainAuth("", "user", "any password", "127.0.0.1")
	if err := smtp.SendMail(c.Addr(), auth, "a@example.org", []string{"b@example.net"}, rawMessage("authed")); err != nil {
		t.Fatal(err)
	}
	if c.Count() != 1 {
		t.Errorf("Count = %d; want 1", c.Count())
	}
}

func BenchmarkCapture(b *testing.B) {
	c := mustStartCapture(b, devsvc.CaptureOptions{})
	client, err := smtp.Dial(c.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	msg := rawMessage("=?UTF-8?Q?Sign_now:_caf=C3=A9s?=")
	msg = append(msg, []byte(strings.Repeat("The quick brown fox jumps over the lazy dog.\r\n", 450))...) // ~20 KB
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Mail("a@example.org"); err != nil {
			b.Fatal(err)
		}
		if err := client.Rcpt("b@example.net"); err != nil {
			b.Fatal(err)
		}
		w, err := client.Data()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCaptureKeepRefusal answers 451 while Keep fails and neither counts
// nor lists the message; once Keep works, the message sent again is kept.
func TestCaptureKeepRefusal(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	failing.Store(true)
	var kept atomic.Int64
	c := mustStartCapture(t, devsvc.CaptureOptions{Keep: func(_ context.Context, msgs []devsvc.Message) error {
		if failing.Load() {
			return errors.New("database is locked")
		}
		kept.Add(int64(len(msgs)))
		return nil
	}})
	err := smtp.SendMail(c.Addr(), nil, "alerts@example.org", []string{"ada@example.net"}, rawMessage("Stop the pipeline"))
	var tpErr *textproto.Error
	if !errors.As(err, &tpErr) || tpErr.Code != 451 {
		t.Fatalf("send while Keep fails: %v, want 451", err)
	}
	if c.Count() != 0 || len(c.Messages()) != 0 {
		t.Errorf("a refused message is counted (%d) or listed (%d)", c.Count(), len(c.Messages()))
	}
	failing.Store(false)
	if err := smtp.SendMail(c.Addr(), nil, "alerts@example.org", []string{"ada@example.net"}, rawMessage("Stop the pipeline")); err != nil {
		t.Fatal(err)
	}
	if c.Count() != 1 || kept.Load() != 1 {
		t.Errorf("after the retry: %d counted, %d kept; want 1 and 1", c.Count(), kept.Load())
	}
}
