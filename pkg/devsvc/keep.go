package devsvc

import (
	"context"
	"errors"
)

// errCaptureClosed answers the messages still waiting when the capture closes.
var errCaptureClosed = errors.New("devsvc: capture closed")

// keeper hands accepted messages to CaptureOptions.Keep, one call at a time:
// the messages that arrive while a call runs wait and go together in the
// next (group commit), so concurrent connections share one write.
type keeper struct {
	fn     func(context.Context, []Message) error
	batch  int
	queue  chan keepRequest
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type keepRequest struct {
	msg  Message
	kept chan error
}

func startKeeper(fn func(context.Context, []Message) error, batch int) *keeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &keeper{fn: fn, batch: batch, queue: make(chan keepRequest, batch), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go k.run()
	return k
}

// keep waits until m is kept, or could not be.
func (k *keeper) keep(m Message) error {
	req := keepRequest{msg: m, kept: make(chan error, 1)}
	select {
	case k.queue <- req:
	case <-k.ctx.Done():
		return errCaptureClosed
	}
	select {
	case err := <-req.kept:
		return err
	case <-k.done: // stopped, perhaps before it took req
		select {
		case err := <-req.kept:
			return err
		default:
			return errCaptureClosed
		}
	}
}

func (k *keeper) run() {
	defer close(k.done)
	reqs := make([]keepRequest, 0, k.batch)
	msgs := make([]Message, 0, k.batch)
	for {
		select {
		case req := <-k.queue:
			reqs = append(reqs[:0], req)
		case <-k.ctx.Done():
			k.drain()
			return
		}
	gather:
		for len(reqs) < k.batch {
			select {
			case req := <-k.queue:
				reqs = append(reqs, req)
			default:
				break gather
			}
		}
		msgs = msgs[:0]
		for _, r := range reqs {
			msgs = append(msgs, r.msg)
		}
		err := k.fn(k.ctx, msgs)
		for _, r := range reqs {
			r.kept <- err
		}
	}
}

// drain refuses what is still queued once the keeper stops.
func (k *keeper) drain() {
	for {
		select {
		case req := <-k.queue:
			req.kept <- errCaptureClosed
		default:
			return
		}
	}
}

// stop ends the keeper after the call under way; the server must be closed
// first, so that no new message waits.
func (k *keeper) stop() {
	k.cancel()
	<-k.done
}
