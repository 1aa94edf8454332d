package delivery

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// countingCheck counts the checks it is asked for, per campaign.
type countingCheck map[int64]int

func (c countingCheck) Check(_ context.Context, id int64) (bool, error) {
	c[id]++
	return false, nil
}

// TestOutcomeCheckPacing: a campaign's check runs after its first batch, then
// not again within the interval unless a batch had a refusal, and again once
// the interval has passed; campaigns are paced apart.
func TestOutcomeCheckPacing(t *testing.T) {
	calls := countingCheck{}
	k := newChecker(calls, time.Second)
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		campaign int64
		at       time.Duration
		urgent   bool
		want     bool
	}{
		{1, 0, false, true},                        // first batch
		{1, 300 * time.Millisecond, false, false},  // clean, within the interval
		{2, 400 * time.Millisecond, false, true},   // another campaign
		{1, 500 * time.Millisecond, true, true},    // a refusal: at once
		{1, 1400 * time.Millisecond, false, false}, // within the interval of the last
		{1, 1500 * time.Millisecond, false, true},  // the interval has passed
	}
	for i, s := range steps {
		if got, _ := k.due(s.campaign, t0.Add(s.at), s.urgent); got != s.want {
			t.Errorf("step %d (campaign %d at %v, urgent %v): due = %v, want %v", i, s.campaign, s.at, s.urgent, got, s.want)
		}
	}
	w := &Worker{check: k, log: nil}
	w.checkOutcomes(context.Background(), 3, false)
	w.checkOutcomes(context.Background(), 3, false)
	if calls[3] != 1 {
		t.Errorf("two clean batches at once ran the check %d times, want 1", calls[3])
	}
}

// TestOutcomeCheckPacedByCost: a check that took 100 ms is not run again
// within 20 × 100 ms, even after a batch with a refusal; a cheap one runs
// after every such batch.
func TestOutcomeCheckPacedByCost(t *testing.T) {
	k := newChecker(countingCheck{}, time.Second)
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	if run, _ := k.due(1, t0, false); !run {
		t.Fatal("first check of campaign 1 not due")
	}
	if run, _ := k.due(2, t0, false); !run {
		t.Fatal("first check of campaign 2 not due")
	}
	k.took(1, 100*time.Millisecond) // a campaign of a million rows
	k.took(2, time.Millisecond)
	steps := []struct {
		campaign int64
		at       time.Duration
		urgent   bool
		want     bool
	}{
		{2, 50 * time.Millisecond, true, true},    // cheap: a refusal checks at once
		{1, 50 * time.Millisecond, true, false},   // costly: within 20 × its cost
		{1, 1500 * time.Millisecond, true, false}, // still within 2 s
		{1, 1999 * time.Millisecond, false, false},
		{1, 2 * time.Second, true, true}, // 20 × 100 ms have passed
	}
	for i, s := range steps {
		if got, _ := k.due(s.campaign, t0.Add(s.at), s.urgent); got != s.want {
			t.Errorf("step %d (campaign %d at %v, urgent %v): due = %v, want %v", i, s.campaign, s.at, s.urgent, got, s.want)
		}
	}
	k.took(1, 100*time.Millisecond)
	if _, wait := k.due(1, t0.Add(2100*time.Millisecond), true); wait != 1900*time.Millisecond {
		t.Errorf("a refusal 100 ms after a 100 ms check: owed in %v, want 1.9s", wait)
	}
	if _, wait := k.due(1, t0.Add(2200*time.Millisecond), true); wait != 0 {
		t.Errorf("a second refusal while one check is owed: another owed in %v, want none", wait)
	}
	// The check running when the refusal came took longer than the one
	// before: when the owed check's turn comes it is owed again, not lost.
	k.took(1, 200*time.Millisecond)
	k.forgive(1)
	if run, wait := k.due(1, t0.Add(4*time.Second), true); run || wait != 2*time.Second {
		t.Errorf("an owed check still held back by a longer one: run %v, owed in %v; want owed in 2s", run, wait)
	}
}

// TestOutcomeCheckOwedRuns: a refusal held back by the check's cost after
// the campaign's last batch is checked all the same, once its turn comes.
func TestOutcomeCheckOwedRuns(t *testing.T) {
	calls := make(chan int64, 4)
	w := &Worker{check: newChecker(chanCheck(calls), time.Second), log: slog.New(slog.DiscardHandler)}
	w.life, w.stop = context.WithCancel(context.Background())
	defer w.stop()
	w.checkOutcomes(context.Background(), 7, true)
	<-calls
	w.check.took(7, 5*time.Millisecond) // paced 100 ms
	w.checkOutcomes(context.Background(), 7, true)
	select {
	case id := <-calls:
		if id != 7 {
			t.Fatalf("checked campaign %d, want 7", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refusal's check never ran")
	}
}

// chanCheck reports each check on a channel.
type chanCheck chan int64

func (c chanCheck) Check(_ context.Context, id int64) (bool, error) {
	c <- id
	return false, nil
}
