package mailer

import (
	"errors"
	"net"
	"net/textproto"
	"time"
)

// transaction is one message on the wire.
type transaction struct {
	from, to string
	buf      *[]byte // from Pool.bufs: holds wire, and next's opening after it
	wire     []byte  // the message as DATA: dot-stuffed, with the final dot
	reply    string  // the relay's answer to the data
	start    time.Time
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

// A transaction is opened (begin: MAIL FROM, RCPT TO and DATA, answered
// 354), then finished (finish: the message and its final dot, answered by
// the relay's verdict). One message per transaction on a kept-open
// connection: a NOOP before and an RSET after each would add round trips. A
// dead connection shows at the first command instead, and the lane retries
// that (lane.go).
//
// A transaction that did not end with the relay's reply to its data leaves
// the session dirty, and the next one starts with RSET: pipelined with MAIL
// FROM when the relay offers PIPELINING, so that it costs no round trip of
// its own. The final dot ends a transaction whatever the reply to it (RFC
// 5321 §4.1.1.4 clears the buffers), so no RSET follows a refused message.
//
// With PIPELINING (RFC 2920) the opening commands go out in one write and
// their replies are read together. The message data may be the first
// "command" of a group (§3.1), so finish can write the opening of the next
// transaction behind the final dot, in the same write: one round trip per
// message once a lane has its next message ready. Every reply is still read
// and classified in turn, and a refused MAIL FROM or RCPT TO keeps the
// message off the wire. Without PIPELINING, each command waits for its reply.
//
// Every write and every read gets the pool's Timeout afresh.

// begin sends the commands that open t and reads their replies: nil when
// DATA was answered 354 and t's data may follow.
func (p *Pool) begin(c *conn, t *transaction) error {
	b, cmds := c.opening(c.cmds[:0], t)
	c.cmds = b
	if !c.pipelining {
		return p.openInTurn(c, cmds)
	}
	if err := p.write(c, b); err != nil {
		return &smtpError{cmds[0].stage, err}
	}
	return p.readOpening(c, cmds)
}

// finish writes t's data, final dot included, in one write, and reads the
// relay's reply to it. With next, the commands that open next go in the
// same write, behind the dot, and finish returns them for readOpening,
// whose replies follow the reply to t's data. A write goes out whole: a
// flush on an empty bufio.Writer, or a write straight through it when the
// message is larger than its buffer.
func (p *Pool) finish(c *conn, t *transaction, next *transaction) ([]command, error) {
	b := t.wire
	var cmds []command
	if next != nil {
		c.dirty = false // the dot ends t
		b, cmds = c.opening(b, next)
		*t.buf = b // keep the grown buffer
	}
	if err := p.write(c, b); err != nil {
		return nil, &smtpError{stageData, err}
	}
	// From here on, a failure may come after the relay took the message.
	reply, err := p.read(c, 250)
	if !c.broken {
		c.dirty = next != nil // a reply, whatever it says, ends t
	}
	if err != nil {
		return cmds, &smtpError{stageReply, err}
	}
	t.reply = reply
	return cmds, nil
}

// opening appends the commands that open t to b, with an RSET first when
// the session is dirty, and says where in b each ends. It marks the session
// dirty until the relay's reply to t's data.
func (c *conn) opening(b []byte, t *transaction) ([]byte, []command) {
	cmds := c.steps[:0]
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
	c.steps = cmds
	c.dirty = true
	return b, cmds
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

// readOpening reads a reply for each of the opening commands, written
// together. The first refusal is the transaction's result; the replies
// after it are read all the same, to keep the session in step. A relay that
// refuses a recipient and still answers DATA with 354 gets the lone dot
// that ends empty data (RFC 2920 §3.1), and its reply to that is ignored:
// there was no recipient to deliver to.
func (p *Pool) readOpening(c *conn, cmds []command) error {
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

// alive says whether the relay kept c open and silent while a message
// waited for its data: a read that finds nothing within a millisecond.
// Anything else (the end of the connection, a reply nobody asked for, most
// likely a 421 before closing) means the session is over.
func (p *Pool) alive(c *conn) bool {
	if c.sc.Text.R.Buffered() > 0 {
		return false
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return false
	}
	_, err := c.sc.Text.R.Peek(1)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
