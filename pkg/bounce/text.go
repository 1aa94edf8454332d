package bounce

import (
	"io"
	"mime"
	"regexp"
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
	`|(?:original message|message header|unsent message|returned message|the original message headers?|original message headers?)(?: follows| below| is attached)?:?\s*$` +
	`|(?:return-path|received|dkim-signature|message-id|x-mailer|x-originating-ip):[ \t]` +
	`)`)

// textFailures reads a free-text report: every address in its prose,
// before the quoted original, with the words that follow it.
func textFailures(m message, p *parts) []Failure {
	text := strings.Join(p.texts, "\n")
	if loc := originalStart.FindStringIndex(text); loc != nil {
		text = text[:loc[0]]
	}
	if len(text) > 64*1024 {
		text = text[:64*1024]
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
	type hit struct {
		addr       string
		start, end int
	}
	var hits []hit
	seen := map[string]bool{}
	for _, loc := range addrRE.FindAllStringIndex(text, -1) {
		a := strings.ToLower(strings.TrimRight(text[loc[0]:loc[1]], "."))
		local, _, _ := strings.Cut(a, "@")
		if skip[a] || seen[a] || local == "mailer-daemon" || local == "postmaster" || strings.Contains(local, "=") {
			continue
		}
		seen[a] = true
		hits = append(hits, hit{a, loc[0], loc[1]})
	}
	var out []Failure
	for i, h := range hits {
		end := len(text)
		if i+1 < len(hits) {
			end = hits[i+1].start
		}
		diag := text[h.end:end]
		if strings.TrimSpace(strings.Trim(diag, "<>:;,\"' \t\r\n")) == "" || len(hits) == 1 {
			// The words may come before the address, or the only address
			// is in the middle of the explanation: take all of it.
			diag = text
		}
		if len(diag) > 2000 {
			diag = diag[:2000]
		}
		f := Failure{Recipient: h.addr, Diagnostic: strings.Join(strings.Fields(diag), " ")}
		classifyFailure(&f)
		out = append(out, f)
	}
	return out
}
