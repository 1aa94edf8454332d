package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Outcomes are group-committed: each worker process has one committer that
// gathers the outcomes of its concurrent senders (the batch tasks it runs at
// once) and writes them in one statement (store.RecordOutcomes). A sender
// hands the outcome of a message over and sends its next one at once, but it
// does not hand a message to the relay (write its data: lane.go) until the
// outcome of the message two before it is durable (maxUndurable). A process killed at any moment has
// therefore sent at most two messages per sender whose outcome the ledger
// lacks: those rows wait again when their lease runs out, and are sent twice.
// That is the bound: 2 × DEARFRIEND_WORKERS duplicates per worker process
// killed (the recovery of a lost outcome is the lease's, lease.go).
const (
	// maxUndurable is how many of a sender's outcomes may be written but not
	// yet durable when it hands the relay its next message.
	maxUndurable = 1
	// maxCommitRows bounds the rows of one statement.
	maxCommitRows = 256
	// DefaultCommitLinger is how long an outcome waits for others to share
	// its statement when not every sender waits on the committer yet. It
	// is rarely what ends a statement: a sender waits for the outcome from two
	// messages back, so at the relay's pace every sender soon waits and the
	// statement is written at once, a row or two per sender. A short linger
	// writes sooner than that, with fewer rows (0.12 statements a message
	// at 5 ms, 0.09 at 20 ms, 8 senders, the same pace). With a relay
	// far away it costs: a sender needs its outcome about one round trip
	// after handing it over, so the linger should be under half of it
	// (10 ms away: 402 msg/s at 20 ms, 519 at 5 ms; README).
	DefaultCommitLinger = 20 * time.Millisecond
)

// WithCommitLinger sets how long the committer lets outcomes wait for
// others before it writes them, when not every sender is waiting on it
// (DefaultCommitLinger without it; benchmarks compare settings).
func WithCommitLinger(d time.Duration) WorkerOption {
	return func(w *Worker) {
		if d > 0 {
			w.commits.linger = d
		}
	}
}

// committer writes the outcomes handed to it, many rows a statement.
type committer struct {
	store  *store.Store
	log    *slog.Logger
	life   context.Context // ends with the worker (Close): writes stop retrying
	linger time.Duration

	mu      sync.Mutex
	queue   []*pendingOutcome
	senders int // senders (batch tasks) running
	waiting int // senders waiting for one of their outcomes to be durable
	wake    chan struct{}
	started sync.Once
}

// pendingOutcome is one outcome on its way to the ledger; done is closed
// once it is durable, or given up (err).
type pendingOutcome struct {
	o    store.Outcome
	at   time.Time
	done chan struct{}
	err  error
	then func(err error) // run by its sender once done
}

func newCommitter(st *store.Store, log *slog.Logger, life context.Context) *committer {
	return &committer{store: st, log: log, life: life, linger: DefaultCommitLinger, wake: make(chan struct{}, 1)}
}

func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// add queues an outcome; then runs, by the sender, once it is durable.
func (c *committer) add(o store.Outcome, then func(error)) *pendingOutcome {
	c.started.Do(func() { go c.run() })
	p := &pendingOutcome{o: o, at: time.Now(), done: make(chan struct{}), then: then}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	c.signal()
	return p
}

// run writes batches until the worker's life ends.
func (c *committer) run() {
	for {
		batch := c.take()
		if batch == nil {
			return
		}
		err := c.write(batch)
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}
}

