package mailer

import (
	"hash/fnv"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
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
// names and subjects outside ASCII are RFC 2047 encoded words, on lines of
// at most 76 characters (see appendEncoded). Both parts are
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
	dst = appendAddress(dst, "From", m.FromName, m.FromEmail)
	if m.ReplyTo != "" {
		dst = appendHeader(dst, "Reply-To", "<"+m.ReplyTo+">")
	}
	dst = appendAddress(dst, "To", m.ToName, m.ToEmail)
	dst = appendText(dst, "Subject", m.Subject)
	dst = append(dst, "Date: "...)
	dst = m.Date.AppendFormat(dst, time.RFC1123Z)
	dst = append(dst, "\r\nMessage-ID: <"...)
	dst = append(dst, m.MessageID...)
	dst = append(dst, ">\r\nMIME-Version: 1.0\r\n"...)
	for _, h := range m.Headers {
		dst = appendText(dst, h.Name, h.Value)
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

// maxEncodedLine bounds a header line that holds an encoded word (RFC 2047
// §2), the field name and colon included.
const maxEncodedLine = 76

// encodedWordStart and encodedWordEnd frame every encoded word written.
const (
	encodedWordStart = "=?UTF-8?q?"
	encodedWordEnd   = "?="
)

// needsEncoding reports header text that cannot be written as it is:
// anything outside ASCII, or text a reader would take for an encoded word.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// appendText writes an unstructured field (Subject, an extra header): as it
// is when it is ASCII, else as encoded words.
func appendText(dst []byte, name, value string) []byte {
	if !needsEncoding(value) {
		return appendHeader(dst, name, value)
	}
	return appendEncoded(dst, name, value, "")
}

// appendAddress writes "Name: display name <addr>". A display name outside
// ASCII is encoded; one in ASCII is quoted when it needs to be.
func appendAddress(dst []byte, name, display, addr string) []byte {
	if display == "" || !needsEncoding(display) {
		return appendHeader(dst, name, (&netmail.Address{Name: display, Address: addr}).String())
	}
	return appendEncoded(dst, name, display, " <"+addr+">")
}

// appendEncoded writes "Name: " and text as Q encoded words, then tail
// (written as it is, e.g. " <addr>") and CRLF. Every line that carries an
// encoded word is at most maxEncodedLine characters: a word is closed and a
// new one started on a folded line before the limit, never inside a
// character's UTF-8 bytes, since each word must decode on its own. Spaces
// are encoded ("_") inside the words: the folding white space between two
// encoded words is not part of the text. tail goes on a line of its own when
// it does not fit on the last.
func appendEncoded(dst []byte, name, text, tail string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	line := len(name) + 2
	open := false
	var enc [4 * 3]byte // one character, each byte as =XX
	for i := 0; i < len(text); {
		_, size := utf8.DecodeRuneInString(text[i:])
		n := qEncode(enc[:0], text[i:i+size])
		if open && line+len(n)+len(encodedWordEnd) > maxEncodedLine {
			dst = append(dst, encodedWordEnd...)
			open = false
		}
		if !open {
			if line+len(encodedWordStart)+len(n)+len(encodedWordEnd) > maxEncodedLine {
				dst = append(dst, "\r\n "...)
				line = 1
			} else if line > len(name)+2 {
				dst = append(dst, ' ')
				line++
			}
			dst = append(dst, encodedWordStart...)
			line += len(encodedWordStart)
			open = true
		}
		dst = append(dst, n...)
		line += len(n)
		i += size
	}
	if open {
		dst = append(dst, encodedWordEnd...)
		line += len(encodedWordEnd)
	}
	if tail != "" {
		if line+len(tail) > maxEncodedLine {
			dst = append(dst, '\r', '\n')
		}
		dst = append(dst, tail...)
	}
	return append(dst, '\r', '\n')
}

// qEncode appends s in RFC 2047 Q encoding, keeping as they are only the
// characters allowed in a word that stands for a display name (§5 rule 3):
// letters, digits and !*+-/.
func qEncode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			dst = append(dst, '_')
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!*+-/", c) >= 0:
			dst = append(dst, c)
		default:
			dst = append(dst, '=', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return dst
}
