package track

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// EventWriter is what the recorder needs of the database.
type EventWriter interface {
	SendRefs(ctx context.Context, ids []int64) (map[int64]store.SendRef, error)
	InsertEvents(ctx context.Context, es []store.Event) error
}

var _ EventWriter = (*store.Store)(nil)

// RecorderOptions tune the recorder; zero values take the defaults.
type RecorderOptions struct {
	// Capacity bounds the events held in memory (default 100,000: at 10,000
	// opens a second, ten seconds of database outage).
	Capacity int
	// BatchSize is the most events written by one statement (default 1,000).
	BatchSize int
	// FlushEvery is the longest an event waits before its batch is written (default 100 ms).
	FlushEvery time.Duration
	// BlockFor is how long Record waits for room when the buffer is full
	// before it drops the event and counts it (default 50 ms).
	BlockFor time.Duration
	// Writers is how many batches are written at once (default 2).
	Writers int
	// ScannerWindow: a click this soon after delivery is a link scanner's (default 10 s).
	ScannerWindow time.Duration
}

func (o *RecorderOptions) defaults() {
	if o.Capacity <= 0 {
		o.Capacity = 100_000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 100 * time.Millisecond
	}
	if o.BlockFor <= 0 {
		o.BlockFor = 50 * time.Millisecond
	}
	if o.Writers <= 0 {
		o.Writers = 2
	}
	if o.ScannerWindow <= 0 {
		o.ScannerWindow = 10 * time.Second
	}
}

// RecorderStats counts what became of the events recorded.
type RecorderStats struct {
	Accepted int64 // taken into the buffer
	Written  int64 // in the database
	Dropped  int64 // refused because the buffer stayed full
	Orphaned int64 // naming no send, or a link of another campaign: not written
}

// Recorder buffers events in memory and writes them in batches, so a
// recipient's request never waits on the database. A failed write is retried
// with backoff until it succeeds or Close gives up; the buffer is bounded, and
// when it stays full Record drops the event and counts it: losing an open is
// better than holding up every recipient's mail client.
type Recorder struct {
	w   EventWriter
	opt RecorderOptions
	log *slog.Logger

	mu     sync.RWMutex // guards closed against Record sending on a closed channel
	closed bool
	ch     chan store.Event

	batches chan []store.Event // from the collector to the writers

	ctx     context.Context // cancelled when Close runs out of time
	abort   context.CancelFunc
	stopped chan struct{}

	accepted, written, dropped, orphaned atomic.Int64
}

// NewRecorder starts a recorder writing to w.
func NewRecorder(w EventWriter, opt RecorderOptions, log *slog.Logger) *Recorder {
	opt.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{w: w, opt: opt, log: log, ch: make(chan store.Event, opt.Capacity),
		batches: make(chan []store.Event), ctx: ctx, abort: cancel, stopped: make(chan struct{})}
	var writers sync.WaitGroup
	for range opt.Writers {
		writers.Go(func() {
			for b := range r.batches {
				r.flush(b)
			}
		})
	}
	go func() {
		r.collect()
		close(r.batches)
		writers.Wait()
		close(r.stopped)
	}()
	return r
}

// Record queues e; it reports false when e was dropped (buffer full or closed).
func (r *Recorder) Record(e store.Event) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Add(1)
		return false
	}
	select {
	case r.ch <- e:
		r.accepted.Add(1)
		return true
	default:
	}
	t := time.NewTimer(r.opt.BlockFor)
	defer t.Stop()
	select {
	case r.ch <- e:
		r.accepted.Add(1)
		return true
	case <-t.C:
		r.dropped.Add(1)
		return false
	}
}

// Stats returns the counters so far.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Accepted: r.accepted.Load(), Written: r.written.Load(), Dropped: r.dropped.Load(), Orphaned: r.orphaned.Load()}
}

// Close stops accepting events and writes every buffered one, retrying while
// the database fails, until ctx ends; what is still unwritten then is lost and
// reported in the error.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
	r.mu.Unlock()
	select {
	case <-r.stopped:
	case <-ctx.Done():
		r.abort()
		<-r.stopped
	}
	r.abort()
	st := r.Stats()
	if lost := st.Accepted - st.Written - st.Orphaned; lost > 0 {
		return fmt.Errorf("%d tracking events not written before shutdown ended", lost)
	}
	return nil
}

// collect gathers events into batches for the writers until the buffer is closed and empty.
func (r *Recorder) collect() {
	batch := make([]store.Event, 0, r.opt.BatchSize)
	tick := time.NewTicker(r.opt.FlushEvery)
	defer tick.Stop()
	var loggedDrops int64
	for {
		select {
		case e, ok := <-r.ch:
			if !ok {
				if len(batch) > 0 {
					r.batches <- batch
				}
				return
			}
			batch = append(batch, e)
			if len(batch) < r.opt.BatchSize {
				continue
			}
		case <-tick.C:
			if d := r.dropped.Load(); d > loggedDrops {
				r.log.Warn("tracking events dropped: buffer full", "dropped", d-loggedDrops, "capacity", r.opt.Capacity)
				loggedDrops = d
			}
			if len(batch) == 0 {
				continue
			}
		}
		r.batches <- batch // waits while every writer is busy: the buffer takes the backlog
		batch = make([]store.Event, 0, r.opt.BatchSize)
	}
}

// flush writes a batch, retrying with backoff until it is written or the recorder is aborted.
func (r *Recorder) flush(batch []store.Event) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.write(batch)
		if err == nil {
			if attempt > 1 {
				r.log.Info("tracking events written after retrying", "events", len(batch), "attempts", attempt)
			}
			return
		}
		if r.ctx.Err() != nil {
			r.log.Error("tracking events lost: shutdown ended before the database came back", "events", len(batch), "err", err)
			return
		}
		if attempt == 1 || attempt%20 == 0 {
			r.log.Warn("write tracking events; retrying", "events", len(batch), "attempt", attempt, "err", err)
		}
		select {
		case <-time.After(backoff):
		case <-r.ctx.Done():
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// write completes the events from their sends (campaign, contact, scanner
// window) and inserts them in one statement.
func (r *Recorder) write(batch []store.Event) error {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	ids := make([]int64, len(batch))
	for i, e := range batch {
		ids[i] = e.SendID
	}
	refs, err := r.w.SendRefs(ctx, ids)
	if err != nil {
		return err
	}
	out := make([]store.Event, 0, len(batch))
	for _, e := range batch {
		ref, ok := refs[e.SendID]
		if !ok || (e.CampaignID != 0 && e.CampaignID != ref.CampaignID) {
			continue
		}
		e.CampaignID, e.ContactID = ref.CampaignID, ref.ContactID
		if e.Kind == store.EventClick && ref.SentAt != nil && e.CreatedAt.Sub(*ref.SentAt) < r.opt.ScannerWindow {
			e.Machine = true
		}
		out = append(out, e)
	}
	if err := r.w.InsertEvents(ctx, out); err != nil {
		return err
	}
	r.written.Add(int64(len(out)))
	r.orphaned.Add(int64(len(batch) - len(out)))
	return nil
}
