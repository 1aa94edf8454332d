package delivery

import "context"

// OutcomeCheck is run on a campaign after a batch's outcomes are written
// (feedback.Guard: the reputation guard may pause it).
type OutcomeCheck interface {
	Check(ctx context.Context, campaignID int64) (bool, error)
}

// WithOutcomeCheck runs c after each batch of a campaign. A failed check
// is logged; the batch is done all the same.
func WithOutcomeCheck(c OutcomeCheck) WorkerOption {
	return func(w *Worker) { w.check = c }
}

// checkOutcomes runs the outcome check of campaignID, if any.
func (w *Worker) checkOutcomes(ctx context.Context, campaignID int64) {
	if w.check == nil {
		return
	}
	if _, err := w.check.Check(ctx, campaignID); err != nil {
		w.log.Error("check campaign outcomes", "campaign_id", campaignID, "err", err)
	}
}
