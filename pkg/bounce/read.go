package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// MaxSize is the largest report Read accepts. Reports quote the original
// message, so a few megabytes are normal; more is someone else's problem.
const MaxSize = 10 << 20

// maxDepth bounds the nesting of MIME parts Read descends into, so a
// hostile message of nested multiparts costs little.
const maxDepth = 8

// maxFailures bounds the recipients one report may name.
const maxFailures = 500

// maxProse bounds the text searched for what a report says in words: the
// prose comes first, the quoted original after it.
const maxProse = 64 << 10

// maxParts bounds the number of MIME parts Read looks at.
const maxParts = 200

// ErrTooLarge is returned for a message larger than MaxSize.
var ErrTooLarge = fmt.Errorf("bounce: message larger than MaxSize (%d bytes)", MaxSize)

// Report is what one message says: the failures it reports (none for a
// message that is no report) and what identifies the original message.
type Report struct {
	Failures []Failure
	// MessageID is the Message-ID of the original message, when the report
	// quotes it, without angle brackets.
	MessageID string
	// Envelope is the address the report was sent to: the envelope sender
	// of the original message, whose local part carries the VERP token.
	Envelope string
}

// Read reads one message and returns what it reports. It reads RFC 3464
// delivery status notifications, RFC 5965 feedback reports, RFC 3834
// auto-replies and the free-text reports of servers that write none of
// these. Broken MIME is read as far as it goes; only an unreadable or
// oversized message is an error.
func Read(r io.Reader) (Report, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return Report{}, fmt.Errorf("bounce: reading message: %w", err)
	}
	if len(raw) > MaxSize {
		return Report{}, ErrTooLarge
	}
	return read(raw, 0), nil
}

// read reads raw; depth counts the reports enclosed in others it has
// descended into.
func read(raw []byte, depth int) Report {
	m := parseMessage(raw)
	var rep Report
	rep.Envelope = m.envelope()
	var p parts
	p.walk(m.header, m.body, 0)
	if p.original == nil {
		p.inlineOriginal()
	}
	if p.original != nil {
		rep.MessageID = strings.Trim(strings.TrimSpace(p.original.Get("Message-Id")), "<>")
	}
	rep.Failures = classify(m, &p)
	if len(rep.Failures) == 0 && depth == 0 {
		if inner := p.enclosedReport(); inner != nil {
			if in := read(inner, depth+1); len(in.Failures) > 0 {
				// The report came to us; what it reports is the
				// enclosed one's.
				in.Envelope = rep.Envelope
				return in
			}
		}
	}
	return rep
}

// message is a parsed top-level message.
type message struct {
	header mail.Header
	body   []byte
}

// parseMessage splits raw into header and body, leniently: a header that
// net/mail refuses is read line by line, as far as it goes.
func parseMessage(raw []byte) message {
	raw = bytes.TrimLeft(raw, "\r\n\t ")
	// An mbox "From " line precedes some saved reports.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		body, _ := io.ReadAll(msg.Body)
		return message{header: msg.Header, body: body}
	}
	h, body := looseHeader(raw)
	return message{header: h, body: body}
}

