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

// checkCostShare paces the check by what it costs: after a check that took
// d, the campaign is not checked again, urgent or not, for checkCostShare ×
// d, so the check takes at most a twentieth of the time. The counts grow
// with the campaign (about 165 ms at 1,000,000 rows on PostgreSQL), and a
// list with a bounce in every batch would otherwise count the whole ledger
// after every batch. The messages sent between two checks grow with the
// count, so the rates move as little between checks at a million as at a
// thousand.
const checkCostShare = 20

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
	return func(w *Worker) { w.check = newChecker(c, every) }
}

func newChecker(c OutcomeCheck, every time.Duration) *checker {
	return &checker{c: c, every: every, last: map[int64]time.Time{}, cost: map[int64]time.Duration{}, owed: map[int64]bool{}}
}

// checker runs the outcome check, each campaign at most every 'every'
// unless a batch asks for it at once.
type checker struct {
	c     OutcomeCheck
	every time.Duration
	mu    sync.Mutex
	last  map[int64]time.Time     // campaign → when it was last checked
	cost  map[int64]time.Duration // campaign → how long its last check took
	owed  map[int64]bool          // campaign → a refusal's check waits for its turn
}

// due reports whether campaignID's check should run now, and if so marks
// it run. An urgent check held back by the check's cost is owed: wait is
// how long until it may run (0 when nothing is owed, or a later check is
// already waiting for its turn).
func (k *checker) due(campaignID int64, now time.Time, urgent bool) (run bool, wait time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if last, ok := k.last[campaignID]; ok {
		since, paced := now.Sub(last), checkCostShare*k.cost[campaignID]
		if since < paced {
			if urgent && !k.owed[campaignID] {
				k.owed[campaignID] = true
				return false, paced - since
			}
			return false, 0
		}
		if !urgent && since < k.every {
			return false, 0
		}
	}
	if len(k.last) > 1000 { // campaigns long finished are forgotten
		clear(k.last)
		clear(k.cost)
	}
	k.last[campaignID] = now
	delete(k.owed, campaignID)
	return true, 0
}

// forgive clears campaignID's owed check, as its turn has come.
func (k *checker) forgive(campaignID int64) {
	k.mu.Lock()
	delete(k.owed, campaignID)
	k.mu.Unlock()
}

// took records how long campaignID's check took.
func (k *checker) took(campaignID int64, d time.Duration) {
	k.mu.Lock()
	k.cost[campaignID] = d
	k.mu.Unlock()
}

// checkOutcomes runs the outcome check of campaignID, if any is due; urgent
// (the batch had a refusal) runs it whatever the time since the last, or,
// when the last check's cost holds it back, as soon as that allows: a
// refusal is always followed by a check, even after the campaign's last
// batch.
func (w *Worker) checkOutcomes(ctx context.Context, campaignID int64, urgent bool) {
	if w.check == nil {
		return
	}
	run, wait := w.check.due(campaignID, time.Now(), urgent)
	if wait > 0 {
		time.AfterFunc(wait, func() {
			if w.life.Err() == nil {
				// Owed no more: if a longer check since holds it back
				// again, it is owed again, with a new wait.
				w.check.forgive(campaignID)
				w.checkOutcomes(w.life, campaignID, true)
			}
		})
	}
	if !run {
		return
	}
	start := time.Now()
	_, err := w.check.c.Check(ctx, campaignID)
	w.check.took(campaignID, time.Since(start))
	if err != nil {
		w.log.Error("check campaign outcomes", "campaign_id", campaignID, "err", err)
	}
}
