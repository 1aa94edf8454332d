package delivery

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// outcomeWrites fails the next n outcome writes (the UPDATE that sets
// rows' last_reply), as a terminated connection or a full disk would; it
// leaves every other statement alone.
type outcomeWrites struct{ failing, failed atomic.Int64 }

func (o *outcomeWrites) fault(query string) error {
	if !strings.HasPrefix(query, "UPDATE") || !strings.Contains(query, "last_reply") {
		return nil
	}
	if o.failing.Add(-1) < 0 {
		o.failing.Store(0)
		return nil
	}
	o.failed.Add(1)
	return errors.New("database or disk is full (simulated)")
}

// slowSender answers after delay, counting what it was given.
type slowSender struct {
	delay time.Duration
	sent  atomic.Int64
	// during, if set, runs while the message is in flight.
	during func()
}

func (s *slowSender) Send(ctx context.Context, m *mailer.Message) mailer.Result {
	s.sent.Add(1)
	if s.during != nil {
		s.during()
	}
	time.Sleep(s.delay)
	return mailer.Result{Status: mailer.StatusSent, Code: 250, Reply: "ok"}
}

// TestOutcomeWriteRetried: after the relay's yes, the outcome write fails
// three times; the worker tries again until it is written, and the message
// is not sent again.
func TestOutcomeWriteRetried(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		faults := &outcomeWrites{}
		st := testenv.Store(t, dsn, store.WithFault(faults.fault))
		task, sendID, _ := mustOneRecipientBatch(t, st, "ada@example.org")
		s := &slowSender{during: func() { faults.failing.Store(3) }}
		w := newTestWorker(t, st, s, 3)
		if err := w.ProcessTask(t.Context(), task); err != nil {
			t.Fatalf("ProcessTask: %v, want the outcome written after the faults", err)
		}
		snd, err := st.GetSend(t.Context(), sendID)
		if err != nil {
			t.Fatal(err)
		}
		if snd.Status != store.SendSent || snd.Attempts != 1 || s.sent.Load() != 1 || faults.failed.Load() != 3 {
			t.Errorf("send %s after %d attempts, %d messages, %d failed writes; want sent, 1, 1, 3",
				snd.Status, snd.Attempts, s.sent.Load(), faults.failed.Load())
		}
	})
}

// TestOutcomeWriteGivesUpOnlyWhenTheWorkerStops: an outcome write that keeps
// failing is retried, the row's lease kept, until the worker is closed.
func TestOutcomeWriteGivesUpOnlyWhenTheWorkerStops(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		faults := &outcomeWrites{}
		st := testenv.Store(t, dsn, store.WithFault(faults.fault))
		task, sendID, _ := mustOneRecipientBatch(t, st, "ada@example.org")
		const lease = 300 * time.Millisecond
		s := &slowSender{during: func() { faults.failing.Store(1 << 40) }}
		w := newTestWorker(t, st, s, 3, WithLease(lease))
		done := make(chan error, 1)
		go func() { done <- w.ProcessTask(t.Context(), task) }()
		time.Sleep(4 * lease)
		mustNotClaim(t, st, sendID)
		w.Close()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "not recorded") {
			t.Errorf("ProcessTask after Close: %v, want the outcome not recorded", err)
		}
		if faults.failed.Load() < 3 {
			t.Errorf("the outcome write was tried %d times, want several", faults.failed.Load())
		}
	})
}

// TestLeaseKeptWhileInFlight: a relay that takes several leases to answer;
// meanwhile no other worker can claim the row, and the message goes out once.
func TestLeaseKeptWhileInFlight(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := testenv.Store(t, dsn)
		task, sendID, _ := mustOneRecipientBatch(t, st, "ada@example.org")
		const lease = 300 * time.Millisecond
		s := &slowSender{delay: 5 * lease}
		s.during = func() {
			go func() {
				time.Sleep(3 * lease)
				mustNotClaim(t, st, sendID)
			}()
		}
		w := newTestWorker(t, st, s, 3, WithLease(lease))
		if err := w.ProcessTask(t.Context(), task); err != nil {
			t.Fatal(err)
		}
		if snd, err := st.GetSend(t.Context(), sendID); err != nil || snd.Status != store.SendSent || s.sent.Load() != 1 {
			t.Errorf("send %+v, %v after %d messages; want sent once", snd, err, s.sent.Load())
		}
	})
}

// mustNotClaim fails the test when another worker can claim the row now.
func mustNotClaim(t *testing.T, st *store.Store, sendID int64) {
	t.Helper()
	snd, err := st.GetSend(context.Background(), sendID)
	if err != nil {
		t.Error(err)
		return
	}
	c, err := st.ClaimRecipients(context.Background(), snd.CampaignID, sendID, sendID, 1, time.Minute, time.Now())
	if err != nil {
		t.Error(err)
	} else if len(c.Recipients) != 0 {
		t.Errorf("another worker claimed send %d while its message was in flight or its outcome unwritten", sendID)
	}
}