// looseHeader reads "Name: value" lines until the first blank line,
// skipping lines that are neither fields nor continuations.
func looseHeader(raw []byte) (mail.Header, []byte) {
	h := mail.Header{}
	var last string
	rest := raw
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		var line []byte
		if i < 0 {
			line, rest = rest, nil
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		s := strings.TrimRight(string(line), "\r")
		if s == "" {
			break
		}
		k, v, ok := strings.Cut(s, ":")
		if last != "" && (s[0] == ' ' || s[0] == '\t' || (!ok && strings.Contains(s, "="))) {
			// A continuation, or a parameter someone forgot to indent.
			v := h[last]
			v[len(v)-1] += " " + strings.TrimSpace(s)
			continue
		}
		if !ok || strings.ContainsAny(k, " \t") {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(k)
		h[last] = append(h[last], strings.TrimSpace(v))
	}
	return h, rest
}

// envelope is the address the report was delivered to.
func (m message) envelope() string {
	for _, k := range []string{"X-Original-To", "Delivered-To", "Envelope-To", "To"} {
		if a := firstAddress(m.header.Get(k)); a != "" {
			return a
		}
	}
	return ""
}

// parts is what the MIME walk collects from a message.
type parts struct {
	texts    []string // human-readable parts before the original message, decoded
	status   []string // message/delivery-status bodies
	feedback []string // message/feedback-report bodies
	original textproto.MIMEHeader
	origBody string
	origRaw  []byte   // the whole of the first enclosed message
	jsons    []string // application/json parts (sending services that post JSON by mail)
	count    int
	reportTy string // report-type of a multipart/report
}

func (p *parts) walk(h mail.Header, body []byte, depth int) {
	p.count++
	if depth > maxDepth || p.count > maxParts {
		return
	}
	ct, params := mediaType(h.Get("Content-Type"))
	body = decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		if ct == "multipart/report" && p.reportTy == "" {
			p.reportTy = strings.ToLower(params["report-type"])
		}
		b := params["boundary"]
		if b == "" {
			p.texts = append(p.texts, string(body))
			return
		}
		n := 0
		for _, pb := range splitMultipart(body, b) {
			ph, pbody := looseHeader(pb)
			n++
			p.walk(ph, pbody, depth+1)
		}
		if n == 0 {
			// A boundary that never occurs: read the body as text.
			p.texts = append(p.texts, string(body))
		}
	case ct == "message/delivery-status" || ct == "message/global-delivery-status":
		p.status = append(p.status, string(body))
	case ct == "message/feedback-report":
		p.feedback = append(p.feedback, string(body))
	case ct == "message/rfc822" || ct == "message/global" || ct == "text/rfc822-headers" ||
		ct == "text/rfc822-header" || ct == "message/rfc822-headers" || ct == "message/global-headers":
		if p.original == nil {
			oh, ob := looseHeader(bytes.TrimLeft(body, "\r\n"))
			p.original = textproto.MIMEHeader(oh)
			if len(ob) > 4096 {
				ob = ob[:4096]
			}
			p.origBody = string(ob)
			p.origRaw = body
		}
	case ct == "application/json":
		p.jsons = append(p.jsons, string(body))
	case ct == "" && depth == 0 && impliedBoundary(body) != "":
		// MIME parts without the header that announces them.
		for _, pb := range splitMultipart(body, impliedBoundary(body)) {
			ph, pbody := looseHeader(pb)
			p.walk(ph, pbody, depth+1)
		}
	case ct == "" || strings.HasPrefix(ct, "text/"):
		s := string(decodeCharset(params["charset"], body))
		if ct == "text/html" {
			s = stripTags(s)
		}
		p.texts = append(p.texts, s)
	}
}

// splitMultipart cuts a multipart body at its boundary lines. Unlike
// mime/multipart it forgives what real reports get wrong: malformed part
// headers, a missing closing boundary, stray text around the parts.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var out [][]byte
	start := -1
	pos := 0
	for pos < len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			next = pos + end + 1
		}
		line := bytes.TrimRight(body[pos:next], "\r\n\t ")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				if start >= 0 {
					out = append(out, body[start:pos])
				}
				if len(rest) > 0 {
					return out
				}
				start = next
			}
		}
		pos = next
		if len(out) >= maxParts {
			return out
		}
	}
	if start >= 0 && start < len(body) {
		out = append(out, body[start:])
	}
	return out
}

