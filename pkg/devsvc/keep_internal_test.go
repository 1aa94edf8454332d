package devsvc

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestKeeperGroupsWaiting holds the first write open while five more
// messages arrive: they go together in the second call, each sender is
// answered with its call's outcome, and a stopped keeper refuses at once.
func TestKeeperGroupsWaiting(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	var calls [][]string
	k := startKeeper(func(ctx context.Context, msgs []Message) error {
		var subjects []string
		for _, m := range msgs {
			subjects = append(subjects, m.Subject)
		}
		calls = append(calls, subjects)
		if len(calls) == 1 {
			close(entered)
			<-release
			return nil
		}
		return errors.New("disk full")
	}, 4)
	results := make(chan error, 6)
	go func() { results <- k.keep(Message{Subject: "first"}) }()
	<-entered
	for i := range 5 {
		go func() { results <- k.keep(Message{Subject: fmt.Sprint(i)}) }()
	}
	// Four wait in the queue, the fifth for room in it.
	for deadline := time.Now().Add(10 * time.Second); len(k.queue) < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages waiting, want 4", len(k.queue))
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	var ok, failed int
	for range 6 {
		if err := <-results; err == nil {
			ok++
		} else {
			failed++
		}
	}
	k.stop()
	if ok != 1 || failed != 5 {
		t.Errorf("%d kept and %d refused, want 1 and 5", ok, failed)
	}
	sizes := make([]int, len(calls))
	for i, c := range calls {
		sizes[i] = len(c)
	}
	if d := cmp.Diff([]int{1, 4, 1}, sizes); d != "" {
		t.Errorf("messages per call (-want +got):\n%s", d)
	}
	if err := k.keep(Message{Subject: "late"}); !errors.Is(err, errCaptureClosed) {
		t.Errorf("keep after stop: %v, want errCaptureClosed", err)
	}
}
