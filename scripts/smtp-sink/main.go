// Command smtp-sink is an SMTP server that accepts every message and keeps
// none, run as a process of its own so that benchmarks measure the sender
// without the receiver's work on the same scheduler. GET /count on -http
// answers the number of messages accepted so far. With -recipients it also
// counts messages per recipient, and GET /recipients answers
// {"messages", "distinct", "duplicates"}: a fault test counts with it the
// messages a recipient got more than once. It offers PIPELINING, as most
// relays do (go-smtp's server); -rtt puts it at a distance, and then
// /recipients also answers the most connections that were open at once.
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
	rtt := flag.Duration("rtt", 0, "hand on every reply this `duration` late, as a relay that far away (devsvc.LatencyProxy), e.g. 20ms")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var rc recipientCounts
	opts := devsvc.CaptureOptions{Limit: 1, Logger: log}
	if *perRecipient {
		opts.OnMessage = rc.add
	}
	listen := *smtpAddr
	if *rtt > 0 {
		listen = "127.0.0.1:0" // behind the proxy, which takes -smtp
	}
	c, err := devsvc.StartCapture(listen, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smtp-sink:", err)
		os.Exit(1)
	}
	defer c.Close()
	peak := func() int { return 0 }
	if *rtt > 0 {
		p, err := devsvc.ListenLatencyProxy(*smtpAddr, c.Addr(), *rtt)
		if err != nil {
			fmt.Fprintln(os.Stderr, "smtp-sink:", err)
			os.Exit(1)
		}
		defer p.Close()
		peak = p.Peak
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, c.Count()) })
	mux.HandleFunc("GET /recipients", func(w http.ResponseWriter, r *http.Request) {
		s := rc.summary()
		s.PeakConns = peak()
		json.NewEncoder(w).Encode(s)
	})
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
	PeakConns  int `json:"peak_conns"` // the most connections open at once; with -rtt only
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
