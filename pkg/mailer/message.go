package mailer

import (
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
)

// Message is one recipient's email, merged and ready for MIME assembly.
type Message struct {
	FromName, FromEmail string
	ReplyTo             string // optional
	ToName, ToEmail     string
	Subject             string
	MessageID           string // without angle brackets, e.g. "c12.s345@example.org"
	Date                time.Time
	Headers             []Header // extra headers, written in this order: List-Unsubscribe, List-Unsubscribe-Post, List-Id, Feedback-ID, X-...
	HTML, Text          string   // both given: multipart/alternative, text first
	EnvelopeFrom        string   // optional MAIL FROM (VERP); default FromEmail
}

// Header is one extra header field.
type Header struct{ Name, Value string }

// InvalidError says which field of a Message cannot go on the wire and why.
// Sending the same message again will not help.
type InvalidError struct {
	Field  string // e.g. "Subject", "ToEmail", "Headers[1].Value"
	Reason string
}

func (e *InvalidError) Error() string {
	return "mailer: invalid " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// reservedHeaders are the fields Build writes itself, or a signer or relay
// adds; an extra Header may not set them.
var reservedHeaders = []string{
	"From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject", "Date",
	"Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Return-Path", "DKIM-Signature",
}

func checkMessage(m *Message) error {
	for _, f := range []struct{ name, value string }{
		{"FromName", m.FromName},
		{"ToName", m.ToName},
		{"Subject", m.Subject},
	} {
		if hasControl(f.value) {
			return invalid(f.name, "contains CR, LF or another control character")
		}
	}
	for _, f := range []struct {
		name, value string
		optional    bool
	}{
		{"FromEmail", m.FromEmail, false},
		{"ToEmail", m.ToEmail, false},
		{"ReplyTo", m.ReplyTo, true},
		{"EnvelopeFrom", m.EnvelopeFrom, true},
	} {
		if f.value == "" && f.optional {
			continue
		}
		if err := checkAddress(f.value); err != "" {
			return invalid(f.name, err)
		}
	}
	if err := checkMessageID(m.MessageID); err != "" {
		return invalid("MessageID", err)
	}
	if m.Date.IsZero() {
		return invalid("Date", "is not set")
	}
	if m.HTML == "" && m.Text == "" {
		return invalid("HTML", "and Text are both empty")
	}
	for i, h := range m.Headers {
		if err := checkHeaderName(h.Name); err != "" {
			return invalid(headerField(i, "Name"), err)
		}
		for _, r := range reservedHeaders {
			if strings.EqualFold(h.Name, r) {
				return invalid(headerField(i, "Name"), strconv.Quote(h.Name)+" is written by Build; set the Message field instead")
			}
		}
		for _, prev := range m.Headers[:i] {
			if strings.EqualFold(h.Name, prev.Name) {
				return invalid(headerField(i, "Name"), strconv.Quote(h.Name)+" is given twice")
			}
		}
		if hasControl(h.Value) {
			return invalid(headerField(i, "Value"), "contains CR, LF or another control character")
		}
	}
	return nil
}

func headerField(i int, part string) string {
	return "Headers[" + strconv.Itoa(i) + "]." + part
}

// hasControl reports ASCII control characters other than tab: CR and LF
// would start a new header field.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// checkAddress wants a bare addr-spec ("ada@example.org"), no display name,
// no angle brackets.
func checkAddress(s string) string {
	if s == "" {
		return "is empty"
	}
	if hasControl(s) {
		return "contains CR, LF or another control character"
	}
	if isDotAtomAddress(s) {
		return ""
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Sprintf("%q is not a plain email address", s)
	}
	return ""
}

// isDotAtomAddress reports whether s is local@domain in the plain form that
// nearly every address has: dot-atoms of ASCII letters, digits and the
// other atext characters. net/mail accepts all of these as they are; the
// check spares its parser, and its allocations, on every recipient.
func isDotAtomAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	for _, part := range []string{s[:at], s[at+1:]} {
		if part[0] == '.' || part[len(part)-1] == '.' || strings.Contains(part, "..") {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

func checkMessageID(id string) string {
	if id == "" {
		return "is empty"
	}
	at := strings.IndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || strings.Count(id, "@") != 1 {
		return fmt.Sprintf("%q: want left@right, e.g. c12.s345@example.org", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' {
			return fmt.Sprintf("%q: want printable ASCII without spaces, quotes or angle brackets", id)
		}
	}
	return ""
}

func checkHeaderName(name string) string {
	if name == "" {
		return "is empty"
	}
	for i := 0; i < len(name); i++ {
		// RFC 5322 field-name: printable US-ASCII except the colon.
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return fmt.Sprintf("%q: want printable ASCII without spaces or colons", name)
		}
	}
	return ""
}
