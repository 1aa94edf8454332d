package delivery

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDrainHandsBack: a worker told to stop while its batch sends finishes
// the message on the wire, takes no other, commits its outcomes and gives
// its claimed rows back at once, so that another worker running the handed
// back task sends the rest: everyone once, nobody left to a lease.
func TestDrainHandsBack(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := testenv.Store(t, dsn)
		const n, stopAt = 3 * claimSize, 10
		camp, lo, hi := mustStartedCampaign(t, st, n)
		s := &countingSender{tries: map[string]int{}}
		var stopping *Worker
		first := &slowSender{}
		first.during = func() {
			if first.sent.Load() == stopAt {
				stopping.Drain()
			}
		}
		stopping = newTestWorker(t, st, sendBoth{first, s}, 5)
		err := stopping.ProcessTask(context.Background(), batchTask(camp, lo, hi))
		if !errors.Is(err, errHandedBack) {
			t.Fatalf("stopping worker: %v, want the batch handed back", err)
		}
		if got := len(s.tries); got != stopAt {
			t.Fatalf("the stopping worker sent %d messages, want %d (the one in flight, no more)", got, stopAt)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := stopping.Wait(ctx); err != nil {
			t.Fatalf("Wait after the batch returned: %v", err)
		}
		if err := newTestWorker(t, st, s, 5).ProcessTask(context.Background(), batchTask(camp, lo, hi)); err != nil {
			t.Fatalf("the next worker: %v", err)
		}
		for i := range n {
			if email := fmt.Sprintf("p%03d@example.org", i); s.tries[email] != 1 {
				t.Errorf("%s got %d messages, want 1", email, s.tries[email])
			}
		}
		if done, err := st.FinishIfDone(context.Background(), camp); err != nil || !done {
			t.Errorf("campaign finished = %v, %v; want true", done, err)
		}
		if d := RetryDelay(7, fmt.Errorf("batch: %w", errHandedBack), nil); d != time.Second {
			t.Errorf("a handed back batch is retried after %s, want 1s", d)
		}
	})
}

// sendBoth tells first of each message, then sends it with second.
type sendBoth struct{ first, second Sender }

func (b sendBoth) Send(ctx context.Context, m *mailer.Message) mailer.Result {
	b.first.Send(ctx, m)
	return b.second.Send(ctx, m)
}
