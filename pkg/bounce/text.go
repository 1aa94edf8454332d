package bounce

import (
	"io"
	"mime"
	"net/textproto"
	"regexp"
	"sort"
	"strings"
)

// mimeDecoder decodes RFC 2047 words; a charset it does not know is passed
// through, since only the ASCII of a subject matters here.
type mimeDecoder struct{ mime.WordDecoder }

func (d *mimeDecoder) DecodeHeader(s string) (string, error) {
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d.WordDecoder.DecodeHeader(s)
}

// originalStart marks where a free-text report starts quoting the original
// message; addresses after it are the sender's and the original
// recipients', not failures.
var originalStart = regexp.MustCompile(`(?im)^[ \t>]*(?:` +
	`-+ ?(?:original message|message header|original message follows|unsent message|this is a copy|the header of the original|headers? of (?:the )?(?:original|returned)|returned message|text of the message|below this line|forwarded message|undelivered message|message (?:text|body) follows|start of returned|original mail)` +
	`|--- ?below this line` +
	`|bounced e-?mail:\s*$` +
	`|(?:original message|message header|unsent message|returned message|the original message headers?|original message headers?)(?: follows| below| is attached)?:?\s*$` +
	`|(?:return-path|received|dkim-signature|message-id|x-mailer|x-originating-ip):[ \t]?` +
	`)`)

// recipientLine is how qmail and Postfix start what they say about one
// recipient: "<a@b>:" at the start of a line.
var recipientLine = regexp.MustCompile(`(?m)^[ \t]*<([^<>\s@]+@[^<>\s@]+)>:`)

var groupsRE = regexp.MustCompile(`(?i)groups\.google\.com|google groups`)

// notFailedBefore precedes an address given for help, or the sender's:
// not one that failed.
var notFailedBefore = regexp.MustCompile(`(?i)(?:contact|send (?:an )?e?mail to|write to|questions to|mail from|sent by|envelope-from|generated from|expanded from|may not follow)\W*$`)