// take waits for a batch to write: maxCommitRows outcomes, or every sender
// waiting on the committer (nobody would add to the batch), or the oldest
// outcome older than the linger. It returns nil once the worker's life
// ended and nothing is queued.
func (c *committer) take() []*pendingOutcome {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		n := len(c.queue)
		ready := n > 0 && (n >= maxCommitRows || c.waiting >= c.senders || time.Since(c.queue[0].at) >= c.linger ||
			c.life.Err() != nil)
		if ready {
			n = min(n, maxCommitRows)
			batch := c.queue[:n:n]
			c.queue = append([]*pendingOutcome(nil), c.queue[n:]...)
			c.mu.Unlock()
			return batch
		}
		var wait time.Duration = time.Hour
		if n > 0 {
			wait = c.linger - time.Since(c.queue[0].at)
		}
		c.mu.Unlock()
		if n == 0 && c.life.Err() != nil {
			return nil
		}
		timer.Reset(wait)
		select {
		case <-c.wake:
		case <-timer.C:
		case <-c.life.Done():
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// write records a batch, trying again with a growing pause (up to
// outcomeBackoffMax) for as long as the worker lives: the relay's answers
// are facts, and a write given up would leave the rows waiting, to be sent
// again when their leases ran out. Their senders keep the leases meanwhile
// (keep). Only Close stops it.
func (c *committer) write(batch []*pendingOutcome) error {
	outs := make([]store.Outcome, len(batch))
	for i, p := range batch {
		outs[i] = p.o
	}
	pause := 50 * time.Millisecond
	for try := 1; ; try++ {
		// Each try is bounded, so a connection that hangs is given up and
		// the next try takes another. Tried once more after Close.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.life), outcomeTryTimeout)
		_, err := c.store.RecordOutcomes(ctx, outs)
		cancel()
		if err == nil {
			if try > 1 {
				c.log.Info("outcomes recorded after retries", "rows", len(outs), "first_send_id", outs[0].SendID, "tries", try)
			}
			return nil
		}
		c.log.Error("record outcomes; trying again", "rows", len(outs), "first_send_id", outs[0].SendID, "try", try, "retry_in", pause, "err", err)
		select {
		case <-c.life.Done():
			return fmt.Errorf("%d outcomes from send %d on not recorded before the worker stopped: %w", len(outs), outs[0].SendID, err)
		case <-time.After(pause):
		}
		pause = min(2*pause, outcomeBackoffMax)
	}
}

// sender is one batch task's side of the committer: its outcomes not yet
// known durable, oldest first.
type sender struct {
	c       *committer
	pending []*pendingOutcome
	err     error // the first outcome given up
	counted bool  // among the committer's senders
}

// join makes a sender for a batch; leave it when done. It is counted among
// the committer's senders from its first outcome on, until it leaves: a
// batch still claiming its first rows, or counting what is left after its
// last outcome, hands nothing over, and the others do not wait for it to
// join them (take).
func (c *committer) join() *sender { return &sender{c: c} }

// leave waits for the sender's outcomes to be durable and stops counting
// it. Calling it again returns the first error again.
func (s *sender) leave() error {
	err := s.settle(0)
	if s.counted {
		s.counted = false
		s.c.mu.Lock()
		s.c.senders--
		s.c.mu.Unlock()
		s.c.signal() // the others may all be waiting now
	}
	return err
}

// hand gives the committer an outcome; then runs once it is durable (or
// given up), on this sender's goroutine.
func (s *sender) hand(o store.Outcome, then func(error)) {
	if !s.counted {
		s.counted = true
		s.c.mu.Lock()
		s.c.senders++
		s.c.mu.Unlock()
	}
	s.pending = append(s.pending, s.c.add(o, then))
}

// settle waits until at most keep of the sender's outcomes are not durable,
// running their thens. It returns the first error of an outcome given up.
func (s *sender) settle(keep int) error {
	for len(s.pending) > 0 {
		p := s.pending[0]
		select {
		case <-p.done:
		default:
			if len(s.pending) <= keep {
				return s.err
			}
			s.c.mu.Lock()
			s.c.waiting++
			s.c.mu.Unlock()
			s.c.signal()
			<-p.done
			s.c.mu.Lock()
			s.c.waiting--
			s.c.mu.Unlock()
		}
		s.pending = s.pending[1:]
		if p.then != nil {
			p.then(p.err)
		}
		if p.err != nil && s.err == nil {
			s.err = p.err
		}
	}
	return s.err
}
