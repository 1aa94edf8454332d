package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// countingSender counts the messages per recipient; defer, if set, says
// which tries the relay answers 451.
type countingSender struct {
	mu     sync.Mutex
	tries  map[string]int
	defer_ func(email string, try int) bool
}

func (s *countingSender) Send(_ context.Context, m *mailer.Message) mailer.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries[m.ToEmail]++
	if s.defer_ != nil && s.defer_(m.ToEmail, s.tries[m.ToEmail]) {
		return mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.3.0", Reply: "later"}
	}
	return mailer.Result{Status: mailer.StatusSent, Code: 250, Reply: "ok"}
}

// mustStartedCampaign makes a started campaign to n new contacts; it returns
// the campaign's id and its ledger range.
func mustStartedCampaign(t *testing.T, st *store.Store, n int) (id, lo, hi int64) {
	t.Helper()
	ctx := context.Background()
	l := &store.List{Name: "l"}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>Hello</p>"}
	for _, err := range []error{st.CreateList(ctx, l), st.CreateMessage(ctx, m)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i := range n {
		c := &store.Contact{Email: fmt.Sprintf("p%03d@example.org", i)}
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		t.Fatal(err)
	}
	camp := &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, camp.ID); err != nil {
		t.Fatal(err)
	}
	lo, hi, _, err := st.SendRange(ctx, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	return camp.ID, lo, hi
}

func batchTask(campaignID, from, to int64) *asynq.Task {
	payload, _ := json.Marshal(SendBatchPayload{CampaignID: campaignID, From: from, To: to})
	return asynq.NewTask(TypeSendBatch, payload)
}

// TestOverlappingBatches: batches over overlapping ranges, run at once (a
// batch size changed mid-campaign, a batch enqueued again after Redis lost
// it), send each recipient once.
func TestOverlappingBatches(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := testenv.Store(t, dsn)
		const n = 120
		camp, lo, hi := mustStartedCampaign(t, st, n)
		s := &countingSender{tries: map[string]int{}}
		w := newTestWorker(t, st, s, 5)
		ranges := [][2]int64{{lo, hi}, {lo, hi}, {lo + 10, lo + 70}, {lo + 50, hi}, {lo, lo + 59}, {lo + 60, hi}}
		var wg sync.WaitGroup
		for _, r := range ranges {
			wg.Go(func() {
				if err := w.ProcessTask(context.Background(), batchTask(camp, r[0], r[1])); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(s.tries) != n {
			t.Errorf("%d recipients got a message, want %d", len(s.tries), n)
		}
		for email, got := range s.tries {
			if got != 1 {
				t.Errorf("%s got %d messages, want 1", email, got)
			}
		}
	})
}

// TestDeferredWaitForRetry: a row the relay deferred is not tried again in
// the same run of its batch (later claims go on after it), but in the
// task's retry, after its backoff.
func TestDeferredWaitForRetry(t *testing.T) {
	st := testenv.Store(t, testenv.SQLite(t))
	const n = 3 * claimSize
	camp, lo, hi := mustStartedCampaign(t, st, n)
	s := &countingSender{tries: map[string]int{}, defer_: func(email string, try int) bool {
		return try == 1 && strings.HasSuffix(strings.TrimSuffix(email, "@example.org"), "3")
	}}
	w := newTestWorker(t, st, s, 5)
	err := w.ProcessTask(context.Background(), batchTask(camp, lo, hi))
	if !errors.Is(err, errDeferred) {
		t.Fatalf("first run: %v, want the deferred error that makes asynq retry", err)
	}
	for email, got := range s.tries {
		if got != 1 {
			t.Errorf("%s tried %d times in one run, want 1", email, got)
		}
	}
	if err := w.ProcessTask(context.Background(), batchTask(camp, lo, hi)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for email, got := range s.tries {
		want := 1
		if strings.HasSuffix(strings.TrimSuffix(email, "@example.org"), "3") {
			want = 2
		}
		if got != want {
			t.Errorf("%s tried %d times, want %d", email, got, want)
		}
	}
	if done, err := st.FinishIfDone(context.Background(), camp); err != nil || !done {
		t.Errorf("campaign finished = %v, %v; want true", done, err)
	}
}
