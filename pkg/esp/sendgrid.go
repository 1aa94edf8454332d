package esp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// The headers of SendGrid's Signed Event Webhook.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
const (
	sendGridSignature = "X-Twilio-Email-Event-Webhook-Signature"
	sendGridTimestamp = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// ParseSendGridKey reads the verification key SendGrid shows under Mail
// Settings: base64 of a DER (PKIX) ECDSA P-256 public key. A PEM armour
// around it is accepted too.
func ParseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "-----BEGIN PUBLIC KEY-----")
	s = strings.TrimSuffix(s, "-----END PUBLIC KEY-----")
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, errors.New("not base64")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a DER public key: %w", err)
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return key, nil
}

// SendGridOptions configures the SendGrid handler.
type SendGridOptions struct {
	Key    *ecdsa.PublicKey // the Signed Event Webhook's verification key
	MaxAge time.Duration    // how old the signed timestamp may be; DefaultMaxAge when 0
	Log    *slog.Logger
}

// SendGrid takes SendGrid's Event Webhook.
type SendGrid struct {
	hook
	key    *ecdsa.PublicKey
	maxAge time.Duration
}

// NewSendGrid returns the handler of POST /hooks/sendgrid.
func NewSendGrid(sink bounce.Sink, o SendGridOptions) *SendGrid {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	return &SendGrid{hook: newHook("sendgrid", sink, o.Log), key: o.Key, maxAge: o.MaxAge}
}

func (s *SendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if err := s.verify(r.Header.Get(sendGridSignature), r.Header.Get(sendGridTimestamp), body); err != nil {
		s.unauthorized(w, err.Error())
		return
	}
	evs, err := s.events(body)
	s.deliver(w, r, evs, err)
}

// verify checks the ECDSA signature of timestamp+body, and that the
// timestamp is within the replay window.
func (s *SendGrid) verify(sig64, ts string, body []byte) error {
	if sig64 == "" || ts == "" {
		return fmt.Errorf("%s and %s headers are required", sendGridSignature, sendGridTimestamp)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return fmt.Errorf("%s is not base64", sendGridSignature)
	}
	digest := sha256.New()
	digest.Write([]byte(ts))
	digest.Write(body)
	if !ecdsa.VerifyASN1(s.key, digest.Sum(nil), sig) {
		return errors.New("signature does not verify")
	}
	// Checked after the signature: the timestamp is only worth reading once signed.
	return checkAge(ts, s.now(), s.maxAge)
}

// checkAge refuses a signed Unix timestamp older than maxAge, or more than
// a minute ahead of the clock.
func checkAge(ts string, now time.Time, maxAge time.Duration) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not Unix seconds", ts)
	}
	at := time.Unix(sec, 0)
	if age := now.Sub(at); age > maxAge || age < -time.Minute {
		return fmt.Errorf("timestamp %s is outside the %s replay window", at.UTC().Format(time.RFC3339), maxAge)
	}
	return nil
}

// sendGridEvent is one event of the Event Webhook's JSON array.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
type sendGridEvent struct {
	Email     string `json:"email"`
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	SMTPID    string `json:"smtp-id"`
	EventID   string `json:"sg_event_id"`
	MessageID string `json:"sg_message_id"`
	Reason    string `json:"reason"`
	Status    string `json:"status"`
	Type      string `json:"type"` // bounce: "bounce" or "blocked"
}

// sendGridDropped says which dropped events name a dead address: SendGrid
// drops mail to an address that bounced before, or is invalid. Drops for
// unsubscribes, spam reports or content are not failures of the address.
var sendGridDropped = map[string]bounce.Kind{"Bounced Address": bounce.Hard, "Invalid": bounce.Hard}

// events reads the JSON array of events. Deliveries, opens, clicks and the
// rest give no event, nor does "deferred": SendGrid is still trying, and
// its final bounce or drop will come as an event of its own.
func (s *SendGrid) events(body []byte) ([]bounce.Event, error) {
	var in []sendGridEvent
	if err := decodeJSON(body, &in, "SendGrid events"); err != nil {
		return nil, err
	}
	var evs []bounce.Event
	for i, e := range in {
		var f bounce.Failure
		switch e.Event {
		case "bounce":
			if e.Type == "blocked" {
				f = failure(e.Email, bounce.Soft, "blocked", e.Status, e.Reason)
			} else {
				f = failure(e.Email, bounce.Hard, "", e.Status, e.Reason)
			}
		case "dropped":
			k, ok := sendGridDropped[e.Reason]
			if !ok {
				continue
			}
			f = failure(e.Email, k, "userunknown", "", e.Reason)
		case "spamreport":
			f = failure(e.Email, bounce.Complaint, "", "", "")
		default:
			continue
		}
		if e.EventID == "" {
			return nil, badPayload("SendGrid event %d (%s) has no sg_event_id", i+1, e.Event)
		}
		var at time.Time
		if e.Timestamp > 0 {
			at = time.Unix(e.Timestamp, 0)
		}
		evs = append(evs, s.event(f, e.EventID, e.SMTPID, at))
	}
	if err := checkRecipients(evs); err != nil {
		return nil, err
	}
	return evs, nil
}
