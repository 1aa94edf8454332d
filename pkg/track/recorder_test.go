package track

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// flakyWriter is the real store, made to fail while down is set: a database
// outage without stopping the database other tests share.
type flakyWriter struct {
	*store.Store
	down    atomic.Bool
	failed  atomic.Int64
	mu      sync.Mutex
	batches []int
}

var errDown = errors.New("connection refused (injected)")

func (w *flakyWriter) SendRefs(ctx context.Context, ids []int64) (map[int64]store.SendRef, error) {
	if w.down.Load() {
		w.failed.Add(1)
		return nil, errDown
	}
	return w.Store.SendRefs(ctx, ids)
}

func (w *flakyWriter) InsertEvents(ctx context.Context, es []store.Event) error {
	if w.down.Load() {
		w.failed.Add(1)
		return errDown
	}
	w.mu.Lock()
	w.batches = append(w.batches, len(es))
	w.mu.Unlock()
	return w.Store.InsertEvents(ctx, es)
}

func opens(sendID int64, n int) []store.Event {
	es := make([]store.Event, n)
	for i := range es {
		es[i] = store.Event{Kind: store.EventOpen, SendID: sendID, CreatedAt: time.Now().UTC()}
	}
	return es
}

func mustCount(t *testing.T, st *store.Store, campaignID int64) int64 {
	t.Helper()
	n, err := st.CountEvents(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecorderBatches: events are written in batches of BatchSize, and Close writes the rest.
func TestRecorderBatches(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := mustStore(t, dsn)
		camp, _, _, sends := mustCampaign(t, st, 1, "x")
		w := &flakyWriter{Store: st}
		rec := NewRecorder(w, RecorderOptions{BatchSize: 1000, FlushEvery: time.Hour}, quietLog())
		for _, e := range opens(sends[0], 2500) {
			if !rec.Record(e) {
				t.Fatal("event refused")
			}
		}
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		slices.Sort(w.batches) // writers run side by side
		if diff := cmp.Diff([]int{500, 1000, 1000}, w.batches); diff != "" {
			t.Errorf("batch sizes (-want +got):\n%s", diff)
		}
		if got := mustCount(t, st, camp.ID); got != 2500 {
			t.Errorf("events in the database = %d, want 2500", got)
		}
	})
}

// TestRecorderSurvivesOutage: events recorded while the database is down are
// written once it is back, none lost, none doubled.
func TestRecorderSurvivesOutage(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := mustStore(t, dsn)
		camp, _, _, sends := mustCampaign(t, st, 1, "x")
		w := &flakyWriter{Store: st}
		w.down.Store(true)
		rec := NewRecorder(w, RecorderOptions{BatchSize: 100, FlushEvery: 5 * time.Millisecond}, quietLog())
		for _, e := range opens(sends[0], 3000) {
			if !rec.Record(e) {
				t.Fatal("event refused during the outage")
			}
		}
		for w.failed.Load() < 3 { // the outage is seen and retried
			time.Sleep(5 * time.Millisecond)
		}
		w.down.Store(false)
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		st2 := rec.Stats()
		if got := mustCount(t, st, camp.ID); got != 3000 || st2.Written != 3000 || st2.Dropped != 0 {
			t.Errorf("after the outage: %d events in the database, stats %+v; want 3000 written, none dropped", got, st2)
		}
	})
}

// TestRecorderBounded: with the database down and the buffer full, Record
// gives up after BlockFor and counts the drop; Close says what was lost.
func TestRecorderBounded(t *testing.T) {
	st := mustStore(t, testenv.SQLite(t))
	_, _, _, sends := mustCampaign(t, st, 1, "x")
	w := &flakyWriter{Store: st}
	w.down.Store(true)
	rec := NewRecorder(w, RecorderOptions{Capacity: 10, BatchSize: 5, BlockFor: time.Millisecond}, quietLog())
	refused := 0
	for _, e := range opens(sends[0], 50) {
		if !rec.Record(e) {
			refused++
		}
	}
	got := rec.Stats()
	if refused == 0 || got.Dropped != int64(refused) || got.Accepted+got.Dropped != 50 {
		t.Errorf("refused %d, stats %+v; want some refused, each counted", refused, got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := rec.Close(ctx); err == nil {
		t.Error("Close with the database still down reported no loss")
	}
	if rec.Record(opens(sends[0], 1)[0]) {
		t.Error("a closed recorder accepted an event")
	}
}
