// Command bench-send measures the time from POST /campaigns/{id}/send to the
// last message accepted by an SMTP server, for a campaign of -n contacts, in
// embedded mode (SQLite, in-process Redis) and, when -pg and -redis are given,
// in PostgreSQL+Redis mode. It prints each run and the median. The message is
// templates/demo/long-alert.html, the demo action alert grown to 20 KB of HTML.
//
// By default the receiving server is a capture server inside this process.
// With -sink (an smtp-sink process, see scripts/smtp-sink) the receiver runs
// apart, and -ceiling first measures the ceiling: one pre-rendered message
// pushed over -conns kept-open connections by a tight go-mail loop, so the
// pipeline can be reported as a share of it.
//
//	go run ./scripts/bench-send -n 10000 -runs 3 [-pg postgres://…/postgres -redis redis://…]
//	go run ./scripts/bench-send -sink 127.0.0.1:2526 -sink-http 127.0.0.1:2527 -ceiling -conns 8 -n 100000
//
// With -worker-bin (a built dearfriend binary) the PostgreSQL+Redis mode
// runs the API in this process and the sending in a separate `dearfriend
// worker` process, whose peak resident memory is printed at the end: the
// figure that must not grow with the audience.
//
//	go build -o bin/dearfriend ./cmd/dearfriend
//	go run ./scripts/bench-send -only postgres -worker-bin bin/dearfriend -sink 127.0.0.1:2526 -n 1000000 -runs 1
//
// Every run also reports the time to the first message accepted; the CPU
// time per message of this process (serve and worker, or serve alone with
// -worker-bin), of the worker process, of all PostgreSQL processes and of
// redis-server, read from /proc/<pid>/stat (they count whatever else uses
// those servers meanwhile); the SQL statements and transactions per message
// that this process's store ran (a bun query hook: pg_stat_statements is
// seldom installed, and pg_stat_database counts transactions only, late);
// and the peak resident memory (VmHWM) of each process.
//
// -rtt holds every reply of the receiving server for that long, through a
// proxy in this process, to measure what round trips to a distant relay
// cost:
//
//	go run ./scripts/bench-send -n 2000 -runs 1 -rtt 20ms
//
// -dkim rsa or -dkim ed25519 signs every message, with a key made for the run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
	"github.com/dearfriend/dearfriend/templates"
)

func main() {
	n := flag.Int("n", 10000, "contacts in the campaign")
	runs := flag.Int("runs", 3, "campaigns per mode")
	pg := flag.String("pg", os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), "PostgreSQL admin URL (a database is created and dropped)")
	redisURL := flag.String("redis", os.Getenv("DEARFRIEND_TEST_REDIS_URL"), "Redis URL")
	flag.StringVar(&sinkAddr, "sink", "", "SMTP address of an smtp-sink process (default: a capture server in this process)")
	flag.StringVar(&sinkHTTP, "sink-http", "127.0.0.1:2527", "HTTP address of the smtp-sink's GET /count")
	flag.IntVar(&conns, "conns", 8, "SMTP connections (and send tasks at once)")
	ceiling := flag.Bool("ceiling", false, "measure the ceiling first (needs -sink)")
	only := flag.String("only", "", "run one mode only: embedded or postgres")
	flag.StringVar(&workerBin, "worker-bin", "", "send from a separate `dearfriend worker` process built at this path (postgres mode only)")
	flag.DurationVar(&rtt, "rtt", 0, "delay every reply of the receiving server by this `duration`, e.g. 20ms")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (serve and worker, unless -worker-bin) over every run's sending to `file`")
	flag.BoolVar(&byKind, "statements-by-kind", false, "print each run's SQL statements by kind (this process's store), most first")
	flag.StringVar(&dkimKind, "dkim", "", "sign every message with a new DKIM key of this `kind`: rsa (2048 bits) or ed25519")
	flag.Parse()
	if rtt < 0 {
		fmt.Fprintln(os.Stderr, "bench-send: -rtt must not be negative")
		os.Exit(2)
	}
	if rtt > 0 && sinkAddr != "" {
		addr, stop, err := startDelayProxy(sinkAddr, rtt)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-send:", err)
			os.Exit(1)
		}
		defer stop()
		sinkAddr = addr
	}
	if *ceiling {
		if sinkAddr == "" {
			fmt.Fprintln(os.Stderr, "bench-send: -ceiling needs -sink")
			os.Exit(2)
		}
		if err := benchCeiling(*n, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "bench-send:", err)
			os.Exit(1)
		}
	}
	if *only != "postgres" && workerBin == "" {
		if err := bench("embedded (SQLite, in-process Redis)", *n, *runs, "", ""); err != nil {
			fmt.Fprintln(os.Stderr, "bench-send:", err)
			os.Exit(1)
		}
	}
	if *only == "embedded" {
		return
	}
	if *pg == "" || *redisURL == "" {
		fmt.Println("postgres+redis: skipped (give -pg and -redis, or set DEARFRIEND_TEST_DATABASE_URL and DEARFRIEND_TEST_REDIS_URL)")
		return
	}
	if err := bench("PostgreSQL+Redis", *n, *runs, *pg, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "bench-send:", err)
		os.Exit(1)
	}
}

