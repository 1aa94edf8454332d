package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/ratelimit"
	"github.com/dearfriend/dearfriend/pkg/redisconn"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// Through a Sentinel failover (the master killed with SIGKILL, the replica
// promoted), the shared rate limit keeps the tokens taken before it, and
// the queue takes and hands out tasks again once the sentinels name the new
// master: the clients follow it on their own.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	set := testenv.Sentinel(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opt, rdb, err := redisconn.Open(set.URL(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	limiter := ratelimit.NewRedis(rdb, "failover:")
	// A burst of 10 and nothing back during the test.
	limit := ratelimit.Limit{Events: 1, Period: time.Hour, Burst: 10}
	take := func(n int) int {
		allowed := 0
		for range n {
			var ok bool
			err := retry(ctx, func() (err error) { ok, _, err = limiter.AllowN(ctx, "relay:r", limit, 1); return err })
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				allowed++
			}
		}
		return allowed
	}

	var mu sync.Mutex
	done := map[string]int{}
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:work", func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		done[string(task.Payload())]++
		return nil
	})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, Queues: map[string]int{"failover": 1},
		TaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	enqueue := func(name string) {
		t.Helper()
		err := retry(ctx, func() error {
			_, err := client.EnqueueContext(ctx, asynq.NewTask("test:work", []byte(name)), asynq.Queue("failover"), asynq.TaskID(name))
			if errors.Is(err, asynq.ErrTaskIDConflict) {
				return nil // taken by the try before, whose answer was lost
			}
			return err
		})
		if err != nil {
			t.Fatalf("enqueue %s: %v", name, err)
		}
	}
	processed := func(names ...string) error {
		return retry(ctx, func() error {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range names {
				if done[n] == 0 {
					return fmt.Errorf("task %s not processed", n)
				}
			}
			return nil
		})
	}

	if got := take(4); got != 4 {
		t.Fatalf("before the failover, %d of 4 allowed; want 4", got)
	}
	var before []string
	for i := range 5 {
		before = append(before, fmt.Sprintf("before-%d", i))
		enqueue(before[i])
	}
	if err := processed(before...); err != nil {
		t.Fatal(err)
	}
	if err := set.Replicated(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := set.KillMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Asked while the sentinels still agree the master is down: the calls
	// fail, then are answered by the new master.
	if got := take(10); got != 6 {
		t.Errorf("after the failover, %d of 10 allowed; want the 6 left of the burst of 10", got)
	}
	var after []string
	for i := range 5 {
		after = append(after, fmt.Sprintf("after-%d", i))
		enqueue(after[i])
	}
	if err := processed(after...); err != nil {
		t.Fatal(err)
	}
	now, err := set.WaitPromoted(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("master %s killed, %s promoted; the queue and the limiter answered again within %s", old, now, time.Since(start).Round(time.Millisecond))
}

// retry calls try until it succeeds or ctx ends, every 100 ms.
func retry(ctx context.Context, try func() error) error {
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
