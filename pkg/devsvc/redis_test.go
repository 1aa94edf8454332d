package devsvc_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

func mustStartRedis(tb testing.TB) *devsvc.Redis {
	tb.Helper()
	r, err := devsvc.StartRedis("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

func TestRedisKeyWithTTLExpires(t *testing.T) {
	t.Parallel()
	r := mustStartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()

	if err := rdb.Set(ctx, "lease", "worker-1", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "forever", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, "lease").Result(); err != nil || got != "worker-1" {
		t.Fatalf("before expiry: Get = %q, %v; want worker-1", got, err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		err := rdb.Get(ctx, "lease").Err()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("key with a 300ms TTL still there after 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := rdb.Get(ctx, "forever").Err(); err != nil {
		t.Errorf("key without TTL: %v", err)
	}
}

// TestRedisRunsAsynq runs asynq's server and client against the embedded
// Redis: an immediate task, a scheduled one, and one that fails once and is
// retried. All three rely on Redis time and TTLs.
func TestRedisRunsAsynq(t *testing.T) {
	t.Parallel()
	r := mustStartRedis(t)
	opt := asynq.RedisClientOpt{Addr: r.Addr()}

	var attempts atomic.Int32
	var laterRan atomic.Int64
	done := make(chan string, 3)
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:now", func(_ context.Context, task *asynq.Task) error {
		done <- "now"
		return nil
	})
	mux.HandleFunc("test:later", func(_ context.Context, task *asynq.Task) error {
		laterRan.Store(time.Now().UnixNano())
		done <- "later"
		return nil
	})
	mux.HandleFunc("test:flaky", func(_ context.Context, task *asynq.Task) error {
		if attempts.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		done <- "flaky"
		return nil
	})

	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:              2,
		LogLevel:                 asynq.FatalLevel,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		TaskCheckInterval:        100 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		ShutdownTimeout:          2 * time.Second,
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	enqueued := time.Now()
	for _, enq := range []struct {
		task *asynq.Task
		opts []asynq.Option
	}{
		{asynq.NewTask("test:now", nil), nil},
		{asynq.NewTask("test:later", nil), []asynq.Option{asynq.ProcessIn(1500 * time.Millisecond)}},
		{asynq.NewTask("test:flaky", nil), []asynq.Option{asynq.MaxRetry(3)}},
	} {
		if _, err := client.Enqueue(enq.task, enq.opts...); err != nil {
			t.Fatalf("enqueue %s: %v", enq.task.Type(), err)
		}
	}

	seen := map[string]bool{}
	timeout := time.After(15 * time.Second)
	for len(seen) < 3 {
		select {
		case name := <-done:
			seen[name] = true
		case <-timeout:
			t.Fatalf("processed %v; want now, later and flaky", seen)
		}
	}
	if got := attempts.Load(); got != 2 {
		t.Errorf("flaky task ran %d times; want 2", got)
	}
	// asynq schedules in whole seconds, so 1.5s ahead means at least 0.5s.
	if ran := time.Unix(0, laterRan.Load()); ran.Sub(enqueued) < 500*time.Millisecond {
		t.Errorf("task scheduled 1.5s ahead ran after %v", ran.Sub(enqueued))
	}
}
