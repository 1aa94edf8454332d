package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// Two deployments share one Redis under different DEARFRIEND_QUEUE names:
// each sends its own campaign to its own relay, at the same time, and
// neither takes the other's tasks or shares its rate limits. On a Redis of
// the test's own, every key either names one deployment's queue or is
// asynq's registry of processes.
func TestTwoDeploymentsShareARedis(t *testing.T) {
	t.Parallel()
	r, err := devsvc.StartRedis("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	shared := backend{name: "sqlite+one-redis", dsn: testenv.MigratedSQLite, redisURL: "redis://" + r.Addr()}
	// A relay rate puts the limiter's keys in Redis too.
	opts := harnessOpts{smtpQuery: "&rate=2000"}
	deployments := []*harness{startOpts(t, shared, opts), startOpts(t, shared, opts)}
	const n = 120
	camps := make([]int64, len(deployments))
	for i, h := range deployments {
		camps[i], _ = h.mustDraftCampaign(n)
	}
	for i, h := range deployments {
		if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camps[i]), nil, nil); code != http.StatusAccepted {
			t.Fatalf("send on deployment %d: %d", i, code)
		}
	}
	// The limiter's keys live only until its bucket is full again (a few
	// milliseconds at this rate): look for them while the campaigns send.
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	rated := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); len(rated) < len(deployments) && time.Now().Before(deadline); {
		keys, err := rdb.Keys(context.Background(), "rate:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range deployments {
			if hasKey(keys, "rate:"+h.queue+":relay:") {
				rated[h.queue] = true
			}
		}
		time.Sleep(time.Millisecond)
	}
	for i, h := range deployments {
		h.waitFinished(camps[i])
		h.mu.Lock()
		got, twice := len(h.byRcpt), 0
		for _, c := range h.byRcpt {
			if c > 1 {
				twice++
			}
		}
		h.mu.Unlock()
		if got != n || twice != 0 || h.capture.Count() != n {
			t.Errorf("deployment %d's relay got %d messages for %d recipients, %d of them more than once; want %d, each once",
				i, h.capture.Count(), got, twice, n)
		}
	}

	keys, err := rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]int{}
	for _, k := range keys {
		var of []string
		for _, h := range deployments {
			if strings.Contains(k, h.queue) {
				of = append(of, h.queue)
			}
		}
		switch {
		case len(of) == 1:
			owned[of[0]]++
		case k == "asynq:queues" || strings.HasPrefix(k, "asynq:servers") || strings.HasPrefix(k, "asynq:workers"):
		default:
			t.Errorf("Redis key %q belongs to %d deployments, want one", k, len(of))
		}
	}
	for _, h := range deployments {
		if owned[h.queue] == 0 || !rated[h.queue] {
			t.Errorf("queue %s: %d keys, its relay's rate limit key seen while sending: %v; want both (keys: %v)",
				h.queue, owned[h.queue], rated[h.queue], keys)
		}
	}
}

func hasKey(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
