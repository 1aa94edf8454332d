package delivery

import (
	"context"
	"sync"
	"time"
)

// OutcomeCheck is run on a campaign after a batch's outcomes are written
// (feedback.Guard: the reputation guard may pause it).
type OutcomeCheck interface {
	Check(ctx context.Context, campaignID int64) (bool, error)
}

// DefaultCheckEvery is how often a worker process runs the outcome check of
// a campaign whose batches brought no refusal. The check counts the
// campaign's ledger (two grouped counts over its indexed rows): after every
// batch of a million-recipient campaign it would cost more than the batch's
// own writes.
const DefaultCheckEvery = time.Second

// WithOutcomeCheck runs c after a campaign's batches: at once after a batch
// with a refusal (a bounce or a block, which may pass a threshold), and
// otherwise at most every 'every' (DefaultCheckEvery when 0), which catches a
// rate that passes its threshold as the count of answered messages reaches
// the guard's minimum. A failed check is logged; the batch is done all the
// same.
func WithOutcomeCheck(c OutcomeCheck, every time.Duration) WorkerOption {
	if every <= 0 {
		every = DefaultCheckEvery
	}
	return func(w *Worker) { w.check = &checker{c: c, every: every, last: map[int64]time.Time{}} }
}

// checker runs the outcome check, each campaign at most every 'every'
// unless a batch asks for it at once.
type checker struct {
	c     OutcomeCheck
	every time.Duration
	mu    sync.Mutex
	last  map[int64]time.Time // campaign → when it was last checked
}

// due reports whether campaignID's check should run now, and if so marks it run.
func (k *checker) due(campaignID int64, now time.Time, urgent bool) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if last, ok := k.last[campaignID]; ok && !urgent && now.Sub(last) < k.every {
		return false
	}
	if len(k.last) > 1000 { // campaigns long finished are forgotten
		clear(k.last)
	}
	k.last[campaignID] = now
	return true
}

// checkOutcomes runs the outcome check of campaignID, if any is due; urgent
// (the batch had a refusal) runs it whatever the time since the last.
func (w *Worker) checkOutcomes(ctx context.Context, campaignID int64, urgent bool) {
	if w.check == nil || !w.check.due(campaignID, time.Now(), urgent) {
		return
	}
	if _, err := w.check.c.Check(ctx, campaignID); err != nil {
		w.log.Error("check campaign outcomes", "campaign_id", campaignID, "err", err)
	}
}
