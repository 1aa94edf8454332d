package esp

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// PostmarkOptions configures the Postmark handler: the user and password
// of the webhook URL's basic auth (https://user:password@host/hooks/postmark).
type PostmarkOptions struct {
	User, Password string
	Log            *slog.Logger
}

// Postmark takes Postmark's bounce and spam complaint webhooks.
type Postmark struct {
	hook
	user, password [sha256.Size]byte
}

// NewPostmark returns the handler of POST /hooks/postmark.
func NewPostmark(sink bounce.Sink, o PostmarkOptions) *Postmark {
	return &Postmark{hook: newHook("postmark", sink, o.Log), user: sha256.Sum256([]byte(o.User)), password: sha256.Sum256([]byte(o.Password))}
}

func (p *Postmark) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	// Both compared in constant time, over digests of equal length, so
	// neither the values nor their lengths leak through timing.
	u, pw := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	if !ok || subtle.ConstantTimeCompare(u[:], p.user[:])&subtle.ConstantTimeCompare(pw[:], p.password[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="dearfriend hooks"`)
		p.unauthorized(w, "basic auth user or password is wrong")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	evs, err := p.events(body)
	p.deliver(w, r, evs, err)
}

// postmarkBounce is the JSON of the Bounce and SpamComplaint webhooks.
// https://postmarkapp.com/developer/webhooks/bounce-webhook
// https://postmarkapp.com/developer/webhooks/spam-complaint-webhook
type postmarkBounce struct {
	RecordType  string
	ID          int64
	Type        string
	MessageID   string // Postmark's id of the message, not its Message-ID header
	Description string
	Details     string
	Email       string
	BouncedAt   time.Time
}

// postmarkTypes maps Postmark's bounce types to a kind and, where the type
// says it, a reason. Types missing here (Subscribe, Unsubscribe, OpenRelayTest,
// Unknown, ...) are not failures of the address and give no event.
// https://postmarkapp.com/developer/api/bounce-api#bounce-types
var postmarkTypes = map[string]struct {
	kind   bounce.Kind
	reason string
}{
	"HardBounce":            {bounce.Hard, ""},
	"BadEmailAddress":       {bounce.Hard, "userunknown"},
	"AddressChange":         {bounce.Hard, "hasmoved"},
	"ManuallyDeactivated":   {bounce.Hard, "suppressed"},
	"SoftBounce":            {bounce.Soft, ""},
	"Transient":             {bounce.Soft, ""},
	"DnsError":              {bounce.Soft, "networkerror"},
	"Blocked":               {bounce.Soft, "blocked"},
	"DMARCPolicy":           {bounce.Soft, "blocked"},
	"SpamNotification":      {bounce.Soft, "spamdetected"},
	"VirusNotification":     {bounce.Soft, "virusdetected"},
	"ChallengeVerification": {bounce.Soft, "filtered"},
	"SpamComplaint":         {bounce.Complaint, ""},
	"AutoResponder":         {bounce.AutoReply, ""},
}

// events reads one Bounce or SpamComplaint webhook.
func (p *Postmark) events(body []byte) ([]bounce.Event, error) {
	var b postmarkBounce
	if err := decodeJSON(body, &b, "Postmark webhook"); err != nil {
		return nil, err
	}
	switch b.RecordType {
	case "Bounce", "SpamComplaint":
	case "":
		return nil, badPayload("Postmark webhook has no RecordType")
	default: // Delivery, Open, Click, SubscriptionChange: not ours to act on
		return nil, nil
	}
	t, ok := postmarkTypes[b.Type]
	if !ok {
		return nil, nil
	}
	if b.ID == 0 {
		return nil, badPayload("Postmark %s has no ID", b.RecordType)
	}
	f := failure(b.Email, t.kind, t.reason, "", firstOf(b.Details, b.Description))
	evs := []bounce.Event{p.event(f, fmt.Sprint(b.ID), "", b.BouncedAt)}
	if err := checkRecipients(evs); err != nil {
		return nil, err
	}
	return evs, nil
}
