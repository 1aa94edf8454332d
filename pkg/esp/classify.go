package esp

import "github.com/dearfriend/dearfriend/pkg/bounce"

// notTheAddress are the reasons that blame the sender, the message or a
// passing state of the mailbox, not the address: a provider's "permanent"
// bounce with these words never suppresses the recipient.
var notTheAddress = map[string]bool{
	"blocked": true, "spamdetected": true, "policyviolation": true, "rejected": true, "norelaying": true,
	"securityerror": true, "virusdetected": true, "toomanyconn": true, "contenterror": true,
	"mailboxfull": true, "mesgtoobig": true, "exceedlimit": true, "networkerror": true, "systemerror": true,
	"systemfull": true, "expired": true,
}

// failure classifies one recipient's failure from the provider's own
// verdict (kind, and reason when the provider names one, such as "blocked")
// and its diagnostic words: the provider decides hard or soft, and
// bounce.Classify only refines, turning a "hard" bounce whose words blame
// the sender (a block, a spam filter, a policy) into a soft one. A
// complaint or an auto-reply is what the provider says it is.
func failure(recipient string, kind bounce.Kind, reason, status, diagnostic string) bounce.Failure {
	f := bounce.Failure{Recipient: recipient, Status: status, Diagnostic: diagnostic}
	switch kind {
	case bounce.Complaint:
		f.Kind, f.Reason = kind, "feedback"
		return f
	case bounce.AutoReply:
		f.Kind, f.Reason = kind, "vacation"
		return f
	}
	bounce.Classify(&f)
	words := f.Reason
	if words == "undefined" && reason != "" {
		f.Reason = reason
	}
	switch {
	case kind == bounce.Soft || notTheAddress[words]:
		f.Kind = bounce.Soft
	default:
		f.Kind = bounce.Hard
	}
	// A provider that says "blocked" is believed over words it quotes.
	if reason == "blocked" && !notTheAddress[words] {
		f.Reason = "blocked"
	}
	return f
}