// textFailures reads a free-text report: every address in its prose,
// before the quoted original, with the words that follow it.
func textFailures(m message, p *parts) []Failure {
	text := p.prose()
	if loc := originalStart.FindStringIndex(text); loc != nil {
		text = text[:loc[0]]
	}
	if groupsRE.MatchString(text) && p.original != nil {
		// Google Groups does not name the group that refused the
		// message in its words: the original was addressed to it.
		var out []Failure
		for _, a := range addrRE.FindAllString(p.original.Get("To"), -1) {
			if strings.HasSuffix(strings.ToLower(a), "@googlegroups.com") {
				out = append(out, Failure{Recipient: strings.ToLower(a), Kind: Soft, Reason: "rejected"})
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	skip := map[string]bool{}
	for _, k := range []string{"From", "To", "Reply-To", "Sender", "Return-Path", "Delivered-To", "X-Original-To", "Envelope-To", "Cc"} {
		for _, v := range m.header[k] {
			for _, a := range addrRE.FindAllString(v, -1) {
				skip[strings.ToLower(a)] = true
			}
		}
	}
	if p.original != nil {
		for _, k := range []string{"From", "Return-Path", "Sender", "Reply-To"} {
			for _, a := range addrRE.FindAllString(p.original.Get(k), -1) {
				skip[strings.ToLower(a)] = true
			}
		}
	}
	for _, loc := range addrRE.FindAllStringIndex(text, -1) {
		if notFailedBefore.MatchString(text[max(0, loc[0]-40):loc[0]]) {
			skip[strings.ToLower(text[loc[0]:loc[1]])] = true
		}
	}
	// qmail and Postfix name each failed recipient as "<a@b>:" at the
	// start of a line: that is a failure even when the report goes back
	// to the same address (someone who wrote to themselves).
	for _, m := range recipientLine.FindAllStringSubmatch(text, maxFailures) {
		delete(skip, strings.ToLower(m[1]))
	}
	// Exim names the failed recipients in a header of its own: trust it
	// over any guess from the prose.
	failed := map[string]bool{}
	for _, v := range m.header["X-Failed-Recipients"] {
		for _, a := range addrRE.FindAllString(v, -1) {
			failed[strings.ToLower(a)] = true
			delete(skip, strings.ToLower(a))
		}
	}
	type hit struct {
		addr       string
		start, end int
	}
	var hits []hit
	seen := map[string]bool{}
	for _, loc := range addrRE.FindAllStringIndex(text, -1) {
		a := strings.ToLower(strings.TrimRight(text[loc[0]:loc[1]], "."))
		local, _, _ := strings.Cut(a, "@")
		if skip[a] || seen[a] || (len(failed) > 0 && !failed[a]) || local == "mailer-daemon" || local == "postmaster" || strings.Contains(local, "=") {
			continue
		}
		seen[a] = true
		hits = append(hits, hit{a, loc[0], loc[1]})
		if len(hits) >= maxFailures {
			break
		}
	}
	if len(hits) == 0 && len(failed) > 0 {
		// Exim names in X-Failed-Recipients what its prose may describe
		// only by the delivery that failed ("save to ...", a pipe, a
		// generated address): the header is the recipient, the prose the
		// reason. Which words belong to which address is a guess when
		// there are several, so never a hard one.
		var out []Failure
		for a := range failed {
			f := Failure{Recipient: a, Diagnostic: strings.Join(strings.Fields(text), " ")}
			classifyFailure(&f, text)
			if f.Kind == Hard && len(failed) > 1 {
				f.Kind = Soft
			}
			out = append(out, f)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Recipient < out[j].Recipient })
		return out
	}
	if len(hits) == 0 && p.original != nil && (textReason(text) != "" || statusRE.MatchString(text)) {
		// The prose names no address (old Sendmail, Exim with a local
		// part only): the failed recipient is the original's. A guess, so
		// never a hard one.
		var out []Failure
		for _, a := range originalRecipients(p.original) {
			f := Failure{Recipient: strings.ToLower(a), Diagnostic: strings.Join(strings.Fields(text), " ")}
			classifyFailure(&f, text)
			if f.Kind == Hard {
				f.Kind = Soft
			}
			out = append(out, f)
		}
		return out
	}
	var out []Failure
	lower := asciiLower(text)
	for i, h := range hits {
		end := len(text)
		if i+1 < len(hits) {
			end = hits[i+1].start
		}
		seg := segment(text, h.start, h.end, end)
		seg = laterMentions(text, lower, seg, h.addr, h.start, end)
		diag := seg
		borrowed := textReason(seg) == "" && statusRE.FindString(seg) == ""
		if borrowed {
			// The words may come before the address, as in "could not
			// reach the following: a@b": take all of the prose.
			diag = text
		}
		if len(diag) > 2000 {
			diag = diag[:2000]
		}
		f := Failure{Recipient: h.addr, Diagnostic: strings.Join(strings.Fields(diag), " ")}
		classifyFailure(&f, seg+"\n"+mfilterData.FindString(text))
		if borrowed && f.Kind == Hard && len(hits) > 1 {
			// Words shared by several addresses may be about another.
			f.Kind, f.Reason = Soft, "undefined"
		}
		out = append(out, f)
	}
	return out
}

// receivedFor is the recipient a Received field names: "for <a@b>;".
var receivedFor = regexp.MustCompile(`(?i)\bfor\s+<?([^\s<>;@]+@[^\s<>;]+?)>?\s*;`)

// originalRecipients are the recipients of the original message: its To,
// or, when it has none (a Bcc, a header cut short), what its Received
// fields name: the receiving MTA writes "for <a@b>" there, and Exim's
// report names the failed local part only.
func originalRecipients(h textproto.MIMEHeader) []string {
	if to := addrRE.FindAllString(h.Get("To"), 5); len(to) > 0 {
		return to
	}
	for _, v := range h.Values("Received") {
		if m := receivedFor.FindStringSubmatch(v); m != nil {
			return []string{m[1]}
		}
	}
	return nil
}

// laterMentions adds to seg, what the report says at the address that
// starts at text[start:], what it says where it names the address again
// before limit. Gmail names the recipient first and the remote server's
// reply ("The error that the other server returned was: 550 5.1.1
// <a@b>... User unknown") a paragraph later; Sendmail does the same in its
// transcript.
// lower is asciiLower(text); addr is in lower case.
func laterMentions(text, lower, seg, addr string, start, limit int) string {
	from := strings.LastIndexByte(text[:start], '\n') + 1 + len(seg)
	for from < limit {
		i := strings.Index(lower[from:limit], addr)
		if i < 0 {
			break
		}
		at := from + i
		more := segment(text, at, at+len(addr), limit)
		seg += "\n" + more
		from = strings.LastIndexByte(text[:at], '\n') + 1 + len(more)
		if from <= at {
			from = at + len(addr)
		}
	}
	return seg
}

// asciiLower lowers the ASCII letters of s only, so that offsets into the
// result are offsets into s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// newReply is a line of an old Sendmail report that starts the reply about
// another recipient or host: "550 example.org (smtp)... Host unknown".
var newReply = regexp.MustCompile(`^[245]\d\d [<\w.-]+(?:>|\s\(smtp\))`)

// segment is what a report says about the address at text[start:addrEnd]:
// from the start of its line to the first blank line after some words, or
// to limit (where the next address starts).
func segment(text string, start, addrEnd, limit int) string {
	ls := strings.LastIndexByte(text[:start], '\n') + 1
	end := limit
	if end-addrEnd > 1500 {
		end = addrEnd + 1500
	}
	rest := text[addrEnd:end]
	words := false
	for off := 0; off < len(rest); {
		nl := strings.IndexByte(rest[off:], '\n')
		if nl < 0 {
			break
		}
		line := strings.TrimSpace(rest[off : off+nl])
		if (line == "" && words) || (off > 0 && newReply.MatchString(line)) {
			end = addrEnd + off
			break
		}
		if strings.Trim(line, "<>:;,.()[]\"'") != "" {
			words = true
		}
		off += nl + 1
	}
	return text[ls:end]
}

// prose is the readable text of the report, as far as anyone writes prose
// about a delivery: the searches over it stay cheap on a huge message.
func (p *parts) prose() string {
	var b strings.Builder
	for _, t := range p.texts {
		room := maxProse - b.Len()
		if len(t) >= room {
			b.WriteString(t[:max(room, 0)])
			break
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return b.String()
}
