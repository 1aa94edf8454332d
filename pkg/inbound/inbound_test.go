package inbound

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
)

const (
	domain   = "bounces.example.org"
	fblAddr  = "fbl@bounces.example.org"
	unsubTo  = "unsubscribe@example.org"
	testSalt = "inbound-test-secret-0123456789abcdef"
)

var signer = track.NewSigner(testSalt)

// recorder is the sink and the unsubscriber of a test: it keeps what it is
// given, and fails while fail is set.
type recorder struct {
	mu     sync.Mutex
	events []bounce.Event
	unsubs []string
	fail   error
}

func (r *recorder) Take(_ context.Context, evs []bounce.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, evs...)
	return nil
}

// OneClick checks the token as track.Unsubscriber does.
func (r *recorder) OneClick(_ context.Context, token, agent string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, _, err := signer.Verify(track.KindUnsubscribe, token); err != nil {
		return err
	}
	if r.fail != nil {
		return r.fail
	}
	r.unsubs = append(r.unsubs, token+" "+agent)
	return nil
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

func (r *recorder) got() ([]bounce.Event, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bounce.Event(nil), r.events...), append([]string(nil), r.unsubs...)
}

var testNow = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// mustServe starts a server of cfg (the test domains filled in) on a free
// port and returns its address.
func mustServe(tb testing.TB, cfg Config, rec *recorder) string {
	tb.Helper()
	cfg.Domain, cfg.FeedbackAddress, cfg.UnsubscribeAddress = domain, fblAddr, unsubTo
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv, err := New(cfg, Deps{Sink: rec, Unsubscriber: rec, Signer: signer, Log: log, Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// mustRead is a real report of the shared collection (testenv.BounceCase).
func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	return testenv.BounceCase(tb, name)
}

// send delivers raw from the null sender to rcpts in one SMTP conversation
// and returns the reply code of the first refusal (0 when all was taken).
func send(tb testing.TB, addr string, raw []byte, rcpts ...string) int {
	tb.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mta.example.net"); err != nil {
		tb.Fatal(err)
	}
	if err := c.Mail(""); err != nil {
		return code(tb, err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return code(tb, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return code(tb, err)
	}
	w.Write(raw)
	if err := w.Close(); err != nil {
		return code(tb, err)
	}
	if err := c.Quit(); err != nil {
		tb.Fatal(err)
	}
	return 0
}

func code(tb testing.TB, err error) int {
	tb.Helper()
	var te *textproto.Error
	if !errors.As(err, &te) {
		tb.Fatalf("not an SMTP reply: %v", err)
	}
	return te.Code
}

func verp(sendID int64) string {
	return "bounce+" + signer.Sign(track.KindBounce, sendID, 0) + "@" + domain
}

// TestRecipients: RCPT is accepted for a genuine VERP address, the
// feedback-loop address and the mailto address, and refused with 550 for
// anything else, a forged token included.
func TestRecipients(t *testing.T) {
	addr := mustServe(t, Config{}, &recorder{})
	good := signer.Sign(track.KindBounce, 7, 0)
	forged := track.NewSigner(strings.Repeat("z", 32)).Sign(track.KindBounce, 7, 0)
	cases := []struct {
		rcpt string
		want int
	}{
		{"bounce+" + good + "@" + domain, 250},
		{"BOUNCE+" + good + "@BOUNCES.Example.ORG", 250},
		{"FBL@bounces.example.org", 250},
		{unsubTo, 250},
		{"bounce+" + forged + "@" + domain, 550},
		{"bounce+" + good[:len(good)-2] + "@" + domain, 550},
		{"bounce+" + signer.Sign(track.KindUnsubscribe, 7, 0) + "@" + domain, 550},
		{"bounce+" + good + "@other.example.org", 550},
		{"bounce+@" + domain, 550},
		{"postmaster@" + domain, 550},
		{"someone@example.com", 550},
		{"unsubscribe@bounces.example.org", 550},
	}
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		got := 250
		if err := c.Rcpt(tc.rcpt); err != nil {
			got = code(t, err)
		}
		if got != tc.want {
			t.Errorf("RCPT TO:<%s>: %d, want %d", tc.rcpt, got, tc.want)
		}
	}
}

// TestReports: real reports reach the sink with the token of the address
// they came to; mail that is no report is taken and dropped.
func TestReports(t *testing.T) {
	rec := &recorder{}
	addr := mustServe(t, Config{}, rec)
	dsn, soft, arf, spam := mustRead(t, "lhost-postfix-14.eml"), mustRead(t, "lhost-postfix-75.eml"), mustRead(t, "arf-02.eml"), mustRead(t, "is-not-bounce-01.eml")
	tok := func(id int64) string { return signer.Sign(track.KindBounce, id, 0) }
	for _, m := range []struct {
		raw  []byte
		rcpt string
	}{{dsn, verp(1)}, {soft, verp(2)}, {arf, fblAddr}, {spam, verp(3)}, {spam, fblAddr}} {
		if c := send(t, addr, m.raw, m.rcpt); c != 0 {
			t.Fatalf("to %s: refused with %d", m.rcpt, c)
		}
	}
	evs, _ := rec.got()
	type ev struct{ Token, Recipient, Kind, Status, Source, EventID string }
	var got []ev
	for _, e := range evs {
		got = append(got, ev{e.Token, e.Recipient, string(e.Kind), e.Status, e.Source, e.EventID})
		if !e.At.Equal(testNow) {
			t.Errorf("event at %v, want the server's clock %v", e.At, testNow)
		}
	}
	// The client ends each line in CRLF, as SMTP does: the digest is of that.
	crlf := func(b []byte) []byte {
		return []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
	}
	// The deferral's status is the reader's to find (pkg/bounce tests it);
	// here it must come through unchanged.
	softRep, err := bounce.Read(strings.NewReader(string(soft)))
	if err != nil || len(softRep.Failures) != 1 {
		t.Fatalf("read the deferral: %v %+v", err, softRep)
	}
	want := []ev{
		{tok(1), "kijitora@2jo.example.jp", "hard", "5.1.1", "inbound", bounce.Digest(crlf(dsn)) + "/kijitora@2jo.example.jp"},
		{tok(2), "kijitora@libsisimai.net", "soft", softRep.Failures[0].Status, "inbound", bounce.Digest(crlf(soft)) + "/kijitora@libsisimai.net"},
		{"", "this-local-part-does-not-exist-on-yahoo@yahoo.com", "complaint", "", "inbound", bounce.Digest(crlf(arf)) + "/this-local-part-does-not-exist-on-yahoo@yahoo.com"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestTryAgain: while the sink cannot store, the sender is told 451 and
// keeps the report; its retry yields the same events, which the sink
// counts once by EventID.
func TestTryAgain(t *testing.T) {
	rec := &recorder{}
	addr := mustServe(t, Config{}, rec)
	dsn := mustRead(t, "lhost-postfix-14.eml")
	rec.setFail(errors.New("database is down"))
	if c := send(t, addr, dsn, verp(9)); c != 451 {
		t.Fatalf("report while the sink fails: %d, want 451", c)
	}
	if evs, _ := rec.got(); len(evs) != 0 {
		t.Fatalf("a failed take kept %d events", len(evs))
	}
	rec.setFail(nil)
	for range 2 {
		if c := send(t, addr, dsn, verp(9)); c != 0 {
			t.Fatalf("retry refused with %d", c)
		}
	}
	evs, _ := rec.got()
	if len(evs) != 2 || evs[0].EventID != evs[1].EventID {
		t.Errorf("the same report twice: events %+v, want two of one EventID", evs)
	}
}

// TestLimits: an oversized message is refused with 552 and reaches no one;
// recipients past the limit get 452; bad commands get 5xx and the session
// ends after too many.
func TestLimits(t *testing.T) {
	rec := &recorder{}
	addr := mustServe(t, Config{MaxBytes: 4096, MaxRecipients: 2}, rec)
	dsn := mustRead(t, "lhost-postfix-14.eml")
	big := append([]byte(nil), dsn...)
	big = append(big, []byte(strings.Repeat("padding line of a huge report\r\n", 200))...)
	if c := send(t, addr, big, verp(1)); c != 552 {
		t.Errorf("oversized report: %d, want 552", c)
	}
	if c := send(t, addr, dsn, verp(1), verp(2), verp(3)); c != 452 {
		t.Errorf("third recipient: %d, want 452", c)
	}
	if evs, _ := rec.got(); len(evs) != 0 {
		t.Errorf("refused messages reached the sink: %+v", evs)
	}
	// The session still works after the oversized message.
	if c := send(t, addr, dsn, verp(1)); c != 0 {
		t.Errorf("report within the limit: %d", c)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	var last string
	for i := range 20 {
		if err := tp.PrintfLine("XYZZY %d", i); err != nil {
			break
		}
		line, err := tp.ReadLine()
		if err != nil {
			break
		}
		last = line
		if !strings.HasPrefix(line, "5") {
			t.Fatalf("bad command answered %q", line)
		}
	}
	if _, err := tp.ReadLine(); err == nil || !strings.Contains(last, "Too many errors") {
		t.Errorf("after 20 bad commands the session is open (last answer %q)", last)
	}
}

// TestConnectionLimit: past MaxConns sessions, a new connection is answered
// 421 and closed; once a session ends, its place is free again.
func TestConnectionLimit(t *testing.T) {
	addr := mustServe(t, Config{MaxConns: 2}, &recorder{})
	greet := func() (net.Conn, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("greeting: %v", err)
		}
		return c, line
	}
	var held []net.Conn
	for range 2 {
		c, line := greet()
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("session within the limit greeted %q", line)
		}
		held = append(held, c)
	}
	c, line := greet()
	c.Close()
	if !strings.HasPrefix(line, "421 4.7.0") {
		t.Fatalf("third session greeted %q, want 421 4.7.0", line)
	}
	held[0].Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, line := greet()
		c.Close()
		if strings.HasPrefix(line, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed session's place is not free: %q", line)
		}
	}
	held[1].Close()
}

// TestMailtoUnsubscribe: mail to the mailto address unsubscribes the
// token of its subject, however the subject is dressed; one without a
// genuine token is taken and dropped; a store that fails gets 451.
func TestMailtoUnsubscribe(t *testing.T) {
	rec := &recorder{}
	addr := mustServe(t, Config{}, rec)
	tok := func(id int64) string { return signer.Sign(track.KindUnsubscribe, id, 0) }
	msg := func(subject string) []byte {
		return []byte("From: Someone <someone@example.net>\r\nTo: " + unsubTo + "\r\nSubject: " + subject + "\r\n\r\nThis message will unsubscribe you.\r\n")
	}
	for _, subject := range []string{
		"unsubscribe-" + tok(1),
		"Re: Unsubscribe-" + tok(2) + " please",
		"=?UTF-8?Q?unsubscribe-" + tok(3) + "?=",
		"unsubscribe-" + track.NewSigner(strings.Repeat("z", 32)).Sign(track.KindUnsubscribe, 4, 0),
		"unsubscribe-" + signer.Sign(track.KindBounce, 5, 0),
		"unsubscribe me",
		"",
	} {
		if c := send(t, addr, msg(subject), unsubTo); c != 0 {
			t.Errorf("subject %q: refused with %d", subject, c)
		}
	}
	if c := send(t, addr, []byte("no header at all"), unsubTo); c != 0 {
		t.Errorf("headerless mail: refused with %d", c)
	}
	_, got := rec.got()
	want := []string{tok(1) + " mailto", tok(2) + " mailto", tok(3) + " mailto"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unsubscribes (-want +got):\n%s", diff)
	}
	rec.setFail(fmt.Errorf("unsubscribe: %w", errors.New("database is down")))
	if c := send(t, addr, msg("unsubscribe-"+tok(6)), unsubTo); c != 451 {
		t.Errorf("while the store fails: %d, want 451", c)
	}
}

// TestMalformed: truncated and broken messages to the bounce address are
// taken without a failure the sender would retry forever, and give no
// event when they say nothing readable.
func TestMalformed(t *testing.T) {
	rec := &recorder{}
	addr := mustServe(t, Config{}, rec)
	dsn := mustRead(t, "lhost-postfix-14.eml")
	for name, raw := range map[string][]byte{
		"truncated header": dsn[:200],
		"no body":          []byte("Subject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; boundary=x\r\n"),
		"broken mime":      []byte("Content-Type: multipart/report; report-type=delivery-status; boundary=\"\r\n\r\n--\r\n--\r\n"),
		"binary":           {0, 1, 2, 0xff, 0xfe, '\r', '\n', 0x80},
		"empty":            {},
	} {
		if c := send(t, addr, raw, verp(1)); c != 0 {
			t.Errorf("%s: refused with %d", name, c)
		}
	}
	if evs, _ := rec.got(); len(evs) != 0 {
		t.Errorf("broken messages gave events: %+v", evs)
	}
	// Cut after the recipient's block, a report still names its failure.
	cut := dsn[:strings.Index(string(dsn), "--DE9FF20C16.1423795693/2jo.example.jp\nContent-Description: Undelivered")]
	if c := send(t, addr, cut, verp(1)); c != 0 {
		t.Fatalf("truncated report: refused with %d", c)
	}
	if evs, _ := rec.got(); len(evs) != 1 || evs[0].Recipient != "kijitora@2jo.example.jp" {
		t.Errorf("truncated report: events %+v, want kijitora's", evs)
	}
}

// TestShutdown: a shutdown closes sessions between messages at once rather
// than waiting out their timeout.
func TestShutdown(t *testing.T) {
	rec := &recorder{}
	srv, err := New(Config{Domain: domain, Timeout: time.Hour}, Deps{Sink: rec, Unsubscriber: rec, Signer: signer, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("idle.example.net"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an idle session: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("the idle session is still open after the shutdown")
	}
}
