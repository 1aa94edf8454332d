package delivery

import (
	"context"
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
	k := &checker{c: calls, every: time.Second, last: map[int64]time.Time{}}
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
		if got := k.due(s.campaign, t0.Add(s.at), s.urgent); got != s.want {
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
