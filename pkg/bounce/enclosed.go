package bounce

import (
	"regexp"
	"strings"
)

// A report sometimes arrives inside another message: a person forwards the
// bounce they got ("Fwd: Returned mail", quoted with "> " or attached as
// message/rfc822), a relay wraps the report of the next hop in its own
// (Mirapoint), or an ISP hands its customer the relay's report pasted into
// a notice of its own (NTT OCN). When the outer message reports nothing
// itself, the enclosed report is read instead.

// reportSender is the From of a delivery report: MAILER-DAEMON, postmaster,
// or the display names Sendmail, Postfix, Exim and Gmail give it.
var reportSender = regexp.MustCompile(`(?i)mailer-daemon|postmaster|mail delivery (?:subsystem|system)`)

// enclosedFrom finds the From line of a report's header quoted in the
// text, with the quote marks before it.
var enclosedFrom = regexp.MustCompile(`(?im)^((?:>[ \t]?)*)From:[ \t]*[^\n]*(?:mailer-daemon|postmaster|mail delivery (?:subsystem|system))`)

// fieldLine is a header field's first line: a name, then a colon.
var fieldLine = regexp.MustCompile(`^[!-9;-~]+:`)

// enclosedReport is the raw report enclosed in this message, or nil: the
// attached message when it is a report, else a report's header and body
// quoted in the text.
func (p *parts) enclosedReport() []byte {
	if p.original != nil && p.origRaw != nil {
		ct, params := mediaType(p.original.Get("Content-Type"))
		if reportSender.MatchString(p.original.Get("From")) ||
			(ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status")) {
			return p.origRaw
		}
	}
	text := p.prose()
	loc := enclosedFrom.FindStringSubmatchIndex(text)
	if loc == nil {
		return nil
	}
	level := strings.Count(text[loc[2]:loc[3]], ">")
	// The header starts at the first field line above the From line.
	start := loc[0]
	for start > 0 {
		prev := strings.LastIndexByte(text[:start-1], '\n') + 1
		line := unquote(strings.TrimRight(text[prev:start-1], "\r"), level)
		if !fieldLine.MatchString(line) && (line == "" || (line[0] != ' ' && line[0] != '\t')) {
			break
		}
		start = prev
	}
	if level == 0 {
		return []byte(text[start:])
	}
	lines := strings.Split(text[start:], "\n")
	for i, l := range lines {
		lines[i] = unquote(l, level)
	}
	return []byte(strings.Join(lines, "\n"))
}

// unquote takes level quote marks ("> " or ">") off the start of line.
func unquote(line string, level int) string {
	for range level {
		if !strings.HasPrefix(line, ">") {
			break
		}
		line = strings.TrimPrefix(line[1:], " ")
	}
	return line
}
