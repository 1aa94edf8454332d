package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// redises returns the Redis URLs to test on: the in-process one always, the
// real one when DEARFRIEND_TEST_REDIS_URL is set.
func redises(t *testing.T) map[string]string {
	t.Helper()
	r, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	urls := map[string]string{"miniredis": "redis://" + r.Addr()}
	if u := testenv.RedisURL(); u != "" {
		urls["redis"] = u
	}
	return urls
}

func mustClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// Two processes sharing one Redis get the burst between them, not each.
func TestSharedLimitAllowsTheBurstInTotal(t *testing.T) {
	t.Parallel()
	for name, url := range redises(t) {
		t.Run(name, func(t *testing.T) {
			prefix := testenv.Queue() + ":"
			a := ratelimit.NewRedis(mustClient(t, url), prefix)
			b := ratelimit.NewRedis(mustClient(t, url), prefix)
			t.Cleanup(func() { mustClient(t, url).Del(context.Background(), "rate:"+prefix+"relay:x") })
			// One an hour after a burst of 5: nothing comes back during the test.
			limit := ratelimit.Limit{Events: 1, Period: time.Hour, Burst: 5}
			allowed := 0
			for i := range 20 {
				backend := a
				if i%2 == 1 {
					backend = b
				}
				ok, retry, err := backend.AllowN(t.Context(), "relay:x", limit, 1)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					allowed++
				} else if retry <= 0 {
					t.Errorf("refused with retry after %s; want a positive wait", retry)
				}
			}
			if allowed != 5 {
				t.Errorf("allowed %d of 20 across two limiters; want the burst, 5", allowed)
			}
		})
	}
}

// Two Limiters (two worker processes) on one Redis: Wait lets the burst
// through in total, whichever process asks; every other call waits.
func TestTwoLimitersShareTheBurst(t *testing.T) {
	t.Parallel()
	for name, url := range redises(t) {
		t.Run(name, func(t *testing.T) {
			prefix := testenv.Queue() + ":"
			t.Cleanup(func() { mustClient(t, url).Del(context.Background(), "rate:"+prefix+"relay:y:s") })
			limiters := []*ratelimit.Limiter{
				ratelimit.NewLimiter(ratelimit.NewRedis(mustClient(t, url), prefix), nil),
				ratelimit.NewLimiter(ratelimit.NewRedis(mustClient(t, url), prefix), nil),
			}
			// A burst of 10, and nothing back during the test (40 an hour).
			limit := ratelimit.Limit{Events: 40, Period: time.Hour, Burst: 10}
			passed := 0
			for i := range 30 {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
				_, err := limiters[i%2].Wait(ctx, "relay:y:s", limit)
				cancel()
				switch {
				case err == nil:
					passed++
				case !errors.Is(err, context.DeadlineExceeded):
					t.Fatal(err)
				}
			}
			if passed != 10 {
				t.Errorf("%d of 30 waits passed across two limiters; want the burst, 10", passed)
			}
		})
	}
}

// Wait takes the burst in chunks, then waits rather than failing; it tells
// the observer how long it waited.
func TestLimiterWaits(t *testing.T) {
	t.Parallel()
	for name, url := range redises(t) {
		t.Run(name, func(t *testing.T) {
			prefix := testenv.Queue() + ":"
			var scopes []string
			l := ratelimit.NewLimiter(ratelimit.NewRedis(mustClient(t, url), prefix), func(scope string, waited time.Duration) {
				scopes = append(scopes, scope)
			})
			t.Cleanup(func() { mustClient(t, url).Del(context.Background(), "rate:"+prefix+"campaign:1") })
			limit := ratelimit.Limit{Events: 1, Period: time.Hour, Burst: 3}
			for i := range 3 {
				if waited, err := l.Wait(t.Context(), "campaign:1", limit); err != nil || waited != 0 {
					t.Fatalf("Wait %d = %s, %v; want no wait within the burst", i, waited, err)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			if _, err := l.Wait(ctx, "campaign:1", limit); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait past the burst = %v; want it to wait until the context ends", err)
			}
			if len(scopes) != 1 || scopes[0] != "campaign" {
				t.Errorf("observed waits %q; want one in scope campaign", scopes)
			}
			// No limit: no Redis, no wait.
			if waited, err := l.Wait(t.Context(), "campaign:1", ratelimit.Limit{}); err != nil || waited != 0 {
				t.Errorf("Wait without a limit = %s, %v", waited, err)
			}
		})
	}
}

func TestLimitScale(t *testing.T) {
	t.Parallel()
	l := ratelimit.PerSecond(100)
	if got := l.Scale(0.5); got.Events != 50 || got.Burst != 50 || got.Period != time.Second {
		t.Errorf("PerSecond(100).Scale(0.5) = %+v; want 50 a second, burst 50", got)
	}
	if got := ratelimit.PerHour(3600); got.Burst != 60 {
		t.Errorf("PerHour(3600).Burst = %d; want a minute's worth, 60", got.Burst)
	}
	if got := l.Scale(1e-9); got.Burst != 1 || got.Events <= 0 {
		t.Errorf("Scale to almost nothing = %+v; want at least one event and a burst of 1", got)
	}
}
