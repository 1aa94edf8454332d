package inbound

import (
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-smtp"
)

// The answers of the server beyond go-smtp's own.
var (
	errNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such address here"}
	errTryLater   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not take the message now, try again later"}
)

// session is one SMTP connection's conversation.
type session struct {
	s      *Server
	conn   *limitConn // nil when the listener was not ours (never in Serve)
	remote string
	from   string
	rcpts  []recipient
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	if ss.conn != nil {
		ss.conn.inMessage.Store(true)
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	r, ok := ss.s.recipient(to)
	if !ok {
		ss.s.deps.Log.Info("inbound SMTP recipient refused", "remote", ss.remote, "rcpt", to)
		return errNoSuchUser
	}
	if !slices.Contains(ss.rcpts, r) {
		ss.rcpts = append(ss.rcpts, r)
	}
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		ss.s.deps.Log.Warn("inbound SMTP message refused: too large", "remote", ss.remote, "max_bytes", ss.s.cfg.MaxBytes)
		return smtp.ErrDataTooLarge
	}
	if err != nil {
		return err // the connection broke: nothing was taken, the sender retries
	}
	return ss.s.take(ss.from, ss.rcpts, raw, ss.remote)
}

func (ss *session) Reset() {
	ss.from, ss.rcpts = "", nil
	if ss.conn != nil {
		ss.conn.inMessage.Store(false)
	}
}

func (ss *session) Logout() error { return nil }
