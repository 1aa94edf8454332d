// Package bounce reads what the mail system sends back about a message:
// delivery status notifications (RFC 3464 and the non-standard reports of
// real servers), feedback-loop complaints (RFC 5965 ARF) and auto-replies
// (RFC 3834). It owns the vocabulary of kinds and reasons that every path
// back (inbound SMTP, sending-service webhooks, the API, a refusal at send
// time) shares. It parses and classifies only: it touches no storage and
// decides nothing about contacts.
package bounce

import "time"

// Kind is what a failure means for the recipient's address.
type Kind string

const (
	// Hard: the address or its domain does not exist; stop mailing it.
	Hard Kind = "hard"
	// Soft: a temporary or sender-side failure (mailbox full, expired,
	// blocked, policy, spam filter); the address itself may be fine.
	Soft Kind = "soft"
	// Complaint: the recipient marked the message as spam (a feedback loop).
	Complaint Kind = "complaint"
	// AutoReply: a vacation message or delivery notice; not a failure.
	AutoReply Kind = "auto_reply"
)

// Failure is what a report says about one recipient.
type Failure struct {
	Recipient  string // the failed address, as the report gives it
	Kind       Kind
	Reason     string // why, in Sisimai's vocabulary: "userunknown", "blocked", "feedback", ...
	Status     string // RFC 3463 enhanced status code such as "5.1.1"; empty when none is known
	Diagnostic string // the report's own words about this recipient
}

// Event is one thing the mail system said about one recipient, from any
// path back. Whoever receives a report turns it into events; one policy acts
// on them.
type Event struct {
	Failure
	Source    string    // "inbound", "api", "ses", "sendgrid", "postmark", "mailgun", "send"
	Token     string    // the VERP token of the envelope recipient, when there is one
	MessageID string    // Message-ID of the original message, when the report quotes it
	EventID   string    // the provider's id of the event, or a digest of the report: the same report twice counts once
	At        time.Time // when the mail system reported it
}