var (
	sinkAddr, sinkHTTP string
	conns              int
	workerBin          string
	rtt                time.Duration
	dkimKind           string
	byKind             bool
	cpuProfile         string
)

// receiver returns the SMTP address messages go to and a function counting
// the messages it accepted so far.
func receiver() (addr string, count func() (int64, error), closeFn func(), err error) {
	if sinkAddr != "" {
		return sinkAddr, sinkCount, func() {}, nil
	}
	c, err := devsvc.StartCapture("", devsvc.CaptureOptions{Limit: 10})
	if err != nil {
		return "", nil, nil, err
	}
	addr, closeFn = c.Addr(), func() { c.Close() }
	if rtt > 0 {
		proxied, stop, err := startDelayProxy(addr, rtt)
		if err != nil {
			c.Close()
			return "", nil, nil, err
		}
		addr, closeFn = proxied, func() { stop(); c.Close() }
	}
	return addr, func() (int64, error) { return c.Count(), nil }, closeFn, nil
}

func sinkCount() (int64, error) {
	resp, err := http.Get("http://" + sinkHTTP + "/count")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var n int64
	_, err = fmt.Fscan(resp.Body, &n)
	return n, err
}

// waitFor polls count until it reaches target, and sets *first to the time
// since start at which the count first passed from.
func waitFor(count func() (int64, error), from, target int64, start time.Time, first *time.Duration) error {
	for {
		got, err := count()
		if err != nil {
			return err
		}
		if got > from && *first == 0 {
			*first = time.Since(start)
		}
		if got >= target {
			return nil
		}
		// Far slower than any run measured: 15 minutes, and 2 ms a message.
		if limit := 15*time.Minute + time.Duration(target)*2*time.Millisecond; time.Since(start) > limit {
			return fmt.Errorf("%d of %d messages after %v", got, target, limit)
		}
		// Every 2 ms until the first message, for its time; then every
		// 20 ms (0.2% of the shortest run's time). Polled every 2 ms
		// throughout, the bench and the sink answered 500 HTTP requests a
		// second on the same two cores as the system measured: a quarter
		// of this process's CPU over a million-recipient run.
		wait := 2 * time.Millisecond
		if *first != 0 {
			wait = 20 * time.Millisecond
		}
		time.Sleep(wait)
	}
}

func report(mode string, n int, times []time.Duration) time.Duration {
	slices.Sort(times)
	med := times[len(times)/2]
	fmt.Printf("%s: median %v for %d messages, %.0f msg/s\n", mode, med.Round(time.Millisecond), n, float64(n)/med.Seconds())
	return med
}

