package mailer

import (
	"context"
	"errors"
	"time"
)

// Lane sends one sender's messages in turn, each handed over before the
// relay has answered the one before it, so that a relay that offers
// PIPELINING gets one round trip per message: the data of a message, its
// final dot and the MAIL FROM, RCPT TO and DATA of the next go out in one
// write (RFC 2920 §3.1), and the replies to all of them are read together.
//
// Send opens a message: its commands go out and DATA is answered 354, but
// its data waits on the connection, the lane holding it, until the next Send
// (or Flush) writes it with the next message's commands behind it. A
// message's data is thus written only within a later call of its sender:
// whatever the sender waits for before that call (an earlier outcome made
// durable) holds before the relay can take the message.
//
// Results come back in the order the messages were handed over, each the
// relay's answer to that message alone: the reply to its final dot, or the
// refusal of its own MAIL FROM, RCPT TO or DATA. A connection lost after a
// message's commands but before its data leaves that message untaken; it is
// opened again on a fresh connection, which cannot duplicate it. A connection
// lost after the data is Unknown, as with Send. Without PIPELINING the
// conversation is Pool.Send's, one command at a time, four round trips a
// message: the open message's data goes alone, then the next message's
// commands each wait for a reply.
//
// Each call writes the data of one message at most, the one handed over
// before: a sender that waits for something before each call has it before
// the relay may take the next message, whatever happens on the wire (a
// connection opened again, another relay, a relay that does not pipeline).
//
// A lane holds a connection (and, through Relays, a slot of its relay) while
// a message is open; it gives both back, sending the open message alone,
// when another sender waits for a connection, when the next message goes
// to another relay or one with a rate limit, and at Flush. A Lane is not
// safe for concurrent use; a sender calls Flush when it has nothing more
// to send for a while.
type Lane struct {
	rs  *Relays // nil: a lane of one pool
	r   *relay  // with rs: the relay of the open message, whose slot the lane holds
	pl  poolLane
	out []Result
}

// Lane returns a lane on the pool.
func (p *Pool) Lane() *Lane { return &Lane{pl: poolLane{p: p}} }

// Send hands m to the lane and returns the results of the lane's messages
// that ended meanwhile, oldest first: usually the one handed over before m,
// and m itself when the relay refused its commands.
// The slice is the lane's, valid until the next call. Cancelling ctx aborts
// the conversation in progress; a message still open when ctx has ended is
// Deferred, never written.
func (l *Lane) Send(ctx context.Context, m *Message) []Result {
	l.out = l.out[:0]
	if l.rs == nil {
		l.pl.send(ctx, m, time.Time{})
		return l.collect(nil)
	}
	r := l.rs.pick(nil)
	if l.r != nil && (l.r != r || l.mustYield()) {
		l.flushRelay(ctx)
	}
	l.sendVia(ctx, r, m, true)
	return l.out
}

// Flush sends the open message, if any, and returns its result (nil when
// none was open); the lane gives its connection back.
func (l *Lane) Flush(ctx context.Context) []Result {
	l.out = l.out[:0]
	if l.rs == nil {
		l.pl.flush(ctx)
		return l.collect(nil)
	}
	l.flushRelay(ctx)
	return l.out
}

// collect moves the pool lane's ended messages to l.out, telling the
// relay set of each when the lane is on one.
func (l *Lane) collect(r *relay) []Result {
	for _, e := range l.pl.ended {
		if r != nil {
			l.rs.observe(r, &e)
		}
		l.out = append(l.out, e.res)
	}
	l.pl.ended = l.pl.ended[:0]
	return l.out
}

// ended is a message whose result is known.
type ended struct {
	res Result
	// unsent: no connection could be opened, so the message never reached
	// the relay: another relay may take it without any risk of a duplicate.
	unsent bool
	start  time.Time // when it was handed over
}

// poolLane is a lane's conversation with one pool.
type poolLane struct {
	p     *Pool
	c     *conn        // held while open is not nil
	open  *transaction // its DATA was answered 354; its data is not written yet
	since time.Time    // when open was opened
	ended []ended
}

// staleAfter is how long an open message may wait for its sender's next
// call before the lane checks that the relay did not drop the connection
// meanwhile: its data written then would be lost without a reply, and the
// message taken for Unknown when it was never sent.
const staleAfter = time.Second

func (l *poolLane) end(t *transaction, res Result, unsent bool) {
	l.ended = append(l.ended, ended{res: res, unsent: unsent, start: t.start})
	if t.buf != nil {
		l.p.putBuf(t.buf)
		t.buf = nil
	}
}

