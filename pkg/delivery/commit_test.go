package delivery

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// heldWrites holds every outcome write (the UPDATE that sets rows'
// last_reply) until released, as a database that is slow to commit would.
type heldWrites struct {
	held    atomic.Bool
	release chan struct{}
	writes  atomic.Int64
}

func (h *heldWrites) fault(query string) error {
	if strings.Contains(query, "UPDATE") && strings.Contains(query, "last_reply") {
		h.writes.Add(1)
		if h.held.Load() {
			<-h.release
		}
	}
	return nil
}

// TestSenderWaitsTwoBack: while the database holds the outcome write of the
// first message, the relay gets the second and no third: a sender hands the
// relay a message only once the outcome from two messages back is durable,
// so at most two messages of a sender have no outcome in the ledger. Once
// the write goes through, the batch is sent, each recipient once.
func TestSenderWaitsTwoBack(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		h := &heldWrites{release: make(chan struct{})}
		st := testenv.Store(t, dsn, store.WithFault(h.fault))
		var emails []string
		for i := range 6 {
			emails = append(emails, fmt.Sprintf("r%d-%s@example.org", i, testenv.Random(3)))
		}
		task, ids, _ := mustBatch(t, st, emails...)
		relay := &slowSender{}
		w := newTestWorker(t, st, relay, 3)
		h.held.Store(true)
		done := make(chan error, 1)
		go func() { done <- w.ProcessTask(t.Context(), task) }()

		// The sender stops when it waits on the committer for the first
		// outcome, which the database holds.
		waitFor(t, "the sender to wait for a durable outcome", func() bool {
			w.commits.mu.Lock()
			defer w.commits.mu.Unlock()
			return w.commits.waiting == 1 && h.writes.Load() >= 1
		})
		if got := relay.sent.Load(); got != 2 {
			t.Errorf("the relay got %d messages while the first outcome was not durable; want 2", got)
		}
		h.held.Store(false)
		close(h.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := relay.sent.Load(); got != int64(len(emails)) {
			t.Errorf("the relay got %d messages; want %d, one each", got, len(emails))
		}
		for _, id := range ids {
			if snd, err := st.GetSend(t.Context(), id); err != nil || snd.Status != store.SendSent || snd.Attempts != 1 {
				t.Errorf("send %d: %+v, %v; want sent after one attempt", id, snd, err)
			}
		}
	})
}

// TestLaneSenderWaitsTwoBack: through a real pool and a relay that
// pipelines, a sender's lane writes a message's data only when it is handed
// the next message, and the two-back rule holds for the data: while the
// database holds the first outcome's write, the relay has taken two
// messages and no third (the third's commands may be on the wire, its data
// is not). Once the write goes through, the batch is sent, each recipient
// once, the message left open in the lane included.
func TestLaneSenderWaitsTwoBack(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		h := &heldWrites{release: make(chan struct{})}
		st := testenv.Store(t, dsn, store.WithFault(h.fault))
		var emails []string
		for i := range 6 {
			emails = append(emails, fmt.Sprintf("r%d-%s@example.org", i, testenv.Random(3)))
		}
		task, ids, _ := mustBatch(t, st, emails...)
		relay, err := devsvc.StartCapture("127.0.0.1:0", devsvc.CaptureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { relay.Close() })
		pool, err := mailer.NewPool(mailer.Config{URL: "smtp://" + relay.Addr() + "?tls=none", MaxConns: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pool.Close() })
		w := newTestWorker(t, st, pool, 3)
		h.held.Store(true)
		done := make(chan error, 1)
		go func() { done <- w.ProcessTask(t.Context(), task) }()

		waitFor(t, "the sender to wait for a durable outcome", func() bool {
			w.commits.mu.Lock()
			defer w.commits.mu.Unlock()
			return w.commits.waiting == 1 && h.writes.Load() >= 1
		})
		if got := relay.Count(); got != 2 {
			t.Errorf("the relay took %d messages while the first outcome was not durable; want 2", got)
		}
		h.held.Store(false)
		close(h.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range relay.Messages() {
			got = append(got, m.To...)
		}
		slices.Sort(got)
		if diff := cmp.Diff(emails, got); diff != "" {
			t.Errorf("the relay took (-want +got):\n%s", diff)
		}
		for _, id := range ids {
			if snd, err := st.GetSend(t.Context(), id); err != nil || snd.Status != store.SendSent || snd.Attempts != 1 {
				t.Errorf("send %d: %+v, %v; want sent after one attempt", id, snd, err)
			}
		}
	})
}

// waitFor polls cond until it holds, failing the test after a deadline.
// On a time-out, the state says what was seen instead.
func waitFor(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, s := range state {
				t.Log(s())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCommitterCountsSendersFromFirstOutcome: a batch that has handed over
// no outcome yet (still claiming its first rows) or has left (counting what
// is left after its last) is not waited for: with every sender that has
// outcomes waiting on them, the committer writes at once, not after its
// linger.
func TestCommitterCountsSendersFromFirstOutcome(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := testenv.Store(t, dsn)
		_, ids, _ := mustBatch(t, st, "a-"+testenv.Random(4)+"@example.org", "b-"+testenv.Random(4)+"@example.org")
		c := newCommitter(st, slog.New(slog.DiscardHandler), t.Context())
		c.linger = time.Hour
		settled := func(s *sender, what string) {
			t.Helper()
			done := make(chan error, 1)
			go func() { done <- s.settle(0) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("the outcome was not written: the committer waits for %s", what)
			}
		}
		idle, early, a := c.join(), c.join(), c.join()
		early.hand(store.Outcome{SendID: ids[0], Status: store.SendSent, Reply: "250 ok", Attempt: true}, nil)
		settled(early, "a sender that has handed nothing over")
		if err := early.leave(); err != nil {
			t.Fatal(err)
		}
		a.hand(store.Outcome{SendID: ids[1], Status: store.SendSent, Reply: "250 ok", Attempt: true}, nil)
		settled(a, "a sender that left")
		for _, s := range []*sender{idle, a, early} {
			if err := s.leave(); err != nil {
				t.Fatal(err)
			}
		}
		if c.senders != 0 {
			t.Errorf("%d senders counted after all left, want 0", c.senders)
		}
	})
}
