// Command smtp-sink is an SMTP server that accepts every message and keeps
// none, run as a process of its own so that benchmarks measure the sender
// without the receiver's work on the same scheduler. GET /count on -http
// answers the number of messages accepted so far.
//
//	go run ./scripts/smtp-sink -smtp 127.0.0.1:2526 -http 127.0.0.1:2527
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

func main() {
	smtpAddr := flag.String("smtp", "127.0.0.1:2526", "SMTP listen address")
	httpAddr := flag.String("http", "127.0.0.1:2527", "HTTP address of GET /count")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := devsvc.StartCapture(*smtpAddr, devsvc.CaptureOptions{Limit: 1, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "smtp-sink:", err)
		os.Exit(1)
	}
	defer c.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, c.Count()) })
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
