// Package feedback closes the loop with the mail system: it takes the
// events of every path back (inbound SMTP, the webhooks of sending
// services, the API), matches each to the send it is about, and applies one
// policy: a hard bounce suppresses the address, soft bounces do after too
// many, a refusal of the sender is only counted, a complaint suppresses and
// is told to webhooks, an auto-reply is ignored. Its Guard watches a sending
// campaign's hard-bounce, block and complaint rates and pauses it past a
// threshold.
//
// It owns matching and policy. It does not read reports (pkg/bounce does),
// and it writes only through pkg/store.
package feedback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Notifier queues outgoing webhooks (webhook.Notifier).
type Notifier interface {
	Notify(ctx context.Context, event string, data map[string]any) error
}

// Counter counts reports by source and kind (metrics.Metrics).
type Counter interface {
	Report(source, kind string)
}

// Kinds a report is counted as when nothing is stored of it.
const (
	ignored   = "ignored"   // an auto-reply, a report matching no send of ours, a forged token
	duplicate = "duplicate" // the same event taken before
)

// Deps is what a Sink needs.
type Deps struct {
	Store *store.Store
	// Tokens verifies the VERP token of a send (track.Signer).
	Tokens TokenVerifier
	// Deployment is this deployment's id, in every Message-ID it makes.
	Deployment string
	Policy     config.Feedback
	Notifier   Notifier // nil: no webhooks
	Counter    Counter  // nil: not counted
	Guard      *Guard   // nil: no campaign is paused
	Log        *slog.Logger
}

// Sink takes the events of the paths back: the one matcher and policy
// behind them all.
type Sink struct {
	d Deps
}

var _ bounce.Sink = (*Sink)(nil)

// New returns the sink of d.
func New(d Deps) *Sink {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Sink{d: d}
}

// Result counts what Take did with the events it was given.
type Result struct {
	Matched    int `json:"matched"`    // matched to a send and acted on
	Ignored    int `json:"ignored"`    // auto-replies, reports of no send of ours, forged tokens
	Duplicates int `json:"duplicates"` // taken before: counted once
}

// Take matches and acts on evs (bounce.Sink). It fails only when the
// database does: events already taken are not taken again on a retry.
func (s *Sink) Take(ctx context.Context, evs []bounce.Event) error {
	_, err := s.TakeAll(ctx, evs)
	return err
}

// TakeAll is Take, counting what it did.
func (s *Sink) TakeAll(ctx context.Context, evs []bounce.Event) (Result, error) {
	var res Result
	touched := map[int64]bool{}
	for _, ev := range evs {
		kind, campaignID, err := s.take(ctx, ev)
		if err != nil {
			return res, err
		}
		if s.d.Counter != nil {
			s.d.Counter.Report(ev.Source, kind)
		}
		switch kind {
		case ignored:
			res.Ignored++
		case duplicate:
			res.Duplicates++
		default:
			res.Matched++
			touched[campaignID] = true
		}
	}
	if s.d.Guard != nil {
		for id := range touched {
			if _, err := s.d.Guard.Check(ctx, id); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// take matches and acts on one event; it returns the kind it was counted
// as (a store report kind, ignored or duplicate) and its campaign.
func (s *Sink) take(ctx context.Context, ev bounce.Event) (string, int64, error) {
	log := s.d.Log.With("source", ev.Source, "recipient", ev.Recipient, "kind", ev.Kind, "reason", ev.Reason)
	kind := reportKind(ev.Failure)
	if kind == "" {
		log.Debug("report ignored: not a failure")
		return ignored, 0, nil
	}
	m, err := s.match(ctx, ev)
	if err != nil {
		return "", 0, err
	}
	if m.send == nil {
		log.Warn("report ignored: "+m.why, "message_id", ev.MessageID)
		return ignored, 0, nil
	}
	be := &store.BounceEvent{EventID: eventID(ev), Source: ev.Source, Kind: kind, Reason: ev.Reason, Status: ev.Status,
		Diagnostic: clip(ev.Diagnostic, 2000), SendID: m.send.ID, MatchedBy: m.by, ReportedAt: ev.At.UTC()}
	soft := store.SoftLimit{Count: s.d.Policy.SoftLimit, Window: time.Duration(s.d.Policy.SoftDays) * 24 * time.Hour}
	taken, err := s.d.Store.TakeBounceEvent(ctx, be, soft)
	if errors.Is(err, store.ErrNotFound) { // the send went away since it was matched
		log.Warn("report ignored: its send no longer exists", "send_id", m.send.ID)
		return ignored, 0, nil
	} else if err != nil {
		return "", 0, err
	}
	if taken.Duplicate {
		log.Debug("report taken before", "event_id", be.EventID)
		return duplicate, 0, nil
	}
	log.Info("report taken", "send_id", be.SendID, "campaign_id", be.CampaignID, "as", kind, "matched_by", m.by, "suppressed", taken.Suppressed)
	s.notify(ctx, be, taken, m.send.Email)
	return kind, be.CampaignID, nil
}

// notify tells webhooks of a complaint, and of an address a bounce report
// suppressed (the "bounce" event a refusal at send time fires too).
func (s *Sink) notify(ctx context.Context, be *store.BounceEvent, taken store.Taken, email string) {
	event := ""
	switch {
	case be.Kind == store.ReportComplaint:
		event = "complaint"
	case taken.Suppressed:
		event = "bounce"
	}
	if event == "" || s.d.Notifier == nil {
		return
	}
	data := map[string]any{"email": email, "contact_id": be.ContactID, "campaign_id": be.CampaignID, "send_id": be.SendID,
		"source": be.Source, "kind": be.Kind, "reason": be.Reason, "status": be.Status, "reply": be.Diagnostic, "at": be.ReportedAt}
	if err := s.d.Notifier.Notify(context.WithoutCancel(ctx), event, data); err != nil {
		s.d.Log.Error("queue webhook", "event", event, "send_id", be.SendID, "err", err)
	}
}

// eventID is the event's own id, or, when its path gave none, a digest of
// what it says: the same report posted twice is one event.
func eventID(ev bounce.Event) string {
	if ev.EventID != "" {
		return ev.Source + ":" + clip(ev.EventID, 300)
	}
	h := sha256.New()
	for _, f := range []string{ev.Recipient, string(ev.Kind), ev.Reason, ev.Status, ev.Diagnostic, ev.Token, ev.MessageID} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return ev.Source + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// clip cuts s to at most n bytes, dropping a rune cut in two.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
