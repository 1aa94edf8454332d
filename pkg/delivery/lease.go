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
	// leaseFor is how long a claim holds its rows. It is as long as
	// asynq's own lease on a running task (30 s), which asynq only recovers
	// 30 s after it expired, on a one-minute tick: the ledger frees a dead
	// worker's rows before asynq would retry its task, never after.
	leaseFor = 30 * time.Second
	// leaseRenewBefore: a claim with less than this left is given back and
	// its rows claimed again, so a row always starts its send with at least
	// this much lease ahead; each send must end before the lease does
	// (holder.leased).
	leaseRenewBefore = 20 * time.Second
	// leaseSafety is kept between the end of a send and the end of its lease.
	leaseSafety = 2 * time.Second
	// claimSize rows are claimed at once: a few round trips per batch, and
	// few rows to give back on a pause.
	claimSize = 25
)

// holder hands out a batch's rows one at a time, claiming them as it goes.
type holder struct {
	w     *Worker
	p     SendBatchPayload
	claim *store.Claim
	pos   int // rows of claim handed out; they are never given back
	// after is the id of the last row handed out: claims go on after it,
	// so a row this run deferred waits for the task's retry and its
	// backoff instead of being claimed again at once.
	after  int64
	cancel context.CancelFunc
}

func (w *Worker) newHolder(p SendBatchPayload) *holder {
	return &holder{w: w, p: p, cancel: func() {}}
}

// next returns the batch's next row, claiming more when the claim is spent
// or its lease runs short; ok is false when no row of the range is free.
func (h *holder) next(ctx context.Context) (store.Recipient, bool, error) {
	h.cancel()
	if h.claim != nil && h.pos < len(h.claim.Recipients) && h.w.now().Before(h.claim.Until.Add(-leaseRenewBefore)) {
		return h.handOut(), true, nil
	}
	if err := h.release(); err != nil {
		return store.Recipient{}, false, err
	}
	c, err := h.w.store.ClaimRecipients(ctx, h.p.CampaignID, max(h.p.From, h.after+1), h.p.To, claimSize, leaseFor, h.w.now())
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

// leased bounds a send to the lease of the row being sent, so that no
// message is in flight once another worker may take the row.
func (h *holder) leased(ctx context.Context) context.Context {
	// Measured on the worker's clock, which may be a test's.
	ctx, h.cancel = context.WithTimeout(ctx, h.claim.Until.Sub(h.w.now())-leaseSafety)
	return ctx
}

// release gives back the claimed rows not handed out (a pause, a shutdown,
// a claim renewed), so another batch may take them at once.
func (h *holder) release() error {
	h.cancel()
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
