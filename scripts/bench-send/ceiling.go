package main

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/templates"
)

// benchCeiling pushes one pre-rendered demo alert n times over conns kept-open
// connections, with nothing else running: no database, no queue, no merge.
func benchCeiling(n, runs int) error {
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		return err
	}
	body, err := fs.ReadFile(templates.FS, "demo/long-alert.html")
	if err != nil {
		return err
	}
	c, err := render.NewCompiler(layouts, render.Org{Name: "Bench", PostalAddress: "1 Main St"}).Compile(render.Input{
		Subject: "Add your name", FromName: "Maya Ortiz", FromEmail: "action@example.org", HTML: string(body)})
	if err != nil {
		return err
	}
	out, err := c.Merge(render.Recipient{SendID: 1, Email: "jane@example.org", FirstName: "Jane"}, fixedURLs{})
	if err != nil {
		return err
	}
	msg, err := mailer.Build(&mailer.Message{FromName: "Maya Ortiz", FromEmail: "action@example.org", ToEmail: "jane@example.org",
		Subject: out.Subject, MessageID: "ceiling@example.org", Date: time.Now(), HTML: out.HTML, Text: out.Text})
	if err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(sinkAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portStr)
	var times []time.Duration
	for run := range runs {
		before, err := sinkCount()
		if err != nil {
			return err
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		errc := make(chan error, conns)
		start := time.Now()
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- pushLoop(host, port, msg, &next, int64(n))
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				return err
			}
		}
		var first time.Duration
		if err := waitFor(sinkCount, before, before+int64(n), start, &first); err != nil {
			return err
		}
		d := time.Since(start)
		times = append(times, d)
		fmt.Printf("ceiling (%d connections): run %d: %d messages in %v (%.0f msg/s)\n", conns, run+1, n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	}
	report(fmt.Sprintf("ceiling (%d connections)", conns), n, times)
	return nil
}

func pushLoop(host string, port int, msg mailer.Raw, next *atomic.Int64, n int64) error {
	client, err := mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithTimeout(30*time.Second))
	if err != nil {
		return err
	}
	sc, err := client.DialToSMTPClientWithContext(context.Background())
	if err != nil {
		return err
	}
	defer client.CloseWithSMTPClient(sc)
	for next.Add(1) <= n {
		// The timeout bounds one message, as in mailer.Pool, not the run.
		if err := sc.UpdateDeadline(30 * time.Second); err != nil {
			return err
		}
		if err := sc.Mail("action@example.org"); err != nil {
			return err
		}
		if err := sc.Rcpt("jane@example.org"); err != nil {
			return err
		}
		w, err := sc.Data()
		if err != nil {
			return err
		}
		if _, err := msg.WriteTo(w); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

type fixedURLs struct{}

func (fixedURLs) Click(s, l int64) string {
	return fmt.Sprintf("https://act.example.org/t/c/%d-%d", s, l)
}
func (fixedURLs) Open(int64) string                  { return "https://act.example.org/t/o/x.gif" }
func (fixedURLs) Unsubscribe(int64) string           { return "https://act.example.org/u/x" }
func (fixedURLs) Preferences(int64) string           { return "https://act.example.org/p/x" }
func (fixedURLs) View(int64) string                  { return "https://act.example.org/v/x" }
func (fixedURLs) Action(int64, int64, string) string { return "https://act.example.org/a/x" }
