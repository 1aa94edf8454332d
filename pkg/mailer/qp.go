package mailer

// maxQPLine is the longest encoded line RFC 2045 allows, the soft line
// break's "=" included.
const maxQPLine = 76

// qpLiteral marks the bytes that quoted-printable may carry as themselves:
// printable ASCII except "=", and space and tab (unless they end a line).
var qpLiteral = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendQP appends s encoded as quoted-printable text (RFC 2045 §6.7) to dst.
// Line breaks (CRLF or a bare LF) become CRLF hard breaks, so the part
// decodes to s with CRLF line ends, the canonical form of text; a bare CR is
// encoded. Encoded lines are at most 76 characters, never end in space or
// tab, and never start with "From " (mbox delivery would alter them, and
// with them the DKIM body hash). The output never contains "=_", which keeps
// multipart boundaries that start with it unambiguous.
//
// It copies runs of literal bytes at once rather than byte by byte, and
// allocates nothing beyond growing dst.
func appendQP(dst []byte, s string) []byte {
	line := 0 // length of the encoded line so far
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			dst = append(dst, '\r', '\n')
			line = 0
			i++
			continue
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			dst = append(dst, '\r', '\n')
			line = 0
			i += 2
			continue
		}

		if line == maxQPLine-1 {
			dst = append(dst, '=', '\r', '\n')
			line = 0
		}
		if qpLiteral[c] && !(line == 0 && c == 'F' && len(s)-i >= 5 && s[i:i+5] == "From ") {
			// A run of literal bytes, cut where the line is full.
			run := s[i:min(len(s), i+maxQPLine-1-line)]
			j := 1
			for ; j+8 <= len(run); j += 8 {
				// Eight bytes at a time (inlined by hand: a call costs
				// as much as the test): all printable ASCII or space,
				// none "=".
				w := run[j : j+8]
				x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
					uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
				below := (x - 0x20*lsb) &^ x // a byte under 0x20, or 0x80 and over
				del := x ^ 0x7f*lsb          // zero where a byte is DEL
				eq := x ^ '='*lsb            // zero where a byte is "="
				if (x|below|((del-lsb)&^del)|((eq-lsb)&^eq))&msb != 0 {
					break
				}
			}
			for j < len(run) && qpLiteral[run[j]] {
				j++
			}
			j += i
			// Space or tab just before a line break or the end would be
			// lost in transport: encode it.
			if k := j - 1; (s[k] == ' ' || s[k] == '\t') && atLineEnd(s, j) {
				j = k
			}
			if j > i {
				dst = append(dst, s[i:j]...)
				line += j - i
				i = j
				continue
			}
		}

		if line+3 > maxQPLine-1 {
			dst = append(dst, '=', '\r', '\n')
			line = 0
		}
		dst = append(dst, '=', upperHex[c>>4], upperHex[c&0x0f])
		line += 3
		i++
	}
	return dst
}

// atLineEnd reports whether s[i:] starts with a line break, or is empty.
func atLineEnd(s string, i int) bool {
	return i == len(s) || s[i] == '\n' || (s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n')
}

// For testing eight bytes at once.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)
