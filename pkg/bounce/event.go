package bounce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Sink takes the events of every path back (inbound SMTP, the webhooks of
// sending services, the API): one matcher and one policy behind them all.
// Take returns an error only when nothing could be stored and the caller
// should answer "try again" (a 4xx, a 5xx to a webhook); events it cannot
// match or does not act on are logged and dropped, not errors.
type Sink interface {
	Take(ctx context.Context, evs []Event) error
}

// Digest identifies a raw report, for the EventID of a report that carries
// no provider's id: the same message twice has the same digest.
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}

// VERPToken returns the token of a VERP address, bounce+<token>@domain, or
// "" when addr is no such address. Only the local part is read: whether the
// domain is ours, and whether the token is genuine, is the caller's to check.
func VERPToken(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return ""
	}
	local := addr[:at]
	if len(local) < len("bounce+")+1 || !strings.EqualFold(local[:len("bounce+")], "bounce+") {
		return ""
	}
	return local[len("bounce+"):]
}

// Events turns the report into one event per failure. source names the path
// ("inbound", "api", ...); token is the VERP token of the address the report
// came to ("" when the path does not know it: the report's own envelope is
// tried); id identifies the report (the provider's event id, or Digest of
// the raw message). The EventID of each event is id and its recipient, so
// the same report twice yields the same events.
func (r Report) Events(source, token, id string, at time.Time) []Event {
	if token == "" {
		token = VERPToken(r.Envelope)
	}
	evs := make([]Event, 0, len(r.Failures))
	for _, f := range r.Failures {
		evs = append(evs, Event{
			Failure:   f,
			Source:    source,
			Token:     token,
			MessageID: r.MessageID,
			EventID:   id + "/" + strings.ToLower(f.Recipient),
			At:        at,
		})
	}
	return evs
}

// Classify fills the Reason and Kind of f (and its Status, when the
// diagnostic quotes one) from its status and diagnostic words, the way Read
// classifies a report: for the paths that get a provider's words, not a
// report (a webhook's bounce, a relay's reply at send time).
func Classify(f *Failure) { classifyFailure(f, "") }
