package esp

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Seen remembers the one-time tokens of signed requests. First records
// token for ttl and reports whether it was new; Forget drops it again, so
// a request refused after its token was recorded (the sink could not store
// its events) is taken when the service retries it.
type Seen interface {
	First(ctx context.Context, token string, ttl time.Duration) (bool, error)
	Forget(ctx context.Context, token string) error
}

// RedisSeen keeps the tokens in Redis under prefix, each expiring on its
// own: every serve process of a deployment shares them.
type RedisSeen struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisSeen returns a Seen in rdb, keys starting with prefix.
func NewRedisSeen(rdb redis.UniversalClient, prefix string) *RedisSeen {
	return &RedisSeen{rdb: rdb, prefix: prefix}
}

// First implements Seen with SET NX: one process wins a token.
func (s *RedisSeen) First(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.prefix+token, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("record webhook token: %w", err)
	}
	return ok, nil
}

// Forget implements Seen.
func (s *RedisSeen) Forget(ctx context.Context, token string) error {
	if err := s.rdb.Del(ctx, s.prefix+token).Err(); err != nil {
		return fmt.Errorf("forget webhook token: %w", err)
	}
	return nil
}
