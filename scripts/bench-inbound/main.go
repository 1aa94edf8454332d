// Command bench-inbound measures inbound SMTP reports per second, end to
// end: a campaign of -n recipients is sent to a capture server, then one
// Postfix-style DSN (unknown user, 5.1.1) per recipient is delivered to its
// VERP address over -c concurrent SMTP connections to the App's inbound
// server. A report counts when its 250 arrives, which the server answers
// only once the sink has stored its events. It prints each run, the median,
// and how many contacts ended up bounced.
//
//	go run ./scripts/bench-inbound -n 2000 -c 8 -runs 3 [-pg postgres://…/postgres -redis redis://…]
//
// Without -pg it runs on SQLite and an in-process Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
	"github.com/dearfriend/dearfriend/scripts/internal/dfapi"
)

const token = "bench-inbound-token-0123456789"

func main() {
	n := flag.Int("n", 2000, "recipients, and so reports, per run")
	conns := flag.Int("c", 8, "concurrent SMTP connections to the inbound server")
	runs := flag.Int("runs", 3, "runs")
	pg := flag.String("pg", "", "PostgreSQL admin URL (a database is made per run); empty: SQLite")
	redisURL := flag.String("redis", "", "Redis URL; empty: in-process")
	flag.Parse()
	var rates []float64
	for i := range *runs {
		rate, bounced, err := run(*n, *conns, *pg, *redisURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-inbound:", err)
			os.Exit(1)
		}
		fmt.Printf("run %d: %d reports in over %d connections: %.0f reports/s; %d of %d contacts bounced\n", i+1, *n, *conns, rate, bounced, *n)
		rates = append(rates, rate)
	}
	slices.Sort(rates)
	fmt.Printf("median: %.0f reports/s\n", rates[len(rates)/2])
}

// sent is what the relay got: a send's VERP envelope sender and recipient.
type sent struct{ from, to, messageID string }

func run(n, conns int, pg, redisURL string) (rate float64, bounced int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dsn, redis, cleanup, err := benchdb.Backends(pg, redisURL, "benchinbound")
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	var mu sync.Mutex
	var got []sent
	capture, err := devsvc.StartCapture("", devsvc.CaptureOptions{Limit: 1, OnMessage: func(m devsvc.Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, sent{from: m.From, to: m.To[0], messageID: header(m.Data, "Message-Id")})
	}})
	if err != nil {
		return 0, 0, err
	}
	defer capture.Close()
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":     "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR":  "127.0.0.1:0",
		"DEARFRIEND_INBOUND_CONNS": fmt.Sprint(conns + 8),
		"DEARFRIEND_DATABASE_URL":  dsn,
		"DEARFRIEND_REDIS_URL":     redis,
		"DEARFRIEND_QUEUE":         fmt.Sprintf("benchinbound%d", time.Now().UnixNano()),
		"DEARFRIEND_SMTP_URL":      "smtp://" + capture.Addr() + "?tls=none",
		"DEARFRIEND_BOUNCE_DOMAIN": "bounces.test",
		"DEARFRIEND_API_TOKEN":     token,
		"DEARFRIEND_SEED":          "false",
	}
	cfg, err := config.FromEnv(config.ModeDev, func(k string) string { return env[k] })
	if err != nil {
		return 0, 0, err
	}
	a, err := app.New(ctx, cfg, app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- a.Run(runCtx) }()
	defer func() { stop(); <-done }()

	api := &dfapi.Client{Base: a.URL(), Token: token}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("gone%06d@people.test", i)
	}
	list, err := api.ImportList(ctx, emails)
	if err != nil {
		return 0, 0, err
	}
	if _, err := api.SendCampaign(ctx, list, "bench"); err != nil {
		return 0, 0, err
	}
	mu.Lock()
	sends := slices.Clone(got)
	mu.Unlock()
	if len(sends) != n {
		return 0, 0, fmt.Errorf("the relay got %d messages, want %d", len(sends), n)
	}

	start := time.Now()
	errc := make(chan error, conns)
	for c := range conns {
		go func() { errc <- deliver(a.InboundAddr(), sends[c*n/conns:(c+1)*n/conns]) }()
	}
	for range conns {
		if e := <-errc; e != nil {
			err = errors.Join(err, e)
		}
	}
	if err != nil {
		return 0, 0, err
	}
	rate = float64(n) / time.Since(start).Seconds()
	for _, e := range emails {
		c, err := a.Store().ContactByEmail(ctx, e)
		if err != nil {
			return 0, 0, err
		}
		if c.Status == store.ContactBounced {
			bounced++
		}
	}
	return rate, bounced, nil
}

// deliver sends one DSN per send over one kept-open connection.
func deliver(addr string, sends []sent) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("relay.people.test"); err != nil {
		return err
	}
	for _, s := range sends {
		if err := c.Mail(""); err != nil {
			return fmt.Errorf("MAIL: %w", err)
		}
		if err := c.Rcpt(s.from); err != nil {
			return fmt.Errorf("RCPT %s: %w", s.from, err)
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		io.WriteString(w, dsn(s))
		if err := w.Close(); err != nil {
			return fmt.Errorf("report for %s: %w", s.to, err)
		}
	}
	return c.Quit()
}

// dsn is the report Postfix writes for an unknown user.
func dsn(s sent) string {
	return strings.NewReplacer("{from}", s.from, "{to}", s.to, "{mid}", s.messageID).Replace(`From: MAILER-DAEMON@relay.people.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {from}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.people.test.

<{to}>: unknown user

--b1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.people.test

Final-Recipient: rfc822; {to}
Original-Recipient: rfc822;{to}
Action: failed
Status: 5.1.1
Diagnostic-Code: X-Postfix; unknown user

--b1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{from}>
To: {to}
Message-Id: {mid}
Subject: The river needs you

--b1--
`)
}

// header returns the first header field called name of a raw message.
func header(raw []byte, name string) string {
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
