package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// maxMIMEDepth bounds multipart nesting; real mail nests three or four deep.
const maxMIMEDepth = 16

// headerField is one header as shown: unfolded and decoded.
type headerField struct{ Name, Value string }

// attachment is a part that is neither the text nor the HTML body.
type attachment struct {
	Type, Name string
	Size       int
}

// mailView is a captured message taken apart for display.
type mailView struct {
	Headers     []headerField // in the order they were written
	Text        string
	HTML        string
	HasText     bool
	HasHTML     bool
	Attachments []attachment
	ParseError  string // set when the message could not be fully read
}

// header returns the first header called name, decoded.
func (v *mailView) header(name string) string {
	for _, h := range v.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// parseMail reads a raw RFC 5322 message: its headers in order, and the
// first text/plain and text/html parts anywhere in its MIME tree, with
// quoted-printable and base64 undone and the text turned into UTF-8.
func parseMail(raw []byte) mailView {
	var v mailView
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		v.ParseError = "headers: " + err.Error()
		return v
	}
	v.Headers = orderedHeaders(raw)
	h := textproto.MIMEHeader(msg.Header)
	if err := v.walk(h, msg.Body, 0); err != nil {
		v.ParseError = err.Error()
	}
	return v
}

func (v *mailView) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxMIMEDepth {
			return errors.New("multipart nested too deep")
		}
		boundary := params["boundary"]
		if boundary == "" {
			return errors.New(mediaType + " without a boundary")
		}
		mr := multipart.NewReader(body, boundary)
		for {
			// Raw parts, so that every transfer encoding is undone in one
			// place (NextPart undoes quoted-printable only).
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := v.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}

	data, err := io.ReadAll(decodeTransfer(body, h.Get("Content-Transfer-Encoding")))
	if err != nil {
		return err
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	isAttachment := disposition == "attachment" || dparams["filename"] != ""
	switch {
	case !isAttachment && mediaType == "text/plain" && !v.HasText:
		v.Text, v.HasText = toUTF8(data, params["charset"]), true
	case !isAttachment && mediaType == "text/html" && !v.HasHTML:
		v.HTML, v.HasHTML = toUTF8(data, params["charset"]), true
	default:
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		v.Attachments = append(v.Attachments, attachment{Type: mediaType, Name: decodeWords(name), Size: len(data)})
	}
	return nil
}

func decodeTransfer(r io.Reader, encoding string) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		// The decoder skips CR and LF; mail wraps base64 at 76 columns.
		return base64.NewDecoder(base64.StdEncoding, r)
	default: // 7bit, 8bit, binary
		return r
	}
}

// toUTF8 converts a text part to UTF-8. Mail from this system is UTF-8;
// Latin-1 is converted; anything else is shown as is, invalid bytes
// replaced.
func toUTF8(data []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1":
		var b strings.Builder
		b.Grow(len(data) + len(data)/4)
		for _, c := range data {
			b.WriteRune(rune(c))
		}
		return b.String()
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// orderedHeaders lists the header section's fields in order, unfolded and
// decoded from RFC 2047 (net/mail keeps them in a map).
func orderedHeaders(raw []byte) []headerField {
	var fields []headerField
	for len(raw) > 0 {
		var line []byte
		line, raw = cutLine(raw)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if n := len(fields); n > 0 {
				fields[n-1].Value += " " + strings.TrimSpace(string(line))
			}
			continue
		}
		name, value, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		fields = append(fields, headerField{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	for i := range fields {
		fields[i].Value = decodeWords(fields[i].Value)
	}
	return fields
}

func cutLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return bytes.TrimRight(data[:i], "\r"), data[i+1:]
	}
	return bytes.TrimRight(data, "\r"), nil
}

func decodeWords(s string) string {
	var d mime.WordDecoder
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}
