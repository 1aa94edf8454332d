// Command bench-sign measures the signatures per second the petition sign
// endpoint (POST /a/{slug}/sign) sustains: c clients post the visitor form
// at once for d, each post a new person from an address of its own, one in
// ten a person who already signed. After each run the petition's count in the
// database must equal the distinct people whose post was answered 200.
//
//	go run ./scripts/bench-sign [-pg postgres://…/postgres] [-c 32] [-d 10s] [-runs 3]
//
// The App runs in serve mode (HTTP only; confirmations are queued, not
// sent) on a fresh PostgreSQL database per run (SQLite with -sqlite), on the
// same machine as the clients.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

type options struct {
	benchdb.Flags
	clients  int
	duration time.Duration
	runs     int
}

func main() {
	var o options
	o.Register()
	flag.IntVar(&o.clients, "c", 32, "concurrent clients")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each run")
	flag.IntVar(&o.runs, "runs", 3, "runs")
	flag.Parse()
	if err := o.Check(); err != nil {
		fail(err)
	}
	var rates []float64
	for run := 1; run <= o.runs; run++ {
		r, err := bench(o)
		if err != nil {
			fail(err)
		}
		fmt.Printf("run %d  %7.0f signatures/s  p50 %6.2f ms  p99 %6.2f ms  posts %d  signers %d  counted %d  errors %d\n",
			run, r.rate, r.p50, r.p99, r.posts, r.signers, r.counted, r.errors)
		if r.counted != r.signers {
			fail(fmt.Errorf("run %d: %d people signed but the petition counts %d", run, r.signers, r.counted))
		}
		rates = append(rates, r.rate)
	}
	slices.Sort(rates)
	fmt.Printf("median %7.0f signatures/s  (%d runs of %s, %d clients, %s, count exact)\n", rates[len(rates)/2], o.runs, o.duration, o.clients, o.Name())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-sign:", err)
	os.Exit(1)
}

type result struct {
	rate, p50, p99                  float64
	posts, signers, counted, errors int64
}

func bench(o options) (result, error) {
	ctx := context.Background()
	dsn, redisURL, cleanup, err := o.Backends("dfbenchsign")
	if err != nil {
		return result{}, err
	}
	defer cleanup()
	queue := fmt.Sprintf("benchsign%d", time.Now().UnixNano())
	defer dropQueue(redisURL, queue)
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":      "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR":   "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL":   dsn,
		"DEARFRIEND_REDIS_URL":      redisURL,
		"DEARFRIEND_QUEUE":          queue,
		"DEARFRIEND_SECRET":         strings.Repeat("b", 40),
		"DEARFRIEND_POSTAL_ADDRESS": "1 Bench Street",
		// serve and worker refuse the demo's identity and http without this.
		"DEARFRIEND_ALLOW_HTTP": "1",
		"DEARFRIEND_ORG_NAME":   "Bench Org",
		"DEARFRIEND_FROM_NAME":  "Bench",
		"DEARFRIEND_FROM_EMAIL": "bench@dearfriend.test",
		"DEARFRIEND_API_TOKEN":  strings.Repeat("t", 32),
		// Each post comes from an address of its own, as a crowd would: the
		// per-address limit stays on and is not what is measured.
		"DEARFRIEND_TRUST_PROXY": "true",
	}
	cfg, err := config.FromEnv(config.ModeServe, func(k string) string { return env[k] })
	if err != nil {
		return result{}, err
	}
	a, err := app.New(ctx, cfg, app.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return result{}, err
	}
	defer a.Close()
	p := &store.Petition{Slug: "bench", Title: "Bench", Open: true}
	if err := a.Store().CreatePetition(ctx, p); err != nil {
		return result{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	// One visitor: the sign form's CSRF token is bound to its cookie.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return result{}, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients}, Timeout: 30 * time.Second, Jar: jar}
	csrf, err := csrfToken(client, a.URL()+"/a/bench")
	if err != nil {
		return result{}, err
	}
	var (
		next, posts, errCount atomic.Int64
		mu                    sync.Mutex
		signed                = map[int64]bool{}
		latencies             []time.Duration
		wg                    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(o.duration)
	for range o.clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				i := next.Add(1)
				person := i
				if i%10 == 0 {
					person = i - 5 // someone who already signed, or is signing now
				}
				form := url.Values{"csrf": {csrf}, "email": {fmt.Sprintf("p%d@example.org", person)}, "first_name": {"P"}, "last_name": {"Q"}}
				req, _ := http.NewRequest("POST", a.URL()+"/a/bench/sign", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errCount.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				posts.Add(1)
				if resp.StatusCode != http.StatusOK {
					errCount.Add(1)
					continue
				}
				mu.Lock()
				signed[person] = true
				mu.Unlock()
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	if err := <-done; err != nil {
		return result{}, err
	}
	n, err := a.Store().CountSignatures(ctx, p.ID)
	if err != nil {
		return result{}, err
	}
	slices.Sort(latencies)
	ms := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return result{rate: float64(n) / elapsed.Seconds(), p50: ms(0.5), p99: ms(0.99), posts: posts.Load(),
		signers: int64(len(signed)), counted: n, errors: errCount.Load()}, nil
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfToken(c *http.Client, page string) (string, error) {
	resp, err := c.Get(page)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("no CSRF token on %s (%s)", page, resp.Status)
	}
	return string(m[1]), nil
}

// dropQueue removes the run's queue and its queued confirmations.
func dropQueue(redisURL, queue string) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return
	}
	in := asynq.NewInspector(opt)
	defer in.Close()
	_ = in.DeleteQueue(queue, true)
}
