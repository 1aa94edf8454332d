package mailer

import (
	"errors"
	"net/textproto"
	"strconv"
	"strings"

	mail "github.com/wneessen/go-mail"
)

// Status is what to do next with a message after a delivery attempt.
type Status int

const (
	// StatusSent: the relay accepted the message.
	StatusSent Status = iota + 1
	// StatusDeferred: try again later. A 4xx reply, or no reply at all
	// (connection trouble, timeout, cancelled context, closed pool).
	StatusDeferred
	// StatusBounced: the relay refused the address for good: a 5xx that
	// says the address or its domain fails (5.1.x, 5.2.1, "no such user").
	// Stop mailing it.
	StatusBounced
	// StatusFailed: retrying will not help, and the recipient is not the
	// cause: the message itself is invalid, could not be signed, or the
	// relay refused the sender (5xx to MAIL FROM). Do not suppress the
	// recipient for it.
	StatusFailed
	// StatusBlocked: the relay refused the message for good and blamed the
	// sender, not the address: 5.7.x, a blocklist (Spamhaus, Barracuda,
	// SpamCop), "spam", "policy". The address may well be good; suppressing
	// it would lose a supporter and hide the sender's problem.
	StatusBlocked
	// StatusUnknown: the whole message went out, final dot included, but no
	// reply came (a timeout, a dropped connection). The relay may have
	// accepted it: sending it again may duplicate it.
	StatusUnknown
)

func (s Status) String() string {
	switch s {
	case StatusSent:
		return "sent"
	case StatusDeferred:
		return "deferred"
	case StatusBounced:
		return "bounced"
	case StatusFailed:
		return "failed"
	case StatusBlocked:
		return "blocked"
	case StatusUnknown:
		return "unknown"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Result is the outcome of one delivery attempt.
type Result struct {
	Status   Status
	Code     int    // SMTP reply code; 0 when there was no SMTP reply
	Enhanced string // RFC 3463 enhanced status code, e.g. "5.1.1", when the relay gave one
	Reply    string // the relay's reply text, or what went wrong when there was no reply
	Relay    string // the name of the relay that answered, when sent through Relays
}

// Classify turns a send error into a Result: nil is Sent 250; a 4xx reply is
// Deferred; a 5xx reply is Blocked when it blames the sender, Bounced when
// it says the address fails, Failed otherwise, and always Failed at MAIL FROM;
// an *InvalidError is Failed; anything without a reply is Deferred with Code
// 0. It understands go-mail's *SendError and *textproto.Error replies.
func Classify(err error) Result {
	if err == nil {
		return Result{Status: StatusSent, Code: 250}
	}
	var inv *InvalidError
	if errors.As(err, &inv) {
		return Result{Status: StatusFailed, Reply: err.Error()}
	}

	var res Result
	var sendErr *mail.SendError
	var tpErr *textproto.Error
	switch {
	case errors.As(err, &tpErr):
		res.Code, res.Reply = tpErr.Code, tpErr.Msg
	case errors.As(err, &sendErr):
		res.Code = sendErr.ErrorCode()
		res.Reply = sendErrorReply(sendErr)
		res.Enhanced = sendErr.EnhancedStatusCode()
	default:
		res.Reply = err.Error()
	}
	if res.Enhanced == "" && res.Code != 0 {
		res.Enhanced = enhancedCode(res.Reply)
	}

	switch {
	case res.Code >= 500 && res.Code < 600:
		res.Status = permanent(res.Enhanced, res.Reply)
		var se *smtpError
		if (sendErr != nil && sendErr.Reason == mail.ErrSMTPMailFrom) || (errors.As(err, &se) && se.stage == stageMailFrom) {
			res.Status = StatusFailed
		}
	case res.Code == 0 && sendErr != nil && permanentWithoutReply(sendErr.Reason):
		res.Status = StatusFailed
	default:
		res.Status = StatusDeferred
	}
	return res
}

// permanentWithoutReply are go-mail's own refusals, made before talking to
// the relay, that a retry would repeat.
func permanentWithoutReply(r mail.SendErrReason) bool {
	return r == mail.ErrGetSender || r == mail.ErrGetRcpts || r == mail.ErrNoUnencoded
}

// sendErrorReply digs the relay's reply out of a SendError, which offers it
// only inside its message: "<reason>: <code> <text>, affected recipient(s):
// ..., affected message ID: ...". The text may be quoted, and may be
// followed by the error of go-mail's RSET after the refusal.
func sendErrorReply(e *mail.SendError) string {
	s := strings.TrimPrefix(e.Error(), e.Reason.String()+": ")
	for _, tail := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.Index(s, tail); i >= 0 {
			s = s[:i]
		}
	}
	if code := e.ErrorCode(); code != 0 {
		if prefix := strconv.Itoa(code); strings.HasPrefix(s, prefix) && len(s) > len(prefix) {
			s = s[len(prefix)+1:]
		}
		// textproto.Error quotes the text (Go 1.26: `550 "5.1.1 no such user"`).
		if quoted, err := strconv.QuotedPrefix(s); err == nil {
			if text, err := strconv.Unquote(quoted); err == nil {
				s = text
			}
		}
	}
	return s
}

// enhancedCode returns the RFC 3463 code a reply text starts with, if any:
// "5.1.1 no such user" gives "5.1.1".
func enhancedCode(reply string) string {
	code, _, _ := strings.Cut(reply, " ")
	parts := strings.Split(code, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return ""
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return code
}

// senderWords in a permanent refusal blame the sender: its reputation, its
// content or a blocklist it is on, whatever the enhanced code says.
var senderWords = []string{
	"blocked", "blacklist", "blocklist", "block list", "denylist", "spam", "policy", "reputation",
	"rbl", "dnsbl", "spamhaus", "barracuda", "spamcop", "sorbs", "surbl", "uceprotect", "abuseat",
	"not authorized", "unauthenticated", "dmarc", "spf", "dkim",
}

// addressWords in a permanent refusal say the address does not work.
var addressWords = []string{
	"no such user", "user unknown", "unknown user", "no such mailbox", "mailbox not found", "mailbox unavailable",
	"does not exist", "doesn't exist", "invalid recipient", "recipient unknown", "unknown recipient",
	"address rejected", "no mailbox", "account disabled", "mailbox disabled", "account has been disabled", "inactive",
}

// permanent says what a 5xx refusal blames. The sender first: a refusal
// that names a blocklist or a policy is the sender's problem even under a
// 5.1.x code, and wrongly suppressing a good address loses a supporter for
// good. Then the address: 5.1.x (bad mailbox, bad domain, null MX), 5.2.1
// (disabled mailbox) or words that say so. Anything else (a message too
// big, a relay's own fault) fails the message and leaves the address alone.
func permanent(enhanced, reply string) Status {
	text := strings.ToLower(reply)
	if strings.HasPrefix(enhanced, "5.7.") || containsAny(text, senderWords) {
		return StatusBlocked
	}
	if strings.HasPrefix(enhanced, "5.1.") || enhanced == "5.2.1" || containsAny(text, addressWords) {
		return StatusBounced
	}
	return StatusFailed
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
