package mailer

import (
	"errors"
	"net/textproto"
)

// transaction is one message on the wire.
type transaction struct {
	from, to string
	wire     []byte // the message as DATA: dot-stuffed, with the final dot
	reply    string // the relay's answer to the data
}

// stage says which SMTP command an error answered.
type stage int

const (
	// stageMailFrom: MAIL FROM, or the RSET sent just before it (nothing
	// of the message has reached the relay yet: a stale connection shows
	// here).
	stageMailFrom stage = iota + 1
	stageRcptTo
	stageData
	// stageReply: the whole message, final dot included, went out; the
	// error is about the relay's reply to it.
	stageReply
)

func (s stage) String() string {
	switch s {
	case stageMailFrom:
		return "MAIL FROM"
	case stageRcptTo:
		return "RCPT TO"
	case stageData:
		return "DATA"
	case stageReply:
		return "reply to DATA"
	}
	return "connection"
}

// smtpError is a failed transaction: the stage, and the relay's reply (a
// *textproto.Error) or what went wrong without one.
type smtpError struct {
	stage stage
	err   error
}

func (e *smtpError) Error() string { return e.stage.String() + ": " + e.err.Error() }
func (e *smtpError) Unwrap() error { return e.err }

// command is one command of a transaction's opening: where its line ends
// in conn.cmds, the stage it answers for, and the reply code that lets the
// transaction go on, as textproto.Reader.ReadResponse takes it.
type command struct {
	end    int
	stage  stage
	expect int
	reset  bool // RSET: only a 421 or no reply at all stops the transaction
}

// transact sends one message on an open session: MAIL FROM, RCPT TO, DATA,
// then the message. One message per Send on a kept-open connection: a NOOP
// before and an RSET after each would add round trips. A dead connection
// shows at the first command instead, and Send retries that.
//
// A transaction that did not end with the relay taking the message leaves
// the session dirty, and the next one starts with RSET: pipelined with
// MAIL FROM when the relay offers PIPELINING, so that it costs no round
// trip of its own.
//
// With PIPELINING (RFC 2920) the opening commands go out in one write and
// their replies are read together: two round trips per message, the
// commands and the message, instead of four. Every reply is still read and
// classified in turn, and a refused MAIL FROM or RCPT TO keeps the message
// off the wire. Without it, each command waits for its reply.
//
// Every write and every read gets the pool's Timeout afresh.
func (p *Pool) transact(c *conn, t *transaction) error {
	cmds := c.opening(t)
	c.dirty = true // until the relay's reply to the data ends the transaction
	var err error
	if c.pipelining {
		err = p.openPipelined(c, cmds)
	} else {
		err = p.openInTurn(c, cmds)
	}
	if err != nil {
		return err
	}
	// The message goes out stuffed and whole, final dot included, in one
	// write: a flush on an empty bufio.Writer, or a write straight through
	// it when the message is larger than its buffer.
	if err := p.write(c, t.wire); err != nil {
		return &smtpError{stageData, err}
	}
	// From here on, a failure may come after the relay took the message.
	reply, err := p.read(c, 250)
	if err != nil {
		return &smtpError{stageReply, err}
	}
	c.dirty = false
	t.reply = reply
	return nil
}

// opening writes the commands that open t into c.cmds, with an RSET first
// when the session is dirty, and says where each ends.
func (c *conn) opening(t *transaction) []command {
	b, cmds := c.cmds[:0], c.steps[:0]
	if c.dirty {
		b = append(b, "RSET\r\n"...)
		cmds = append(cmds, command{end: len(b), stage: stageMailFrom, expect: 250, reset: true})
	}
	// go-mail's own MAIL FROM parameters, with the angle brackets RFC 5321
	// asks for (addresses are bare addr-specs, checked by Build).
	b = append(append(append(b, "MAIL FROM:<"...), t.from...), '>')
	b = append(append(b, c.mailParams...), "\r\n"...)
	cmds = append(cmds, command{end: len(b), stage: stageMailFrom, expect: 250})
	b = append(append(append(b, "RCPT TO:<"...), t.to...), ">\r\n"...)
	cmds = append(cmds, command{end: len(b), stage: stageRcptTo, expect: 25})
	b = append(b, "DATA\r\n"...)
	cmds = append(cmds, command{end: len(b), stage: stageData, expect: 354})
	c.cmds, c.steps = b, cmds
	return cmds
}

// openInTurn sends the opening commands one at a time, each after the reply
// to the one before: the conversation with a relay that does not pipeline.
func (p *Pool) openInTurn(c *conn, cmds []command) error {
	start := 0
	for _, cmd := range cmds {
		if err := p.write(c, c.cmds[start:cmd.end]); err != nil {
			return &smtpError{cmd.stage, err}
		}
		start = cmd.end
		if _, err := p.read(c, cmd.expect); err != nil && stops(cmd, err) {
			return &smtpError{cmd.stage, err}
		}
	}
	return nil
}

// openPipelined sends the opening commands in one write, then reads a reply
// for each. The first refusal is the transaction's result; the replies after
// it are read all the same, to keep the session in step. A relay that
// refuses a recipient and still answers DATA with 354 gets the lone dot
// that ends empty data (RFC 2920 §3.1), and its reply to that is ignored:
// there was no recipient to deliver to.
func (p *Pool) openPipelined(c *conn, cmds []command) error {
	if err := p.write(c, c.cmds[:cmds[len(cmds)-1].end]); err != nil {
		return &smtpError{cmds[0].stage, err}
	}
	var refused error
	for _, cmd := range cmds {
		_, err := p.read(c, cmd.expect)
		switch {
		case c.broken:
			if refused != nil {
				return refused
			}
			return &smtpError{cmd.stage, err}
		case err != nil && refused == nil && stops(cmd, err):
			refused = &smtpError{cmd.stage, err}
		case err == nil && cmd.stage == stageData && refused != nil:
			if err := p.write(c, []byte(".\r\n")); err != nil {
				return refused
			}
			_, _ = p.read(c, 0)
		}
	}
	return refused
}

// stops says whether the reply error err to cmd ends the transaction: any
// refusal of MAIL FROM, RCPT TO or DATA, but of RSET only the relay closing
// the session; MAIL FROM's own reply tells whether the session is ready.
func stops(cmd command, err error) bool {
	var tpErr *textproto.Error
	return !cmd.reset || !errors.As(err, &tpErr) || tpErr.Code == 421
}

// write sends b in one write and flushes it, within the pool's Timeout. A
// failure leaves the session unusable.
func (p *Pool) write(c *conn, b []byte) error {
	err := c.sc.UpdateDeadline(p.cfg.Timeout)
	if err == nil {
		_, err = c.sc.Text.W.Write(b)
	}
	if err == nil {
		err = c.sc.Text.W.Flush()
	}
	if err != nil {
		c.broken = true
	}
	return err
}

// read reads one reply within the pool's Timeout; expect is as in
// textproto.Reader.ReadResponse. A reply with another code is a
// *textproto.Error, read whole: the session stays in step. Anything else
// (no reply, a timeout, a reply that does not parse) leaves the session
// unusable.
func (p *Pool) read(c *conn, expect int) (string, error) {
	if err := c.sc.UpdateDeadline(p.cfg.Timeout); err != nil {
		c.broken = true
		return "", err
	}
	_, msg, err := c.sc.Text.ReadResponse(expect)
	var tpErr *textproto.Error
	if err != nil && !errors.As(err, &tpErr) {
		c.broken = true
	}
	return msg, err
}