func bench(mode string, n, runs int, pgAdmin, redisURL string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "bench-send")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "bench.db")
	if pgAdmin != "" {
		if dsn, err = benchdb.Create(pgAdmin, "dfbench"); err != nil {
			return err
		}
		defer benchdb.Drop(pgAdmin, dsn)
	}
	smtpAddr, count, closeReceiver, err := receiver()
	if err != nil {
		return err
	}
	defer closeReceiver()
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":    "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR": "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL": dsn,
		"DEARFRIEND_REDIS_URL":    redisURL,
		"DEARFRIEND_QUEUE":        fmt.Sprintf("bench%d", time.Now().UnixNano()),
		"DEARFRIEND_SMTP_URL":     "smtp://" + smtpAddr + "?tls=none",
		"DEARFRIEND_SMTP_CONNS":   fmt.Sprint(conns),
		"DEARFRIEND_WORKERS":      fmt.Sprint(conns),
		"DEARFRIEND_API_TOKEN":    "bench-token",
		"DEARFRIEND_SEED":         "false",
		// Required outside dev mode (-worker-bin runs serve and worker).
		"DEARFRIEND_SECRET":         "bench-secret-bench-secret-bench-secret",
		"DEARFRIEND_POSTAL_ADDRESS": "1 Main St, Springfield",
		// serve and worker refuse the demo's identity and http without this.
		"DEARFRIEND_ALLOW_HTTP": "1",
		"DEARFRIEND_ORG_NAME":   "Bench Org",
		"DEARFRIEND_FROM_NAME":  "Bench",
		"DEARFRIEND_FROM_EMAIL": "bench@dearfriend.test",
	}
	if v := os.Getenv("DEARFRIEND_COMMIT_LINGER"); v != "" { // compared across runs
		env["DEARFRIEND_COMMIT_LINGER"] = v
	}
	dkim, err := dkimEnv(dkimKind, dir)
	if err != nil {
		return err
	}
	maps.Copy(env, dkim)
	appMode := config.ModeDev
	if workerBin != "" {
		appMode = config.ModeServe
	}
	cfg, err := config.FromEnv(appMode, func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer a.Close()
	workerPID := 0
	if workerBin != "" { // after app.New, which migrated the database
		pid, stop, err := startWorker(env)
		if err != nil {
			return err
		}
		defer stop()
		workerPID = pid
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	listID, err := seed(ctx, a.Store(), n)
	if err != nil {
		return err
	}
	body, err := fs.ReadFile(templates.FS, "demo/long-alert.html")
	if err != nil {
		return err
	}
	var msg store.Message
	if err := call(a, "POST", "/api/v1/messages", map[string]any{"subject": `{{ .FirstName | default "Friend" }}, add your name`,
		"from_name": "Maya Ortiz", "from_email": "action@dearfriend.test", "html": string(body)}, &msg); err != nil {
		return err
	}
	var times []time.Duration
	for run := range runs {
		var camp store.Campaign
		if err := call(a, "POST", "/api/v1/campaigns", map[string]any{"name": fmt.Sprint("bench ", run), "message_id": msg.ID,
			"audience": map[string]any{"lists": []int64{listID}}}, &camp); err != nil {
			return err
		}
		before, err := count()
		if err != nil {
			return err
		}
		used, kinds := readUsage(a.Store(), workerPID), a.Store().StatementsByKind()
		stopProfile, err := startProfile(fmt.Sprintf("%s.%d", strings.Fields(mode)[0], run+1))
		if err != nil {
			return err
		}
		start := time.Now()
		if err := call(a, "POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); err != nil {
			return err
		}
		var first time.Duration
		if err := waitFor(count, before, before+int64(n), start, &first); err != nil {
			return err
		}
		d := time.Since(start)
		stopProfile()
		times = append(times, d)
		fmt.Printf("%s: run %d: %d messages in %v (%.0f msg/s), first after %v\n", mode, run+1, n, d.Round(time.Millisecond), float64(n)/d.Seconds(), first.Round(time.Millisecond))
		runReport(mode, n, used, readUsage(a.Store(), workerPID), workerPID, pgAdmin != "", redisURL != "")
		if byKind {
			kindReport(mode, kinds, a.Store().StatementsByKind())
		}
	}
	report(mode, n, times)
	return nil
}

func seed(ctx context.Context, st *store.Store, n int) (int64, error) {
	cs := make([]store.Contact, 0, 1000)
	for i := range n {
		cs = append(cs, store.Contact{Email: fmt.Sprintf("bench%07d@example.org", i), FirstName: []string{"Jane", "", "José"}[i%3]})
		if len(cs) == cap(cs) || i == n-1 {
			if _, err := st.InsertContacts(ctx, cs); err != nil {
				return 0, err
			}
			cs = cs[:0]
		}
	}
	l := &store.List{Name: "bench"}
	if err := st.CreateList(ctx, l); err != nil {
		return 0, err
	}
	var ids []int64
	for after := int64(0); ; {
		page, err := st.ListContacts(ctx, after, 1000)
		if err != nil || len(page) == 0 {
			if err != nil {
				return 0, err
			}
			break
		}
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		after = page[len(page)-1].ID
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		return 0, err
	}
	st.AnalyzeAudience(ctx, int64(n)) // as an import of n contacts does
	return l.ID, nil
}

func call(a *app.App, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.URL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.APIToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
