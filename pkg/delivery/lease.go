package delivery

import (
	"context"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// A batch claims its ledger rows a few at a time under a lease
// (store.ClaimRecipients): two batches whose ranges overlap share no row, and
// the rows of a worker that died come free when the lease runs out, when the
// recovery sweep (Dispatcher.Sweep) gives them to a new batch.
const (
	// DefaultLease is how long a claim holds its rows. It is as long as
	// asynq's own lease on a running task (30 s), which asynq only recovers
	// 30 s after it expired, on a one-minute tick: the ledger frees a dead
	// worker's rows before asynq would retry its task, never after.
	DefaultLease = 30 * time.Second
	// claimSize rows are claimed at once: a batch of the default 250 takes
	// one claim, one statement, and a pause gives back at most this many
	// rows. A claim's rows must all start within a third of the lease
	// (renewBefore), or the rest are given back and claimed again: 250
	// rows in 10 s is 25 msg/s per sender, far below a sender's pace unless
	// the campaign is paced or the relay slow, and then a claim and a
	// release every 10 s cost nothing that matters. (Claims of 100 rows
	// made three statements a batch, 0.012 a message.)
	claimSize = 250
	// outcomeBackoffMax caps the wait between two tries of an outcome write.
	outcomeBackoffMax = 5 * time.Second
	// outcomeTryTimeout bounds one try of an outcome write.
	outcomeTryTimeout = 30 * time.Second
)

// A claim with less than two thirds of its lease left is given back and its
// rows claimed again, so a row always starts its send with that much lease
// ahead. While a row is in flight, and until its outcome is written, its
// own lease is extended every fifth of a lease (keep): however long the
// relay takes to answer (RFC 5321 allows it 10 minutes after the final
// dot), no other worker takes the row, and a worker that dies lets it go
// within one lease.
func (w *Worker) renewBefore() time.Duration { return w.lease * 2 / 3 }

// WithLease sets how long a worker's claims on ledger rows last
// (DefaultLease without it). Tests shorten it, keeping its ratio to the
// relay's delays.
func WithLease(d time.Duration) WorkerOption {
	return func(w *Worker) {
		if d > 0 {
			w.lease = d
		}
	}
}

// holder hands out a batch's rows one at a time, claiming them as it goes.
type holder struct {
	w     *Worker
	p     SendBatchPayload
	claim *store.Claim
	pos   int // rows of claim handed out; they are never given back
	// after is the id of the last row handed out: claims go on after it,
	// so a row this run deferred waits for the task's retry and its
	// backoff instead of being claimed again at once.
	after int64
}

func (w *Worker) newHolder(p SendBatchPayload) *holder {
	return &holder{w: w, p: p}
}

// next returns the batch's next row, claiming more when the claim is spent
// or its lease runs short; ok is false when no row of the range is free.
func (h *holder) next(ctx context.Context) (store.Recipient, bool, error) {
	if h.claim != nil && h.pos < len(h.claim.Recipients) && h.w.clock.now(ctx).Before(h.claim.Until.Add(-h.w.renewBefore())) {
		return h.handOut(), true, nil
	}
	if h.claim != nil && h.pos >= len(h.claim.Recipients) && h.after >= h.p.To {
		// The last row of the range was handed out: no claim can find
		// another. (A claim that came back short but before the end still
		// claims again: rows copied into the range meanwhile are found.)
		return store.Recipient{}, false, nil
	}
	if err := h.release(); err != nil { // rows given back are claimed again below
		return store.Recipient{}, false, err
	}
	c, err := h.w.store.ClaimRecipients(ctx, h.p.CampaignID, max(h.p.From, h.after+1), h.p.To, claimSize, h.w.lease, h.w.clock.now(ctx))
	if err != nil || len(c.Recipients) == 0 {
		return store.Recipient{}, false, err
	}
	h.claim, h.pos = c, 0
	return h.handOut(), true, nil
}

func (h *holder) handOut() store.Recipient {
	r := h.claim.Recipients[h.pos]
	h.pos++
	h.after = r.SendID
	return r
}

// keep extends the lease of a row in flight every fifth of a lease, until
// the returned stop is called once its outcome is written.
func (w *Worker) keep(sendID int64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.lease / 5)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := w.store.ExtendLease(ctx, sendID, w.clock.now(ctx).Add(w.lease)); err != nil && ctx.Err() == nil {
				w.log.Warn("extend the lease of a message in flight", "send_id", sendID, "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// release gives back the claimed rows not handed out (a pause, a shutdown,
// a claim renewed), so another batch may take them at once.
func (h *holder) release() error {
	if h.claim == nil || h.pos >= len(h.claim.Recipients) {
		return nil
	}
	rest := h.claim.Recipients[h.pos:]
	ids := make([]int64, len(rest))
	for i, r := range rest {
		ids[i] = r.SendID
	}
	c := h.claim
	h.claim = nil
	// Given back even when the task's context is done (a shutdown).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.w.store.ReleaseLeases(ctx, c, ids)
}
