package app

import (
	"context"
	"log/slog"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// pendingSink logs the events of the mail system's reports and drops them:
// the wiring point for the paths back until the policy that acts on them is
// wired in its place.
type pendingSink struct{ log *slog.Logger }

func (s pendingSink) Take(_ context.Context, evs []bounce.Event) error {
	for _, e := range evs {
		s.log.Warn("report from the mail system not acted on", "source", e.Source, "recipient", e.Recipient, "kind", e.Kind)
	}
	return nil
}
