// Command bench-track measures the open pixel and the click redirect under
// load from wrk, a second process on the same machine, against an App backed
// by PostgreSQL (SQLite with -sqlite). After each run the App shuts down
// gracefully and the events in the database are counted against the requests
// it answered: the two must be equal.
//
//	go run ./scripts/bench-track [-pg postgres://…/postgres] [-d 10s] [-c 32] [-t 1] [-runs 3]
//
// wrk must be on the PATH (apt-get install wrk). Everything listens on 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

type options struct {
	benchdb.Flags
	sends          int
	duration       time.Duration
	conns, threads int
	runs           int
}

func main() {
	var o options
	o.Register()
	flag.IntVar(&o.sends, "sends", 5000, "recipients of the campaign whose tokens are requested, round robin")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each wrk run")
	flag.IntVar(&o.conns, "c", 32, "wrk connections")
	flag.IntVar(&o.threads, "t", 1, "wrk threads")
	flag.IntVar(&o.runs, "runs", 3, "runs per endpoint")
	only := flag.String("only", "", `"open" or "click": measure one endpoint only`)
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		fail(fmt.Errorf("wrk not found on PATH (apt-get install -y wrk): %w", err))
	}
	if err := o.Check(); err != nil {
		fail(err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	results := map[string][]result{}
	for run := 1; run <= o.runs; run++ {
		for _, ep := range endpoints(*only) {
			r, err := bench(o, ep)
			if err != nil {
				fail(err)
			}
			fmt.Printf("run %d %-5s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  served %d  errors %d  events in the database %d\n",
				run, ep, r.rps, r.p50, r.p99, r.served, r.errors, r.stored)
			if r.served != r.stored {
				fail(fmt.Errorf("%s run %d: %d requests served but %d events stored", ep, run, r.served, r.stored))
			}
			results[ep] = append(results[ep], r)
		}
	}
	for _, ep := range endpoints(*only) {
		rs := results[ep]
		fmt.Printf("median %-5s %9.0f req/s  p99 %6.2f ms  (%d runs of %s, %d connections, %d wrk threads, %s)\n", ep,
			median(rs, func(r result) float64 { return r.rps }), median(rs, func(r result) float64 { return r.p99 }),
			len(rs), o.duration, o.conns, o.threads, o.Name())
	}
}

func endpoints(only string) []string {
	if only != "" {
		return []string{only}
	}
	return []string{"open", "click"}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-track:", err)
	os.Exit(1)
}

type result struct {
	rps, p50, p99          float64
	served, errors, stored int64
}

// bench boots an App on a fresh database, seeds a sent campaign, runs wrk on
// one endpoint, shuts the App down and counts.
func bench(o options, endpoint string) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn, redisURL, cleanup, err := o.Backends("dfbenchtrack")
	if err != nil {
		return result{}, err
	}
	defer cleanup()
	// Serve mode, as a tracking node runs in production: HTTP only, no worker
	// sending the seeded campaign meanwhile.
	secret := strings.Repeat("b", 40)
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":      "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR":   "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL":   dsn,
		"DEARFRIEND_REDIS_URL":      redisURL,
		"DEARFRIEND_QUEUE":          fmt.Sprintf("benchtrack%d", time.Now().UnixNano()),
		"DEARFRIEND_SECRET":         secret,
		"DEARFRIEND_POSTAL_ADDRESS": "1 Bench Street",
		// serve and worker refuse the demo's identity and http without this.
		"DEARFRIEND_ALLOW_HTTP": "1",
		"DEARFRIEND_ORG_NAME":   "Bench Org",
		"DEARFRIEND_FROM_NAME":  "Bench",
		"DEARFRIEND_FROM_EMAIL": "bench@dearfriend.test",
		"DEARFRIEND_API_TOKEN":  strings.Repeat("t", 32),
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
	campaignID, paths, err := seed(ctx, a.Store(), o.sends, track.NewSigner(secret), endpoint)
	if err != nil {
		return result{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	script := filepath.Join(os.TempDir(), fmt.Sprintf("bench-track-%d.lua", time.Now().UnixNano()))
	defer os.Remove(script)
	if err := writeScript(script, paths); err != nil {
		return result{}, err
	}
	cmd := exec.Command("wrk", "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns), "-d", o.duration.String(),
		"--latency", "-s", script, a.URL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return result{}, err
	}
	stop()
	if err := <-done; err != nil {
		return result{}, err
	}
	st := a.TrackingStats()
	r.served = st.Accepted + st.Dropped
	if r.stored, err = a.Store().CountEvents(ctx, campaignID); err != nil {
		return result{}, err
	}
	return r, nil
}

// seed makes a campaign of n recipients with one link and returns the paths of
// their open pixels or click redirects.
func seed(ctx context.Context, st *store.Store, n int, signer *track.Signer, endpoint string) (int64, []string, error) {
	list := &store.List{Name: "bench"}
	if err := st.CreateList(ctx, list); err != nil {
		return 0, nil, err
	}
	cs := make([]store.Contact, n)
	for i := range cs {
		cs[i] = store.Contact{Email: fmt.Sprintf("r%06d@example.org", i)}
	}
	if _, err := st.InsertContacts(ctx, cs); err != nil {
		return 0, nil, err
	}
	var ids []int64
	for after := int64(0); ; {
		page, err := st.ListContacts(ctx, after, 1000)
		if err != nil {
			return 0, nil, err
		}
		for _, c := range page {
			ids = append(ids, c.ID)
			after = c.ID
		}
		if len(page) < 1000 {
			break
		}
	}
	if err := st.AddListMembers(ctx, list.ID, ids); err != nil {
		return 0, nil, err
	}
	m := &store.Message{Name: "bench", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
	if err := st.CreateMessage(ctx, m); err != nil {
		return 0, nil, err
	}
	c := &store.Campaign{Name: "bench", MessageID: m.ID, Audience: store.Audience{Lists: []int64{list.ID}}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		return 0, nil, err
	}
	if _, err := st.StartCampaign(ctx, c.ID); err != nil {
		return 0, nil, err
	}
	links, err := st.EnsureLinks(ctx, c.ID, []string{"https://example.org/petitions/northfork?source=email"})
	if err != nil {
		return 0, nil, err
	}
	var paths []string
	for after := int64(0); ; {
		lo, hi, ok, err := st.NextBatch(ctx, c.ID, after, 1000)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			break
		}
		rs, err := st.PendingRecipients(ctx, c.ID, lo, hi)
		if err != nil {
			return 0, nil, err
		}
		for _, r := range rs {
			if endpoint == "open" {
				paths = append(paths, "/t/o/"+signer.Sign(track.KindOpen, r.SendID, 0)+".gif")
			} else {
				paths = append(paths, "/t/c/"+signer.Sign(track.KindClick, r.SendID, links[0]))
			}
		}
		after = hi
	}
	if len(paths) != n {
		return 0, nil, fmt.Errorf("seeded %d sends, want %d", len(paths), n)
	}
	return c.ID, paths, nil
}

// writeScript writes a wrk script requesting paths round robin, as a mail client would.
func writeScript(path string, paths []string) error {
	var b strings.Builder
	b.WriteString("wrk.headers[\"User-Agent\"] = \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"\nlocal paths = {\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "%q,\n", p)
	}
	b.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latencyRe = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	errorsRe  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := rpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range latencyRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if m[1] == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	for _, m := range errorsRe.FindAllStringSubmatch(out, -1) {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.errors += n
		}
	}
	return r, nil
}

func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}
