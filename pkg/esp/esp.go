// Package esp takes the webhooks of sending services (Amazon SES through
// SNS, SendGrid, Postmark, Mailgun): it verifies each request the way its
// service documents, turns the payload into bounce.Events and hands them to
// a bounce.Sink. It owns the verification and the reading of each service's
// JSON; it decides nothing about contacts and touches no storage beyond the
// seen-token store of Mailgun's replay check. A refused request (bad
// signature, stale, replayed, malformed) reaches the sink with nothing.
package esp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// MaxBody bounds a webhook's body: SendGrid batches up to a few hundred
// events, SES notifications carry the original headers; 1 MiB is ample.
const MaxBody = 1 << 20

// DefaultMaxAge is how old a signed timestamp (SendGrid, Mailgun) may be
// before the request counts as a replay.
const DefaultMaxAge = 10 * time.Minute

// SinkFunc adapts a function to bounce.Sink.
type SinkFunc func(ctx context.Context, evs []bounce.Event) error

// Take calls f.
func (f SinkFunc) Take(ctx context.Context, evs []bounce.Event) error { return f(ctx, evs) }

// errBadPayload marks a body that could not be read as the service's JSON: a 400.
var errBadPayload = errors.New("bad payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadPayload, fmt.Sprintf(format, args...))
}

// readBody reads at most MaxBody bytes of r's body; a longer body is an error.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body larger than %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "could not read the body", http.StatusBadRequest)
		}
		return nil, false
	}
	return body, true
}

// hook is what every service's handler shares: the sink and the log.
type hook struct {
	source string
	sink   bounce.Sink
	log    *slog.Logger
	now    func() time.Time
}

func newHook(source string, sink bounce.Sink, log *slog.Logger) hook {
	if log == nil {
		log = slog.Default()
	}
	return hook{source: source, sink: sink, log: log, now: time.Now}
}

// refuse answers a request that changes nothing, and logs why.
func (h hook) refuse(w http.ResponseWriter, status int, why string) {
	h.log.Warn("webhook refused", "source", h.source, "status", status, "why", why)
	http.Error(w, why, status)
}

// unauthorized answers a request whose sender is not verified.
func (h hook) unauthorized(w http.ResponseWriter, why string) {
	h.refuse(w, http.StatusUnauthorized, why)
}

// decodeJSON reads body into v; the error names what was wrong, for a 400.
func decodeJSON(body []byte, v any, what string) error {
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badPayload("%s is not JSON: %v at byte %d", what, err, syn.Offset)
		case errors.As(err, &typ):
			return badPayload("%s: field %q must be %s, got JSON %s", what, typ.Field, typ.Type, typ.Value)
		default:
			return badPayload("%s: %v", what, err)
		}
	}
	return nil
}

// deliver hands evs to the sink and answers: 200 when taken (or when there
// was nothing to take), 400 for a bad payload, 503 when the sink could not
// store them, so the service retries later.
func (h hook) deliver(w http.ResponseWriter, r *http.Request, evs []bounce.Event, err error) {
	if err != nil {
		if errors.Is(err, errBadPayload) {
			h.refuse(w, http.StatusBadRequest, err.Error())
			return
		}
		h.log.Error("webhook", "source", h.source, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if len(evs) > 0 {
		if err := h.sink.Take(r.Context(), evs); err != nil {
			h.log.Error("webhook events not stored; the service will retry", "source", h.source, "events", len(evs), "err", err)
			http.Error(w, "not stored, try again later", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// event builds one event of this hook's source. id is the provider's own id
// of the event; with the recipient it makes the EventID, so a delivery of
// the same event again counts once.
func (h hook) event(f bounce.Failure, id, messageID string, at time.Time) bounce.Event {
	if at.IsZero() {
		at = h.now()
	}
	return bounce.Event{
		Failure:   f,
		Source:    h.source,
		MessageID: strings.Trim(strings.TrimSpace(messageID), "<>"),
		EventID:   h.source + ":" + id + "/" + strings.ToLower(strings.TrimSpace(f.Recipient)),
		At:        at,
	}
}
