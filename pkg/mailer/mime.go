package mailer

import (
	"hash/fnv"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
)

// Raw is a message in its wire form: CRLF line ends, header, blank line,
// body, ready for SMTP DATA or an .eml file.
type Raw []byte

// WriteTo writes the message to w.
func (r Raw) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r)
	return int64(n), err
}

// Build assembles m into its wire form. It refuses, naming the field, a
// header name or value with CR, LF or another control character (no header
// injection), an invalid address, a missing Message-ID or Date, and a message
// with neither an HTML nor a text part.
func Build(m *Message) (Raw, error) {
	if m == nil {
		return nil, invalid("Message", "is nil")
	}
	return AppendMessage(make([]byte, 0, sizeHint(m)), m)
}

// AppendMessage is Build appending to dst, so that a sender can reuse one
// buffer for message after message.
//
// The header is From, Reply-To, To, Subject, Date, Message-ID, MIME-Version,
// m.Headers in their order, then Content-Type: multipart/alternative with the
// text part first when both parts are given, else the one part. Header
// fields are folded at spaces to stay within 78 characters where they can;
// names and subjects outside ASCII are RFC 2047 encoded words. Both parts are
// UTF-8 in quoted-printable, the conservative choice: 7-bit clean, lines
// under 76 characters, readable in the raw message, and no relay has reason
// to re-encode it, which would break a DKIM signature.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m == nil {
		return dst, invalid("Message", "is nil")
	}
	if err := checkMessage(m); err != nil {
		return dst, err
	}
	dst = appendHeader(dst, "From", (&netmail.Address{Name: m.FromName, Address: m.FromEmail}).String())
	if m.ReplyTo != "" {
		dst = appendHeader(dst, "Reply-To", "<"+m.ReplyTo+">")
	}
	dst = appendHeader(dst, "To", (&netmail.Address{Name: m.ToName, Address: m.ToEmail}).String())
	dst = appendHeader(dst, "Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	dst = append(dst, "Date: "...)
	dst = m.Date.AppendFormat(dst, time.RFC1123Z)
	dst = append(dst, "\r\nMessage-ID: <"...)
	dst = append(dst, m.MessageID...)
	dst = append(dst, ">\r\nMIME-Version: 1.0\r\n"...)
	for _, h := range m.Headers {
		dst = appendHeader(dst, h.Name, mime.QEncoding.Encode("UTF-8", h.Value))
	}

	switch {
	case m.Text != "" && m.HTML != "":
		// Quoted-printable never contains "=_", so a boundary that starts
		// with it cannot occur in either part.
		h := fnv.New64a()
		h.Write([]byte(m.MessageID))
		var boundary [2 + 16]byte
		copy(boundary[:], "=_")
		sum := h.Sum64()
		for i := range 16 {
			boundary[2+i] = upperHex[(sum>>(60-4*i))&0xf]
		}
		dst = append(dst, "Content-Type: multipart/alternative; boundary=\""...)
		dst = append(dst, boundary[:]...)
		dst = append(dst, "\"\r\n\r\n--"...)
		dst = append(dst, boundary[:]...)
		dst = append(dst, "\r\n"...)
		dst = appendPart(dst, "text/plain", m.Text)
		dst = append(dst, "\r\n--"...)
		dst = append(dst, boundary[:]...)
		dst = append(dst, "\r\n"...)
		dst = appendPart(dst, "text/html", m.HTML)
		dst = append(dst, "\r\n--"...)
		dst = append(dst, boundary[:]...)
		dst = append(dst, "--\r\n"...)
	case m.Text != "":
		dst = appendPart(dst, "text/plain", m.Text)
		dst = append(dst, "\r\n"...)
	default:
		dst = appendPart(dst, "text/html", m.HTML)
		dst = append(dst, "\r\n"...)
	}
	return dst, nil
}

// appendPart writes a part's header, the blank line and its encoded body,
// without a final line break.
func appendPart(dst []byte, mediaType, body string) []byte {
	dst = append(dst, "Content-Type: "...)
	dst = append(dst, mediaType...)
	dst = append(dst, "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	return appendQP(dst, body)
}

// sizeHint guesses the size of m's wire form, so that it is written into
// one allocation: quoted-printable grows text by a few percent, more with
// non-ASCII, and the header is under a kilobyte or two.
func sizeHint(m *Message) int {
	n := len(m.HTML) + len(m.Text)
	return n + n/16 + 2048
}

// maxHeaderLine is the line length header fields are folded to when they
// have spaces to fold at (RFC 5322 §2.1.1).
const maxHeaderLine = 78

// appendHeader writes "Name: value" and CRLF, folding the value before a
// space when the line would pass 78 characters. A run without spaces longer
// than that (a long URL) stays on one line: RFC 5322 allows 998.
func appendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	line := len(name) + 2
	for line+len(value) > maxHeaderLine {
		// Fold at the last space that keeps the line short, or else at the
		// first one; never at the value's first character, so that every
		// line carries text.
		limit := min(maxHeaderLine-line, len(value)-1)
		cut := -1
		if limit > 1 {
			cut = strings.LastIndexByte(value[1:limit+1], ' ')
		}
		if cut < 0 {
			cut = strings.IndexByte(value[1:], ' ')
			if cut < 0 {
				break
			}
		}
		cut++
		if strings.TrimLeft(value[cut:], " \t") == "" {
			break // a line of only whitespace would end the header
		}
		dst = append(dst, value[:cut]...)
		dst = append(dst, '\r', '\n')
		value, line = value[cut:], 0
	}
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}
