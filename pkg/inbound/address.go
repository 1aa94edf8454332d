package inbound

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// rcptKind is what an accepted recipient address is for.
type rcptKind int

const (
	toReport      rcptKind = iota + 1 // bounce+<token>@ the bounce domain
	toFeedback                        // the feedback-loop address
	toUnsubscribe                     // the List-Unsubscribe mailto address
)

// recipient is an accepted RCPT address.
type recipient struct {
	kind  rcptKind
	token string // the VERP token of a toReport address
}

// recipient reads an RCPT address. A VERP address is accepted only when its
// token is genuine: a forged or altered one is refused at once, so no
// message is read for it.
func (s *Server) recipient(addr string) (recipient, bool) {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	lower := strings.ToLower(addr)
	switch {
	case lower == "":
		return recipient{}, false
	case lower == s.cfg.FeedbackAddress:
		return recipient{kind: toFeedback}, true
	case lower == s.cfg.UnsubscribeAddress:
		return recipient{kind: toUnsubscribe}, true
	}
	at := strings.LastIndexByte(lower, '@')
	if s.cfg.Domain == "" || at < 0 || strings.TrimSuffix(lower[at+1:], ".") != s.cfg.Domain {
		return recipient{}, false
	}
	token := bounce.VERPToken(addr)
	if token == "" {
		return recipient{}, false
	}
	if _, _, err := s.deps.Signer.Verify(track.KindBounce, token); err != nil {
		return recipient{}, false
	}
	return recipient{kind: toReport, token: token}, true
}

// errNoToken: mail to the unsubscribe address without a token in its subject.
var errNoToken = errors.New("no unsubscribe-<token> in the subject")

// maxToken bounds the token read from a subject (tokens are far shorter).
const maxToken = 128

// mailtoToken returns the token of mail to the List-Unsubscribe mailto
// address: the worker writes mailto:<addr>?subject=unsubscribe-<token>, and
// a reply's "Re: " or an RFC 2047 encoding of the subject are read past.
func mailtoToken(raw []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", errors.New("unreadable header: " + err.Error())
	}
	subject := msg.Header.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = dec
	}
	i := strings.Index(strings.ToLower(subject), "unsubscribe-")
	if i < 0 {
		return "", errNoToken
	}
	rest := subject[i+len("unsubscribe-"):]
	n := 0
	for n < len(rest) && n < maxToken && isTokenByte(rest[n]) {
		n++
	}
	if n == 0 {
		return "", errNoToken
	}
	return rest[:n], nil
}

// isTokenByte reports a byte of the base64url alphabet tokens are written in.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
