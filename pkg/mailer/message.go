package mailer

import (
	"fmt"
	"io"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Message is one recipient's email, merged and ready for MIME assembly.
type Message struct {
	FromName, FromEmail string
	ReplyTo             string // optional
	ToName, ToEmail     string
	Subject             string
	MessageID           string // without angle brackets, e.g. "c12.s345@example.org"
	Date                time.Time
	Headers             []Header // extra headers: List-Unsubscribe, List-Unsubscribe-Post, List-Id, X-...
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

// reservedHeaders are the fields Build writes itself; an extra Header may not
// set them.
var reservedHeaders = []string{
	"From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject", "Date",
	"Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Return-Path",
}

// Build assembles m into a go-mail message. It refuses, naming the field, a
// header name or value with CR, LF or another control character (no header
// injection), an invalid address, a missing Message-ID or Date, and a message
// with neither an HTML nor a text part.
//
// Extra headers are written in go-mail's order, which is sorted by name, not
// the order of m.Headers.
func Build(m *Message) (*mail.Msg, error) {
	if m == nil {
		return nil, invalid("Message", "is nil")
	}
	if err := checkMessage(m); err != nil {
		return nil, err
	}

	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&netmail.Address{Name: m.FromName, Address: m.FromEmail})
	msg.ToMailAddress(&netmail.Address{Name: m.ToName, Address: m.ToEmail})
	if m.ReplyTo != "" {
		msg.ReplyToMailAddress(&netmail.Address{Address: m.ReplyTo})
	}
	if m.EnvelopeFrom != "" {
		msg.EnvelopeFromMailAddress(&netmail.Address{Address: m.EnvelopeFrom})
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	for _, h := range m.Headers {
		msg.SetGenHeader(mail.Header(h.Name), h.Value)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyWriter(mail.TypeTextPlain, writeString(m.Text))
		msg.AddAlternativeWriter(mail.TypeTextHTML, writeString(m.HTML))
	case m.Text != "":
		msg.SetBodyWriter(mail.TypeTextPlain, writeString(m.Text))
	default:
		msg.SetBodyWriter(mail.TypeTextHTML, writeString(m.HTML))
	}
	return msg, nil
}

// writeString writes a body part through a small buffer. go-mail's
// SetBodyString would copy the whole part first, and the part's encoder has
// no WriteString: per recipient, on parts of tens of kilobytes, the copies
// add up.
func writeString(s string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		rest := s // the part may be written more than once: a retry, a signature
		buf := make([]byte, min(len(rest), 4096))
		var written int64
		for len(rest) > 0 {
			n := copy(buf, rest)
			rest = rest[n:]
			k, err := w.Write(buf[:n])
			written += int64(k)
			if err != nil {
				return written, err
			}
		}
		return written, nil
	}
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
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Sprintf("%q is not a plain email address", s)
	}
	return ""
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