// send opens m behind the open message, or alone.
func (l *poolLane) send(ctx context.Context, m *Message, start time.Time) {
	t, res, ok := l.p.build(m, start)
	if !ok {
		l.flush(ctx)
		l.end(t, res, false)
		return
	}
	l.revive(ctx)
	if l.open != nil && !l.mayPass() {
		l.flush(ctx)
	}
	if l.open != nil {
		l.pass(ctx, t)
		return
	}
	l.start(ctx, t)
}

// mayPass says whether the next message may be opened behind the open one
// on its connection: the relay pipelines, nobody waits for a connection,
// the pool is open, and the open message is not the connection's last.
func (l *poolLane) mayPass() bool {
	p := l.p
	if !l.c.pipelining || p.waiting.Load() > 0 || l.c.sent+1 >= p.cfg.MessagesPerConn {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

// start opens t on a connection of its own: an idle one or a new one.
func (l *poolLane) start(ctx context.Context, t *transaction) {
	for try := 0; ; try++ {
		c, err := l.p.acquire(ctx)
		if err != nil {
			res := Classify(err)
			res.Status = StatusDeferred
			l.end(t, res, ctx.Err() == nil)
			return
		}
		stop := context.AfterFunc(ctx, c.nc.abort)
		err = l.p.begin(c, t)
		aborted := !stop()
		if err == nil {
			if !aborted {
				l.hold(c, t)
				return
			}
			err = &smtpError{stageData, context.Cause(ctx)} // opened, never written
		}
		res, closing, retry := l.p.verdict(ctx, c, t, err, aborted)
		l.p.done(c, closing, err)
		if retry && try == 0 {
			continue
		}
		l.end(t, res, false)
		return
	}
}

// pass writes the open message's data with t's commands behind it, reads
// the reply to the data, the open message's result, then the replies that
// open t. The connection stays with t when they all say go ahead.
func (l *poolLane) pass(ctx context.Context, t *transaction) {
	c, prev := l.c, l.open
	l.c, l.open = nil, nil
	if ctx.Err() != nil {
		l.abandon(ctx, c, prev)
		l.end(t, Result{Status: StatusDeferred, Reply: context.Cause(ctx).Error()}, false)
		return
	}
	stop := context.AfterFunc(ctx, c.nc.abort)
	cmds, err := l.p.finish(c, prev, t)
	var opened error // the replies to t's commands follow, unless the relay is gone or going
	if !c.broken && (err == nil || Classify(err).Code != 421) {
		opened = l.p.readOpening(c, cmds)
	}
	aborted := !stop()
	res, closing, _ := l.p.verdict(ctx, c, prev, err, aborted)
	l.end(prev, res, false)
	if closing || c.broken {
		// t's commands may have gone out, its data did not: nothing of t
		// was taken, and a fresh connection may open it.
		l.p.done(c, true, err)
		if aborted {
			l.end(t, Result{Status: StatusDeferred, Reply: context.Cause(ctx).Error()}, false)
			return
		}
		l.start(ctx, t)
		return
	}
	if opened == nil {
		l.hold(c, t)
		return
	}
	// t's commands were refused: that is t's result, not prev's.
	res, closing, _ = l.p.verdict(ctx, c, t, opened, false)
	l.p.done(c, closing, opened)
	l.end(t, res, false)
}

func (l *poolLane) hold(c *conn, t *transaction) {
	l.c, l.open, l.since = c, t, l.p.now()
}

// revive opens the open message again on a fresh connection when it waited
// so long that the relay may have dropped its connection meanwhile, and it
// did: its data was never written, so nothing of it was taken.
func (l *poolLane) revive(ctx context.Context) {
	if l.open == nil || l.p.now().Sub(l.since) < staleAfter || l.p.alive(l.c) {
		return
	}
	c, t := l.c, l.open
	l.c, l.open = nil, nil
	l.p.discard(c, errors.New("dropped by the relay while a message waited for its data"))
	l.start(ctx, t)
}

// flush writes the open message's data alone and reads the reply to it.
func (l *poolLane) flush(ctx context.Context) {
	l.revive(ctx)
	if l.open == nil {
		return
	}
	c, t := l.c, l.open
	l.c, l.open = nil, nil
	if ctx.Err() != nil {
		l.abandon(ctx, c, t)
		return
	}
	stop := context.AfterFunc(ctx, c.nc.abort)
	_, err := l.p.finish(c, t, nil)
	aborted := !stop()
	res, closing, _ := l.p.verdict(ctx, c, t, err, aborted)
	l.p.done(c, closing, err)
	l.end(t, res, false)
}

// abandon drops the connection of an open message whose sender's context
// ended before its data was written: the relay waits for data that will not
// come, and the message was not sent.
func (l *poolLane) abandon(ctx context.Context, c *conn, t *transaction) {
	cause := context.Cause(ctx)
	l.p.discard(c, cause)
	l.end(t, Result{Status: StatusDeferred, Reply: cause.Error()}, false)
}