// inlineOriginal reads the header of an original message quoted in the
// text of a report that has no message/rfc822 part (qmail, Exim, Google).
func (p *parts) inlineOriginal() {
	text := p.prose()
	loc := originalStart.FindStringIndex(text)
	if loc == nil {
		return
	}
	rest := text[loc[0]:]
	if !strings.Contains(strings.ToLower(rest[:min(len(rest), 200)]), ":") {
		return
	}
	// Skip the marker line itself, if it is one, and blank lines.
	if i := strings.IndexByte(rest, '\n'); i >= 0 && strings.HasPrefix(strings.TrimLeft(rest, " \t>"), "-") {
		rest = rest[i+1:]
	}
	h, _ := looseHeader([]byte(strings.TrimLeft(rest, "\r\n")))
	if len(h) > 0 {
		p.original = textproto.MIMEHeader(h)
	}
}

var boundaryLine = regexp.MustCompile(`(?m)^--([^\s-][^\s]{5,69})\r?$`)

// impliedBoundary is the boundary of a body that is multipart without
// saying so: a "--xyz" line that recurs, followed by a part header.
func impliedBoundary(body []byte) string {
	if len(body) > maxProse {
		body = body[:maxProse]
	}
	m := boundaryLine.FindSubmatchIndex(body)
	if m == nil {
		return ""
	}
	b := string(body[m[2]:m[3]])
	if bytes.Count(body, []byte("\n--"+b)) < 2 {
		return ""
	}
	return b
}

// mediaType parses a Content-Type leniently: a malformed parameter list
// still yields the type and, where it can be found, the boundary.
func mediaType(v string) (string, map[string]string) {
	if v == "" {
		return "", map[string]string{}
	}
	ct, params, err := mime.ParseMediaType(v)
	if err == nil {
		return strings.ToLower(ct), params
	}
	t, _, _ := strings.Cut(v, ";")
	params = map[string]string{}
	if m := looseBoundary.FindStringSubmatch(v); m != nil {
		params["boundary"] = strings.Trim(m[1], `"`)
	}
	if m := looseReportType.FindStringSubmatch(v); m != nil {
		params["report-type"] = strings.Trim(m[1], `"`)
	}
	return strings.ToLower(strings.TrimSpace(t)), params
}

var (
	looseBoundary   = regexp.MustCompile(`(?i)boundary\s*=\s*("[^"]*"|[^;\s]+)`)
	looseReportType = regexp.MustCompile(`(?i)report-type\s*=\s*("[^"]*"|[^;\s]+)`)
)

// decodeTransfer undoes base64 and quoted-printable; a body that does not
// decode is kept as it is.
func decodeTransfer(enc string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return out[:n]
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(out) == 0 {
			return body
		}
		return out
	}
	return body
}

var tagRE = regexp.MustCompile(`(?s)<(?:style|script)[^>]*>.*?</(?:style|script)>|<[^>]*>`)

func stripTags(s string) string {
	s = tagRE.ReplaceAllStringFunc(s, func(t string) string {
		lt := strings.ToLower(t)
		if strings.HasPrefix(lt, "<br") || strings.HasPrefix(lt, "<p") || strings.HasPrefix(lt, "<div") ||
			strings.HasPrefix(lt, "<tr") || strings.HasPrefix(lt, "</p") || strings.HasPrefix(lt, "</div") {
			return "\n"
		}
		return " "
	})
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&quot;", `"`, "&#64;", "@")
	return r.Replace(s)
}

// fieldBlocks reads header-like blocks separated by blank lines, as in a
// delivery-status or feedback-report body; continuation lines are joined.
func fieldBlocks(s string) []textproto.MIMEHeader {
	var blocks []textproto.MIMEHeader
	cur := textproto.MIMEHeader{}
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = textproto.MIMEHeader{}
			}
			last = ""
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			v := cur[last]
			v[len(v)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
		// A second recipient without a blank line between: a new block.
		if (last == "Final-Recipient" || last == "Original-Recipient") && len(cur[last]) > 0 {
			blocks = append(blocks, cur)
			cur = textproto.MIMEHeader{}
		}
		cur[last] = append(cur[last], strings.TrimSpace(v))
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

var addrRE = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+'=/!#$&*?^{|}~-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

// firstAddress is the first address-like token in s, in lower case.
func firstAddress(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(strings.Trim(addrRE.FindString(s), "."))
}
