// Command scale-out sends the same campaign with 1, 2 and 4 worker
// processes, each with the same connection limit, to a relay whose every
// reply comes 20 ms late (scripts/smtp-sink -rtt): connections, not CPU,
// are then the limit, and the send rate should rise with the workers. It
// prints the three rates and the ratio 4 workers / 1 worker (goal: 3 or
// more), and checks, for every run, that each recipient got one message
// and that the relay never had more connections open than the workers'
// limits add up to. A last run sends with 4 workers under a relay rate
// (rate=, shared through Redis) of half the 4-worker rate, and checks the
// campaign took at least as long as that rate allows.
//
// It builds dearfriend and scripts/smtp-sink and runs `dearfriend serve`,
// the workers and a sink per run as processes of their own, against a
// PostgreSQL database and a Redis queue of its own (removed at the end).
//
//	eval "$(scripts/test-services)"; go run ./scripts/scale-out
//
// It needs DEARFRIEND_TEST_DATABASE_URL (an admin URL: it creates a
// database) and DEARFRIEND_TEST_REDIS_URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
	"github.com/dearfriend/dearfriend/scripts/internal/dfapi"
	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
)

func main() {
	n := flag.Int("n", 3000, "recipients")
	conns := flag.Int("conns", 4, "DEARFRIEND_SMTP_CONNS of each worker process")
	workers := flag.Int("workers", 4, "DEARFRIEND_WORKERS (tasks at once) of each worker process")
	rtt := flag.Duration("rtt", 20*time.Millisecond, "how late the relay hands on each reply")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*n, *conns, *workers, *rtt, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "scale-out:", err)
		os.Exit(1)
	}
}

// maxProcs is the most worker processes of a run.
const maxProcs = 4

