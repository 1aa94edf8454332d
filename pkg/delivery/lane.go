package delivery

import (
	"context"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// A batch hands its messages to a lane (mailer.Lane): the relay is given a
// message's commands as soon as it is merged, but its data only when the
// next message is handed over (or the lane is flushed), in the same write as
// the next message's commands. With a relay that pipelines, a message then
// costs one round trip instead of two, with one sender per connection.
//
// The two-back rule is about the data: the batch waits for the outcome two
// messages back to be durable (sender.settle) before each handing over and
// before each flush, which are the only moments data is written, the data
// of one message at most each time (mailer.Lane). The next
// message's commands alone deliver nothing, so a sender still has at most
// two messages the relay may have taken whose outcome is not durable: the
// one whose data is on the wire and the one before it.

// lane takes one sender's messages in turn and returns their results in
// the same order (mailer.Lane).
type lane interface {
	Send(ctx context.Context, m *mailer.Message) []mailer.Result
	Flush(ctx context.Context) []mailer.Result
}

// laneSender is a Sender that offers lanes.
type laneSender interface {
	Lane() *mailer.Lane
}

var (
	_ laneSender = (*mailer.Pool)(nil)
	_ laneSender = (*mailer.Relays)(nil)
)

// oneByOne is the lane of a Sender that offers none: each message is sent
// whole within Send.
type oneByOne struct {
	s   Sender
	res [1]mailer.Result
}

func (o *oneByOne) Send(ctx context.Context, m *mailer.Message) []mailer.Result {
	o.res[0] = o.s.Send(ctx, m)
	return o.res[:]
}

func (*oneByOne) Flush(context.Context) []mailer.Result { return nil }

func (w *Worker) lane() lane {
	if ls, ok := w.sender.(laneSender); ok {
		return ls.Lane()
	}
	return &oneByOne{s: w.sender}
}

// batchSend is a batch's messages on their way: handed to its lane, and
// their results handed to the committer.
type batchSend struct {
	w    *Worker
	out  *sender
	camp *store.Campaign
	lane lane
	// flights are the rows handed to the lane whose results have not come
	// back, oldest first (at most one stays between two calls).
	flights  []flight
	deferred int  // rows deferred
	urgent   bool // a refusal: the outcome check runs at once (check.go)
}

type flight struct {
	r    store.Recipient
	stop func() // ends the keeping of its lease
}

// send merges r's message and hands it to the lane. The row's lease is
// kept from then until its outcome is durable, however long either takes.
func (b *batchSend) send(ctx context.Context, c *render.Compiled, r store.Recipient) {
	f := flight{r: r, stop: b.w.keep(r.SendID)}
	out, err := c.Merge(render.Recipient{SendID: r.SendID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName}, b.w.links)
	if err != nil {
		b.record(ctx, f, store.SendFailed, "render: "+err.Error(), "")
		return
	}
	b.flights = append(b.flights, f)
	b.results(ctx, b.lane.Send(ctx, b.w.message(b.camp, c, r, out)))
}

// flush sends the message open in the lane, once the two-back rule allows
// it; if the outcomes before it are given up, it is dropped unsent.
func (b *batchSend) flush(ctx context.Context) {
	if len(b.flights) == 0 {
		return
	}
	if err := b.out.settle(maxUndurable); err != nil {
		cctx, cancel := context.WithCancelCause(ctx)
		cancel(err)
		ctx = cctx
	}
	b.results(ctx, b.lane.Flush(ctx))
}

func (b *batchSend) results(ctx context.Context, results []mailer.Result) {
	for _, res := range results {
		f := b.flights[0]
		b.flights = append(b.flights[:0], b.flights[1:]...)
		b.record(ctx, f, ledgerStatus(ctx, res), res.Line(), res.Relay)
	}
}

// record hands the relay's answer for a row to the committer, counting
// deferrals and refusals for good (bounced or blocked).
func (b *batchSend) record(ctx context.Context, f flight, status, reply, relay string) {
	w, r := b.w, f.r
	o := store.Outcome{SendID: r.SendID, Status: status, Reply: reply, Attempt: true}
	switch status {
	case store.SendBlocked, store.SendSent, store.SendBounced:
		// The relay that answered: a block reported later is counted against it.
		o.Relay = relay
		b.urgent = b.urgent || status != store.SendSent
	case sendThrottled, sendUntried: // deferred without using up an attempt (pacing.go)
		o.Status, o.Reply = w.retry(r, status, reply)
		switch o.Status {
		case store.SendFailed:
		case sendThrottled:
			b.deferred++
			o.Status, o.Attempt, o.Throttled = store.SendDeferred, false, true
		default:
			b.deferred++
			o.Status, o.Attempt = store.SendDeferred, false
		}
	case store.SendDeferred:
		o.Status, o.Reply = w.retry(r, status, reply)
		if o.Status != store.SendFailed {
			b.deferred++
		}
	}
	// The relay has answered: its answer is recorded even when the task
	// is being stopped, or the row would be sent again.
	ctx = context.WithoutCancel(ctx)
	b.out.hand(o, func(err error) {
		f.stop()
		if err == nil {
			w.recorded(ctx, b.camp, r, o)
		}
	})
}
