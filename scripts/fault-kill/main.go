// Command fault-kill kills the sending worker with SIGKILL in the middle of a
// campaign and starts it again, then counts what every recipient got.
//
// It builds dearfriend and scripts/smtp-sink, and runs `dearfriend serve`,
// `dearfriend worker` and the sink as processes of their own, against a
// PostgreSQL database and a Redis queue of its own (removed at the end). The
// worker is killed once a share of the campaign is accepted by the sink.
// Every recipient must get the message; a message accepted by the relay but
// whose outcome was not yet durable in the ledger when the worker died is
// sent again. Outcomes are group-committed, and a sender hands the relay a
// message (writes its data) only once the outcome from two messages back is
// durable, so each sender (DEARFRIEND_WORKERS) has at most two such
// messages: the one whose outcome was being written and the one on its
// connection. The next message's MAIL FROM, RCPT TO and DATA, written behind
// the data of the one before when the relay pipelines, deliver nothing
// without its data: a kill then leaves it unsent, not duplicated.
// Duplicates may reach workers + min(workers, connections), two per open
// connection when each sender has its own; the run fails above that bound.
//
//	eval "$(scripts/test-services)"; go run ./scripts/fault-kill
//
// It needs DEARFRIEND_TEST_DATABASE_URL (an admin URL: it creates a database)
// and DEARFRIEND_TEST_REDIS_URL.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
	"github.com/dearfriend/dearfriend/scripts/internal/stack"
)

func main() {
	n := flag.Int("n", 20000, "recipients")
	conns := flag.Int("conns", 8, "DEARFRIEND_SMTP_CONNS of the worker")
	workers := flag.Int("workers", 8, "DEARFRIEND_WORKERS of the worker")
	killAt := flag.Float64("kill-at", 0.3, "share of the campaign accepted when the worker is killed")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*n, *conns, *workers, *killAt, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "fault-kill:", err)
		os.Exit(1)
	}
}

func run(n, conns, workers int, killAt float64, timeout time.Duration) error {
	f, err := stack.Up("fault-kill", timeout, "DEARFRIEND_SMTP_CONNS="+strconv.Itoa(conns), "DEARFRIEND_WORKERS="+strconv.Itoa(workers))
	if err != nil {
		return err
	}
	keepLogs := true
	defer func() { f.Close(keepLogs) }()
	worker, err := f.StartWorker("worker")
	if err != nil {
		return err
	}
	camp, err := f.Campaign("fault", n, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := f.Send(camp); err != nil {
		return err
	}
	var killedAfter int64
	if err := fleet.WaitUntil(f.Deadline, func() (bool, error) {
		s, err := f.Sink.Recipients()
		killedAfter = int64(s.Messages)
		return killedAfter >= int64(killAt*float64(n)), err
	}); err != nil {
		return err
	}
	if err := worker.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	worker.Wait()
	killedAt := time.Now()
	fmt.Printf("fault-kill: worker killed (SIGKILL) after %d of %d messages, %s into the send\n", killedAfter, n, killedAt.Sub(start).Round(time.Millisecond))
	if _, err := f.StartWorker("worker"); err != nil {
		return err
	}
	if err := f.WaitSent(camp); err != nil {
		return err
	}
	finished := time.Now()
	s, err := f.Sink.Recipients()
	if err != nil {
		return err
	}
	bound := fleet.DuplicateBound(workers, conns)
	fmt.Printf("fault-kill: %d recipients, %d messages accepted, %d recipients reached, %d duplicates (bound %d: %d workers + min(%d workers, %d connections)); "+
		"finished %s after the kill, %s in all\n", n, s.Messages, s.Distinct, s.Duplicates, bound, workers, workers, conns,
		finished.Sub(killedAt).Round(time.Millisecond), finished.Sub(start).Round(time.Millisecond))
	if s.Distinct != n {
		return fmt.Errorf("%d of %d recipients got the message (logs in %s)", s.Distinct, n, f.Dir)
	}
	if s.Duplicates > bound {
		return fmt.Errorf("%d duplicates, more than the bound of %d (logs in %s)", s.Duplicates, bound, f.Dir)
	}
	keepLogs = false
	return nil
}
