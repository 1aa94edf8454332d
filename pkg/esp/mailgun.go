package esp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// MailgunOptions configures the Mailgun handler.
type MailgunOptions struct {
	SigningKey string        // the HTTP webhook signing key of the Mailgun account
	MaxAge     time.Duration // how old the signed timestamp may be; DefaultMaxAge when 0
	Seen       Seen          // the tokens already taken
	Log        *slog.Logger
}

// Mailgun takes Mailgun's webhooks (failed, complained).
type Mailgun struct {
	hook
	key    []byte
	maxAge time.Duration
	seen   Seen
}

// NewMailgun returns the handler of POST /hooks/mailgun.
func NewMailgun(sink bounce.Sink, o MailgunOptions) *Mailgun {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	return &Mailgun{hook: newHook("mailgun", sink, o.Log), key: []byte(o.SigningKey), maxAge: o.MaxAge, seen: o.Seen}
}

// mailgunHook is the JSON Mailgun posts: the signature beside the event.
// https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
type mailgunHook struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData json.RawMessage `json:"event-data"`
}

// mailgunEvent is the event-data of a failed or complained event.
// https://documentation.mailgun.com/docs/mailgun/user-manual/events/
type mailgunEvent struct {
	Event     string  `json:"event"`
	ID        string  `json:"id"`
	Timestamp float64 `json:"timestamp"`
	Severity  string  `json:"severity"` // failed: permanent or temporary
	Reason    string  `json:"reason"`
	Recipient string  `json:"recipient"`
	Message   struct {
		Headers struct {
			MessageID string `json:"message-id"`
		} `json:"headers"`
	} `json:"message"`
	DeliveryStatus struct {
		Code        int    `json:"code"`
		Message     string `json:"message"`
		Description string `json:"description"`
	} `json:"delivery-status"`
}

func (m *Mailgun) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var in mailgunHook
	if err := decodeJSON(body, &in, "Mailgun webhook"); err != nil {
		m.refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	sig := in.Signature
	if err := m.verify(sig.Timestamp, sig.Token, sig.Signature); err != nil {
		m.unauthorized(w, err.Error())
		return
	}
	evs, err := m.events(in.EventData)
	if err != nil {
		m.deliver(w, r, nil, err)
		return
	}
	// The token is recorded only for a request that is otherwise good, and
	// forgotten again if the events are not stored: nothing of a refused
	// request stays behind.
	first, err := m.seen.First(r.Context(), sig.Token, m.maxAge+2*time.Minute)
	if err != nil {
		m.deliver(w, r, nil, err)
		return
	}
	if !first {
		// Mailgun documents 406 as "do not retry".
		m.refuse(w, http.StatusNotAcceptable, "token already used: a replayed request")
		return
	}
	if len(evs) > 0 {
		if err := m.sink.Take(r.Context(), evs); err != nil {
			if ferr := m.seen.Forget(context.WithoutCancel(r.Context()), sig.Token); ferr != nil {
				m.log.Error("forget webhook token", "source", m.source, "err", ferr)
			}
			m.log.Error("webhook events not stored; the service will retry", "source", m.source, "events", len(evs), "err", err)
			http.Error(w, "not stored, try again later", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// verify checks the HMAC-SHA256 of timestamp+token and the timestamp's age.
func (m *Mailgun) verify(ts, token, sig string) error {
	if ts == "" || token == "" || sig == "" {
		return errors.New("signature.timestamp, signature.token and signature.signature are required")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errors.New("signature.signature is not hex")
	}
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte(ts))
	mac.Write([]byte(token))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("signature does not verify")
	}
	return checkAge(ts, m.now(), m.maxAge)
}

// events reads the event-data of a webhook. Events other than failed and
// complained give none.
func (m *Mailgun) events(raw json.RawMessage) ([]bounce.Event, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badPayload("Mailgun webhook has no event-data")
	}
	var e mailgunEvent
	if err := decodeJSON(raw, &e, "Mailgun event-data"); err != nil {
		return nil, err
	}
	var f bounce.Failure
	switch e.Event {
	case "failed":
		k := bounce.Soft
		if e.Severity == "permanent" {
			k = bounce.Hard
		}
		ds := e.DeliveryStatus
		diag := firstOf(ds.Message, ds.Description)
		if ds.Code >= 200 && ds.Code < 600 {
			diag = strconv.Itoa(ds.Code) + " " + diag
		}
		reason := ""
		if e.Reason == "suppress-bounce" { // Mailgun drops mail to an address that bounced before
			reason = "userunknown"
		}
		f = failure(e.Recipient, k, reason, "", diag)
	case "complained":
		f = failure(e.Recipient, bounce.Complaint, "", "", "")
	default:
		return nil, nil
	}
	if e.ID == "" {
		return nil, badPayload("Mailgun %s event has no id", e.Event)
	}
	var at time.Time
	if e.Timestamp > 0 && e.Timestamp < math.MaxInt32*4 {
		sec, frac := math.Modf(e.Timestamp)
		at = time.Unix(int64(sec), int64(frac*1e9))
	}
	evs := []bounce.Event{m.event(f, e.ID, e.Message.Headers.MessageID, at)}
	if err := checkRecipients(evs); err != nil {
		return nil, err
	}
	return evs, nil
}
