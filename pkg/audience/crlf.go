package audience

import (
	"bufio"
	"io"
	"strings"
)

// encoding/csv ends every line at LF and drops the CR of a CR LF, also
// inside a quoted field: a cell typed with a line break in a spreadsheet,
// saved with CR LF, would come back with LF alone. crlfKeeper sits under
// the CSV reader and hides such a CR LF from it as the escape NUL LF (any
// NUL of the file is doubled), which unescapeField turns back. It follows
// the CSV reader's own reading of quotes (RFC 4180, no lazy quotes), line
// by line, so it agrees with it on every file, well-formed or not; the LF is
// kept, so line numbers stay the file's.
type crlfKeeper struct {
	r     *bufio.Reader
	state csvState
	held  byte // the second byte of an escape, when hold is set
	hold  bool
}

type csvState byte

const (
	fieldStart csvState = iota // at the start of a field (or of a line)
	unquoted                   // in a field that did not start with a quote
	quoted                     // in a quoted field
	quoteSeen                  // just after a quote in a quoted field: its end, or the first of ""
	badLine                    // the reader refused this line: the rest of it is skipped
)

func newCRLFKeeper(r io.Reader) *crlfKeeper { return &crlfKeeper{r: bufio.NewReader(r)} }

func (k *crlfKeeper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if k.hold {
			p[n], k.hold = k.held, false
			n++
			continue
		}
		c, err := k.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		switch {
		case c == 0:
			k.held, k.hold = 0, true
			k.step(c)
		case c == '\r':
			if next, err := k.r.Peek(1); err == nil && next[0] == '\n' {
				// The CR of a CR LF: nothing changes before its LF.
				if k.state == quoted {
					k.r.ReadByte()
					c, k.held, k.hold = 0, '\n', true
				}
				break
			}
			k.step(c)
		default:
			k.step(c)
		}
		p[n] = c
		n++
	}
	return n, nil
}

// step moves the state over c, which is not the CR of a CR LF.
func (k *crlfKeeper) step(c byte) {
	switch k.state {
	case fieldStart:
		switch c {
		case '"':
			k.state = quoted
		case ',', '\n':
		default:
			k.state = unquoted
		}
	case unquoted:
		switch c {
		case ',', '\n':
			k.state = fieldStart
		case '"':
			k.state = badLine // a bare quote
		}
	case quoted:
		if c == '"' {
			k.state = quoteSeen
		}
	case quoteSeen:
		switch c {
		case '"':
			k.state = quoted
		case ',', '\n':
			k.state = fieldStart
		default:
			k.state = badLine // text after a closing quote
		}
	case badLine:
		if c == '\n' {
			k.state = fieldStart
		}
	}
}

// unescapeField undoes crlfKeeper's escapes in a field.
func unescapeField(f string) string {
	if !strings.Contains(f, "\x00") {
		return f
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != 0 || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		if f[i] == '\n' {
			b.WriteString("\r\n")
		} else {
			b.WriteByte(f[i])
		}
	}
	return b.String()
}
