package feedback

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// PauseCounter counts the guard's pauses by the rate that passed (metrics.Metrics).
type PauseCounter interface {
	GuardPause(rate string)
}

// Guard watches a sending campaign's hard-bounce, block and complaint
// rates, from the ledger's answers at send time and the reports that come
// later together, and pauses the campaign when one passes its threshold.
// Only an organizer resumes it; the resume acknowledges the counts so far,
// so the guard then judges what is sent after it, with the same minimum
// sample before a rate counts.
type Guard struct {
	store    *store.Store
	policy   config.Feedback
	notifier Notifier     // nil: no webhook
	counter  PauseCounter // nil: not counted
	log      *slog.Logger
}

// NewGuard returns the guard of policy; with policy.Guard off, Check never pauses.
func NewGuard(st *store.Store, policy config.Feedback, n Notifier, c PauseCounter, log *slog.Logger) *Guard {
	return &Guard{store: st, policy: policy, notifier: n, counter: c, log: log}
}

// Check pauses campaign id when it is sending and a rate passed its
// threshold; it reports whether it paused it. It costs two grouped counts
// over the campaign's indexed rows: run it after outcomes are written, not
// after each one.
func (g *Guard) Check(ctx context.Context, id int64) (bool, error) {
	if g == nil || !g.policy.Guard {
		return false, nil
	}
	status, now, base, err := g.store.CampaignGuard(ctx, id)
	if err != nil || status != store.CampaignSending {
		return false, err
	}
	counts := now.Minus(base)
	rate, reason := g.judge(counts)
	if rate == "" {
		return false, nil
	}
	paused, err := g.store.GuardPause(ctx, id, reason)
	if err != nil || !paused {
		return false, err
	}
	g.log.Warn("campaign paused by the reputation guard", "campaign_id", id, "rate", rate, "reason", reason)
	if g.counter != nil {
		g.counter.GuardPause(rate)
	}
	if g.notifier != nil {
		data := map[string]any{"campaign_id": id, "reason": reason, "rate": rate, "counts": counts}
		if err := g.notifier.Notify(context.WithoutCancel(ctx), "campaign.paused", data); err != nil {
			g.log.Error("queue campaign.paused webhook", "campaign_id", id, "err", err)
		}
	}
	return true, nil
}

// judge returns the rate of c that passed its threshold ("hard", "block"
// or "complaint") and why, in a sentence for the organizer; "" when none did.
func (g *Guard) judge(c store.GuardCounts) (rate, reason string) {
	p := g.policy
	if c.Attempted >= int64(p.GuardMin) {
		if r := float64(c.Hard) / float64(c.Attempted); r >= p.GuardHard {
			return "hard", fmt.Sprintf("hard bounces are %.1f%% (%d) of %d messages answered, at or past the %.1f%% threshold: the list has many dead addresses",
				100*r, c.Hard, c.Attempted, 100*p.GuardHard)
		}
		if r := float64(c.Blocked) / float64(c.Attempted); r >= p.GuardBlock {
			return "block", fmt.Sprintf("refusals of the sender are %.1f%% (%d) of %d messages answered, at or past the %.1f%% threshold: a relay or the domain is being blocked",
				100*r, c.Blocked, c.Attempted, 100*p.GuardBlock)
		}
	}
	if c.Sent >= int64(p.GuardComplaintMin) {
		if r := float64(c.Complaints) / float64(c.Sent); r >= p.GuardComplaint {
			return "complaint", fmt.Sprintf("spam complaints are %.2f%% (%d) of %d messages sent, at or past the %.2f%% threshold",
				100*r, c.Complaints, c.Sent, 100*p.GuardComplaint)
		}
	}
	return "", ""
}
