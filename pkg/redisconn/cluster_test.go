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

// On a Redis Cluster of three masters, the rate limits of keys in different
// slots hold each, and the queue takes and hands out tasks: every command
// and script touches one key, or keys of one hash tag. Then the slots of a
// limit and of the queue move to another master: the limit keeps its
// spent burst, and the queue goes on.
func TestCluster(t *testing.T) {
	t.Parallel()
	url, nodes := testenv.Cluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opt, rdb, err := redisconn.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	limiter := ratelimit.NewRedis(rdb, "cluster:")
	limit := ratelimit.Limit{Events: 1, Period: time.Hour, Burst: 3}
	for _, key := range []string{"relay:a", "relay:b", "relay:c", "campaign:1"} {
		allowed := 0
		for range 5 {
			ok, _, err := limiter.AllowN(ctx, key, limit, 1)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if ok {
				allowed++
			}
		}
		if allowed != 3 {
			t.Errorf("%s: %d of 5 allowed; want the burst, 3", key, allowed)
		}
	}

	var mu sync.Mutex
	done := map[string]bool{}
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:work", func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		done[string(task.Payload())] = true
		return nil
	})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, Queues: map[string]int{"cluster": 1},
		TaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	enqueue := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			name := fmt.Sprintf("task-%d", i)
			err := retry(ctx, func() error {
				_, err := client.EnqueueContext(ctx, asynq.NewTask("test:work", []byte(name)), asynq.Queue("cluster"), asynq.TaskID(name))
				if errors.Is(err, asynq.ErrTaskIDConflict) {
					return nil
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := retry(ctx, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(done) != to {
				return fmt.Errorf("%d of %d tasks processed", len(done), to)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	enqueue(0, 10)

	for _, key := range []string{"rate:cluster:relay:a", "asynq:{cluster}:pending"} {
		if err := testenv.MoveSlot(ctx, nodes, key); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _, err := limiter.AllowN(ctx, "relay:a", limit, 1); err != nil || ok {
		t.Errorf("relay:a after its slot moved: allowed %v (err %v); want its burst still spent", ok, err)
	}
	enqueue(10, 20)
}
