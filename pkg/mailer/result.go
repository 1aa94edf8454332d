package mailer

import (
	"strconv"
	"strings"
)

// Line is the result as one line for the ledger: the reply code, the
// enhanced code and the relay's text ("250 2.0.0 OK"). Most relays start
// their text with the enhanced code already; it is then written once.
func (r Result) Line() string {
	var b strings.Builder
	if r.Code != 0 {
		b.WriteString(strconv.Itoa(r.Code))
	}
	if r.Enhanced != "" && r.Reply != r.Enhanced && !strings.HasPrefix(r.Reply, r.Enhanced+" ") {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.Enhanced)
	}
	if reply := strings.TrimSpace(r.Reply); reply != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(reply)
	}
	return b.String()
}
