package mailer

import "bytes"

// dotState is where a dot-stuffer stands in the message, as in
// net/textproto's DotWriter: its output is the reference, so that writing a
// message in one go changes nothing on the wire.
type dotState uint8

const (
	dotBegin     dotState = iota // nothing written yet
	dotBeginLine                 // just after a LF
	dotCR                        // after a CR that a LF would complete
	dotData                      // inside a line
)

// appendDotStuffed appends src to dst as SMTP DATA (RFC 5321 §4.5.2): a dot
// that starts a line is doubled, and a LF that no CR precedes becomes CRLF.
// st is the state after the bytes stuffed before src; the state after src is
// returned for the next call or appendDotEnd. A message that is CRLF
// already (every one Build writes) is copied a line at a time.
func appendDotStuffed(dst, src []byte, st dotState) ([]byte, dotState) {
	for len(src) > 0 {
		if (st == dotBegin || st == dotBeginLine) && src[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			dst = append(dst, src...)
			return dst, crState(src, st)
		}
		dst = append(dst, src[:i]...)
		// DotWriter takes a CR as the start of a line break only if the
		// CR before it was not: CR CR LF gets a CR of its own.
		if crState(src[:i], st) != dotCR {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		src, st = src[i+1:], dotBeginLine
	}
	return dst, st
}

// crState is the state after line, a part of a line with no LF, when st
// was the state before it: dotCR when it ends in an odd run of CRs, counting
// those before it when the run spans all of line.
func crState(line []byte, st dotState) dotState {
	n := 0
	for n < len(line) && line[len(line)-1-n] == '\r' {
		n++
	}
	switch {
	case len(line) == 0:
		return st
	case n == len(line) && st == dotCR:
		n++
	}
	if n%2 == 1 {
		return dotCR
	}
	return dotData
}

// appendDotEnd appends the end of DATA: what completes the last line,
// then the lone dot.
func appendDotEnd(dst []byte, st dotState) []byte {
	switch st {
	case dotBeginLine:
		return append(dst, ".\r\n"...)
	case dotCR:
		return append(dst, "\n.\r\n"...)
	}
	return append(dst, "\r\n.\r\n"...)
}
