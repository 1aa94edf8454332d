// Command redis-failover kills the Redis master with SIGKILL in the middle
// of a campaign and counts what every recipient got once Sentinel has
// promoted the replica.
//
// It starts Debian's redis-server and redis-sentinel on loopback (a master,
// one replica, three sentinels; pkg/testenv.SentinelSet), builds dearfriend
// and scripts/smtp-sink, and runs `dearfriend serve`, `dearfriend worker`
// and the sink as processes of their own, against a PostgreSQL database of
// its own (dropped at the end) and DEARFRIEND_REDIS_URL=redis-sentinel://….
// The master is killed once a share of the campaign is accepted by the
// sink. Every recipient must get the message, and duplicates stay within
// fault-kill's bound (README, Fault tests): the ledger, not Redis, says
// what is left, and what the replica had not yet received is enqueued again
// by the sweep. It prints how long the promotion took and how long sending
// stood still.
//
//	eval "$(scripts/test-services)"; go run ./scripts/redis-failover
//
// It needs DEARFRIEND_TEST_DATABASE_URL (an admin URL: it creates a database).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
	"github.com/dearfriend/dearfriend/scripts/internal/dfapi"
	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
)

func main() {
	n := flag.Int("n", 20000, "recipients")
	conns := flag.Int("conns", 8, "DEARFRIEND_SMTP_CONNS of the worker")
	workers := flag.Int("workers", 8, "DEARFRIEND_WORKERS of the worker")
	killAt := flag.Float64("kill-at", 0.3, "share of the campaign accepted when the master is killed")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*n, *conns, *workers, *killAt, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "redis-failover:", err)
		os.Exit(1)
	}
}

func run(n, conns, workers int, killAt float64, timeout time.Duration) error {
	admin := os.Getenv("DEARFRIEND_TEST_DATABASE_URL")
	if admin == "" {
		return errors.New(`DEARFRIEND_TEST_DATABASE_URL is required: eval "$(scripts/test-services)"`)
	}
	if _, err := exec.LookPath("redis-server"); err != nil || testenv.SentinelBinary() == "" {
		return errors.New("redis-server and redis-sentinel are required: apt-get install redis-server redis-sentinel")
	}
	f, err := fleet.New("redis-failover")
	if err != nil {
		return err
	}
	passed := false
	defer func() {
		if passed {
			f.Remove()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout) // from here: the builds take what the machine gives them
	defer cancel()
	deadline, _ := ctx.Deadline()
	set, err := testenv.StartSentinelSet(ctx, f.Dir)
	if err != nil {
		return err
	}
	defer set.Close()
	dsn, err := benchdb.Create(admin, "dffailover")
	if err != nil {
		return err
	}
	defer benchdb.Drop(admin, dsn)

	defer f.Stop() // before the set closes: the processes go first
	sink, err := f.StartSink()
	if err != nil {
		return err
	}
	s := fleet.Settings{DatabaseURL: dsn, RedisURL: set.URL(0), Queue: "dffailover", HTTPAddr: fleet.FreeAddr(),
		SMTP: sink.SMTP, Conns: conns, Workers: workers}
	if _, err := f.Start("serve", s.Env(), f.Bin("dearfriend"), "serve"); err != nil {
		return err
	}
	api := &dfapi.Client{Base: "http://" + s.HTTPAddr, Token: fleet.Token}
	if err := api.WaitUp(ctx); err != nil {
		return fmt.Errorf("%w (logs in %s)", err, f.Dir)
	}
	if _, err := f.Start("worker", s.Env(), f.Bin("dearfriend"), "worker"); err != nil {
		return err
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("failover%06d@example.org", i)
	}
	list, err := api.ImportList(ctx, emails)
	if err != nil {
		return err
	}
	camp, err := api.DraftCampaign(ctx, list, "failover")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := api.Send(ctx, camp); err != nil {
		return err
	}
	var before int
	if err := fleet.WaitUntil(deadline, func() (bool, error) {
		sum, err := sink.Recipients()
		before = sum.Messages
		return before >= int(killAt*float64(n)), err
	}); err != nil {
		return err
	}
	old, err := set.KillMaster(ctx)
	if err != nil {
		return err
	}
	killed := time.Now()
	fmt.Printf("redis-failover: master %s killed (SIGKILL) after %d of %d messages, %s into the send\n",
		old, before, n, killed.Sub(start).Round(time.Millisecond))
	promoted := make(chan string, 1)
	go func() {
		now, err := set.WaitPromoted(ctx, old)
		if err != nil {
			now = "none (" + err.Error() + ")"
		}
		promoted <- fmt.Sprintf("%s promoted %s after the kill", now, time.Since(killed).Round(time.Millisecond))
	}()
	gap, resumed, err := watch(ctx, api, sink, camp, killed)
	if err != nil {
		sum, _ := sink.Recipients()
		return fmt.Errorf("campaign not finished (sink: %+v; logs in %s): %w", sum, f.Dir, err)
	}
	finished := time.Now()
	fmt.Println("redis-failover:", <-promoted)
	sum, err := sink.Recipients()
	if err != nil {
		return err
	}
	bound := fleet.DuplicateBound(workers, conns)
	fmt.Printf("redis-failover: sending stood still for %s at most after the kill, and went on %s after it; "+
		"%d recipients, %d messages accepted, %d recipients reached, %d duplicates (bound %d); finished %s after the kill, %s in all\n",
		gap.Round(time.Millisecond), resumed.Round(time.Millisecond), n, sum.Messages, sum.Distinct, sum.Duplicates, bound,
		finished.Sub(killed).Round(time.Millisecond), finished.Sub(start).Round(time.Millisecond))
	if sum.Distinct != n {
		return fmt.Errorf("%d of %d recipients got the message (logs in %s)", sum.Distinct, n, f.Dir)
	}
	if sum.Duplicates > bound {
		return fmt.Errorf("%d duplicates, more than the bound of %d (logs in %s)", sum.Duplicates, bound, f.Dir)
	}
	passed = true
	return nil
}

// watch polls the sink every 50 ms until the campaign is sent, and returns
// the longest time after killed with no message accepted, and when after
// killed that stillness ended.
func watch(ctx context.Context, api *dfapi.Client, sink *fleet.Sink, camp int64, killed time.Time) (gap, resumed time.Duration, err error) {
	last, lastAt := -1, killed
	for i := 0; ; i++ {
		sum, err := sink.Recipients()
		if err != nil {
			return 0, 0, err
		}
		now := time.Now()
		if sum.Messages != last {
			if last >= 0 && now.Sub(lastAt) > gap {
				gap, resumed = now.Sub(lastAt), now.Sub(killed)
			}
			last, lastAt = sum.Messages, now
		}
		if i%10 == 0 {
			if sent, err := api.Sent(ctx, camp); err != nil || sent {
				return gap, resumed, err
			}
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
