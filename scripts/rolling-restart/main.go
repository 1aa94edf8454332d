// Command rolling-restart restarts every sending worker, one at a time, with
// SIGTERM in the middle of a campaign, as a deployment does, and counts what
// every recipient got: nobody may be missed and nobody may get it twice.
//
// It builds dearfriend and scripts/smtp-sink and runs `dearfriend serve`,
// -workers `dearfriend worker` processes and the sink as processes of their
// own, against a PostgreSQL database and a Redis queue of its own (removed at
// the end). The campaign is paced (-rate messages a second, shared by the
// workers through Redis) so that it lasts while they are restarted. Each
// worker in turn is sent SIGTERM, waited for (it must exit within
// DEARFRIEND_SHUTDOWN_TIMEOUT), and started again; the next one is restarted
// once the sink has taken more messages since. A stopping worker takes no
// new recipient, commits the outcomes of the messages on the wire, gives its
// claimed rows back and hands its batches back to the queue, so the bound of
// a SIGKILL (scripts/fault-kill) does not apply: 0 duplicates.
//
//	eval "$(scripts/test-services)"; go run ./scripts/rolling-restart
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
	"github.com/dearfriend/dearfriend/scripts/internal/stack"
)

func main() {
	n := flag.Int("n", 20000, "recipients")
	workers := flag.Int("workers", 2, "worker processes")
	rate := flag.Int("rate", 500, "the campaign's messages per second")
	shutdown := flag.Duration("shutdown-timeout", 10*time.Second, "DEARFRIEND_SHUTDOWN_TIMEOUT of the workers")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*n, *workers, *rate, *shutdown, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "rolling-restart:", err)
		os.Exit(1)
	}
}

func run(n, workers, rate int, shutdown, timeout time.Duration) error {
	f, err := stack.Up("rolling-restart", timeout, "DEARFRIEND_SHUTDOWN_TIMEOUT="+shutdown.String())
	if err != nil {
		return err
	}
	keepLogs := true
	defer func() { f.Close(keepLogs) }()
	running := make([]*exec.Cmd, workers)
	for i := range running {
		if running[i], err = f.StartWorker("worker" + strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	camp, err := f.Campaign("rolling", n, map[string]any{"rate_per_second": rate})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := f.Send(camp); err != nil {
		return err
	}
	// Worker i is restarted once the sink has taken (i+1)/(workers+2) of
	// the campaign, and after the previous one is back.
	var slowest time.Duration
	for i := range running {
		at := n * (i + 1) / (workers + 2)
		var accepted int
		if err := fleet.WaitUntil(f.Deadline, func() (bool, error) {
			s, err := f.Sink.Recipients()
			accepted = s.Messages
			return accepted >= at, err
		}); err != nil {
			return fmt.Errorf("waiting for %d messages before restarting worker %d: %w", at, i+1, err)
		}
		took, err := stop(running[i], shutdown)
		if err != nil {
			return fmt.Errorf("worker %d (logs in %s): %w", i+1, f.Dir, err)
		}
		slowest = max(slowest, took)
		fmt.Printf("rolling-restart: worker %d stopped (SIGTERM) after %d of %d messages, %s into the send; it exited in %s\n",
			i+1, accepted, n, time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
		if running[i], err = f.StartWorker("worker" + strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	if err := f.WaitSent(camp); err != nil {
		return err
	}
	s, err := f.Sink.Recipients()
	if err != nil {
		return err
	}
	fmt.Printf("rolling-restart: %d recipients, %d workers restarted one at a time; %d messages accepted, %d recipients reached, %d lost, %d duplicates; "+
		"slowest exit %s (DEARFRIEND_SHUTDOWN_TIMEOUT %s); %s in all at %d messages/s\n",
		n, workers, s.Messages, s.Distinct, n-s.Distinct, s.Duplicates, slowest.Round(time.Millisecond), shutdown,
		time.Since(start).Round(time.Millisecond), rate)
	if s.Distinct != n || s.Duplicates != 0 {
		return fmt.Errorf("%d of %d recipients reached, %d duplicates; want all once (logs in %s)", s.Distinct, n, s.Duplicates, f.Dir)
	}
	keepLogs = false
	return nil
}

// stop sends the worker SIGTERM and waits for it to exit, which it must do
// within the shutdown timeout (and a second for the process to end), with
// status 0; it returns how long that took.
func stop(worker *exec.Cmd, shutdown time.Duration) (time.Duration, error) {
	sent := time.Now()
	if err := worker.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- worker.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			return 0, fmt.Errorf("exited after SIGTERM: %w", err)
		}
		return time.Since(sent), nil
	case <-time.After(shutdown + time.Second):
		worker.Process.Kill()
		<-exited
		return 0, fmt.Errorf("still running %s after SIGTERM (DEARFRIEND_SHUTDOWN_TIMEOUT %s); killed", shutdown+time.Second, shutdown)
	}
}
