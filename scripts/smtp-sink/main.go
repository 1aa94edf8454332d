// Command smtp-sink is an SMTP server that accepts every message and keeps
// none, run as a process of its own so that benchmarks measure the sender
// without the receiver's work on the same scheduler. GET /count on -http
// answers the number of messages accepted so far. With -recipients it also
// counts messages per recipient, and GET /recipients answers
// {"messages", "distinct", "duplicates"}: a fault test counts with it the
// messages a recipient got more than once. It offers PIPELINING, as most
// relays do (go-smtp's server); bench-send -rtt puts it at a distance.
//
//	go run ./scripts/smtp-sink -smtp 127.0.0.1:2526 -http 127.0.0.1:2527
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

func main() {
	smtpAddr := flag.String("smtp", "127.0.0.1:2526", "SMTP listen address")
	httpAddr := flag.String("http", "127.0.0.1:2527", "HTTP address of GET /count")
	perRecipient := flag.Bool("recipients", false, "count messages per recipient (GET /recipients)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var rc recipientCounts
	opts := devsvc.CaptureOptions{Limit: 1, Logger: log}
	if *perRecipient {
		opts.OnMessage = rc.add
	}
	c, err := devsvc.StartCapture(*smtpAddr, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smtp-sink:", err)
		os.Exit(1)
	}
	defer c.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, c.Count()) })
	mux.HandleFunc("GET /recipients", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(rc.summary()) })
	srv := &http.Server{Addr: *httpAddr, Handler: mux}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, "smtp-sink:", err)
			os.Exit(1)
		}
	}()
	fmt.Printf("smtp-sink: SMTP on %s, count on http://%s/count\n", c.Addr(), *httpAddr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	srv.Shutdown(context.Background())
	fmt.Printf("smtp-sink: %d messages accepted\n", c.Count())
}

// recipientCounts counts the messages each recipient got.
type recipientCounts struct {
	mu   sync.Mutex
	seen map[string]int
}

func (rc *recipientCounts) add(m devsvc.Message) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen == nil {
		rc.seen = map[string]int{}
	}
	for _, to := range m.To {
		rc.seen[to]++
	}
}

// RecipientSummary is the answer of GET /recipients.
type RecipientSummary struct {
	Messages   int `json:"messages"`
	Distinct   int `json:"distinct"`   // recipients with at least one message
	Duplicates int `json:"duplicates"` // messages beyond the first of a recipient
}

func (rc *recipientCounts) summary() RecipientSummary {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var s RecipientSummary
	for _, n := range rc.seen {
		s.Messages += n
		s.Distinct++
		s.Duplicates += n - 1
	}
	return s
}
