package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Outcomes of sendOne besides the ledger statuses: a deferral that does not
// count toward the attempts allowed.
const (
	// sendThrottled: the relay asked to slow down (mailer.Result.Throttled).
	sendThrottled = "throttled"
	// sendUntried: the send's context ended first (a lease ran short while
	// waiting for a relay's rate limit, a shutdown): nobody was refused.
	sendUntried = "untried"
)

// WithRateLimiter enforces each campaign's rate (store.Campaign.RatePerSecond)
// across all workers through l, the relays' seam to the shared limiter.
func WithRateLimiter(l mailer.RateWaiter) WorkerOption {
	return func(w *Worker) { w.limiter = l }
}

// WithMaxRetryAge fails a deferred row whose first attempt is older than d,
// however few attempts it had; 0 bounds retries by attempts only.
func WithMaxRetryAge(d time.Duration) WorkerOption {
	return func(w *Worker) { w.maxRetryAge = d }
}

// paceSlice bounds one wait for a campaign's rate, so that a rate changed
// meanwhile (or a pause) is seen within about a second.
const paceSlice = time.Second

// pace waits until the campaign's rate allows one more message, calling
// before first when it may wait. With no rate set it costs a cached read, no
// Redis round trip.
func (w *Worker) pace(ctx context.Context, campaignID int64, before func()) error {
	if w.limiter == nil {
		return nil
	}
	key := "campaign:" + strconv.FormatInt(campaignID, 10)
	for first := true; ; first = false {
		cc, err := w.statuses.control(ctx, w.store, campaignID, time.Now())
		if err != nil {
			return err
		}
		if cc.RatePerSecond <= 0 || cc.Status != store.CampaignSending {
			return nil
		}
		if first {
			before()
		}
		sliceCtx, cancel := context.WithTimeout(ctx, paceSlice)
		_, err = w.limiter.Wait(sliceCtx, key, ratelimit.PerSecond(cc.RatePerSecond))
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("campaign %d rate: %w", campaignID, err)
		}
		// The slice ran out: read the rate again and wait on.
	}
}

// retry decides what a deferral makes of a row: it stays as it is while the
// row may be tried again, and becomes failed when its first attempt is older
// than the retry age or, for a deferral that counts, when the attempts ran
// out. Throttling replies and untried sends never use up attempts.
func (w *Worker) retry(r store.Recipient, status, reply string) (string, string) {
	if w.maxRetryAge > 0 && r.FirstAttemptAt != nil {
		if age := w.now().Sub(*r.FirstAttemptAt); age > w.maxRetryAge {
			return store.SendFailed, fmt.Sprintf("retried for %s, longer than DEARFRIEND_MAX_RETRY_AGE (%s); last reply: %s",
				age.Round(time.Second), w.maxRetryAge, reply)
		}
	}
	if status == store.SendDeferred && r.Attempts-r.Throttled+1 >= w.maxAttempts {
		return store.SendFailed, reply
	}
	return status, reply
}