func run(n, conns, workers int, rtt, timeout time.Duration) error {
	admin, redisURL := os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL")
	if admin == "" || redisURL == "" {
		return errors.New(`DEARFRIEND_TEST_DATABASE_URL and DEARFRIEND_TEST_REDIS_URL are required: eval "$(scripts/test-services)"`)
	}
	f, err := fleet.New("scale-out")
	if err != nil {
		return err
	}
	passed := false
	defer func() {
		if passed {
			f.Remove()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dsn, err := benchdb.Create(admin, "dfscale")
	if err != nil {
		return err
	}
	defer benchdb.Drop(admin, dsn)
	queue := "dfscale_" + testenv.Random(6)
	defer testenv.DropQueueKeys(redisURL, queue)
	defer f.Stop()

	base := fleet.Settings{DatabaseURL: dsn, RedisURL: redisURL, Queue: queue, HTTPAddr: fleet.FreeAddr(),
		Conns: conns, Workers: workers, Extra: []string{"DEARFRIEND_BATCH_SIZE=100"}}
	// serve keeps 2 × DEARFRIEND_WORKERS batches of a campaign in Redis:
	// it is given the whole fleet's, so that four processes find work.
	serve := base
	serve.SMTP, serve.Workers = "127.0.0.1:1", workers*maxProcs
	if _, err := f.Start("serve", serve.Env(), f.Bin("dearfriend"), "serve"); err != nil {
		return err
	}
	api := &dfapi.Client{Base: "http://" + base.HTTPAddr, Token: fleet.Token}
	if err := api.WaitUp(ctx); err != nil {
		return fmt.Errorf("%w (logs in %s)", err, f.Dir)
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("scale%06d@example.org", i)
	}
	list, err := api.ImportList(ctx, emails)
	if err != nil {
		return err
	}
	r := runner{f: f, api: api, list: list, n: n, base: base, rtt: rtt}
	rates := map[int]float64{}
	for _, procs := range []int{1, 2, maxProcs} {
		res, err := r.send(ctx, procs, 0)
		if err != nil {
			return err
		}
		rates[procs] = res.rate
		fmt.Printf("scale-out: %d worker process(es) × %d connections: %d messages in %s, %.0f messages/s, %d connections at most, %d duplicates\n",
			procs, conns, res.sum.Messages, res.took.Round(time.Millisecond), res.rate, res.sum.PeakConns, res.sum.Duplicates)
	}
	ratio := rates[maxProcs] / rates[1]
	fmt.Printf("scale-out: 4 workers / 1 worker = %.2f (goal ≥ 3); %.0f, %.0f, %.0f messages/s at 1, 2, 4 (-n %d -conns %d -workers %d -rtt %s)\n",
		ratio, rates[1], rates[2], rates[maxProcs], n, conns, workers, rtt)

	limit := max(1, int(rates[maxProcs]/2))
	res, err := r.send(ctx, maxProcs, limit)
	if err != nil {
		return err
	}
	// GCRA lets a burst of one second's worth through at once, then the rate.
	least := time.Duration(float64(n-limit) / float64(limit) * float64(time.Second))
	fmt.Printf("scale-out: 4 workers under rate=%d: %d messages in %s, %.0f messages/s (at least %s allowed)\n",
		limit, res.sum.Messages, res.took.Round(time.Millisecond), res.rate, least.Round(time.Millisecond))
	if res.took < least*95/100 {
		return fmt.Errorf("4 workers sent under rate=%d in %s, faster than the rate allows (%s): the limit is not shared", limit, res.took, least)
	}
	if ratio < 3 {
		fmt.Printf("scale-out: the ratio %.2f is below the goal of 3\n", ratio)
	}
	passed = true
	return nil
}

// runner sends the same list again for each run.
type runner struct {
	f    *fleet.Fleet
	api  *dfapi.Client
	list int64
	n    int
	base fleet.Settings
	rtt  time.Duration
	runs int
}

type result struct {
	sum  fleet.Summary
	took time.Duration // from the first message accepted to the last
	rate float64       // messages a second over took
}

// send starts a sink and procs worker processes, sends a new campaign to
// the list (through a relay limited to rate a second, unless 0), checks what
// the sink got, and stops the workers and the sink.
func (r *runner) send(ctx context.Context, procs, rate int) (result, error) {
	r.runs++
	defer r.f.StopMatching(fmt.Sprintf("run%d-", r.runs))
	sink, err := r.f.StartSinkNamed(fmt.Sprintf("run%d-smtp-sink", r.runs), "-rtt", r.rtt.String())
	if err != nil {
		return result{}, err
	}
	s := r.base
	s.SMTP = sink.SMTP
	if rate > 0 {
		s.SMTPQuery = "&rate=" + strconv.Itoa(rate)
	}
	for i := range procs {
		if _, err := r.f.Start(fmt.Sprintf("run%d-worker%d", r.runs, i+1), s.Env(), r.f.Bin("dearfriend"), "worker"); err != nil {
			return result{}, err
		}
	}
	camp, err := r.api.DraftCampaign(ctx, r.list, fmt.Sprintf("scale %d", r.runs))
	if err != nil {
		return result{}, err
	}
	if err := r.api.Send(ctx, camp); err != nil {
		return result{}, err
	}
	var first, last time.Time
	var sum fleet.Summary
	for sum.Messages < r.n {
		select {
		case <-ctx.Done():
			return result{}, fmt.Errorf("run %d (%d workers): %d of %d messages at the deadline (logs in %s)", r.runs, procs, sum.Messages, r.n, r.f.Dir)
		case <-time.After(20 * time.Millisecond):
		}
		if sum, err = sink.Recipients(); err != nil {
			return result{}, err
		}
		if now := time.Now(); sum.Messages > 0 && first.IsZero() {
			first = now
		}
	}
	last = time.Now()
	if err := r.api.WaitSent(ctx, camp); err != nil {
		return result{}, err
	}
	if sum, err = sink.Recipients(); err != nil {
		return result{}, err
	}
	res := result{sum: sum, took: last.Sub(first)}
	res.rate = float64(sum.Messages) / res.took.Seconds()
	switch {
	case sum.Distinct != r.n || sum.Duplicates != 0:
		return res, fmt.Errorf("run %d (%d workers): %d of %d recipients reached, %d duplicates; want all, none (logs in %s)",
			r.runs, procs, sum.Distinct, r.n, sum.Duplicates, r.f.Dir)
	case sum.PeakConns > procs*r.base.Conns:
		return res, fmt.Errorf("run %d (%d workers): the relay had %d connections open at once, more than %d workers × %d",
			r.runs, procs, sum.PeakConns, procs, r.base.Conns)
	}
	return res, nil
}
