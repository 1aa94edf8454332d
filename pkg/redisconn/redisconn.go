// Package redisconn turns a parsed DEARFRIEND_REDIS_URL (config.Redis) into
// the clients of its kind: go-redis's own Client, FailoverClient (Sentinel)
// or ClusterClient, and asynq's matching RedisConnOpt. Every Redis user of
// the process (the queue, the rate limiter, webhook replay tokens, health
// checks) connects through it, so a failover or a moved slot is followed by
// the client libraries themselves. It owns no keys and runs no commands.
package redisconn

import (
	"crypto/tls"
	"net"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/config"
)

// Option adjusts the clients.
type Option func(*options)

type options struct{ tls *tls.Config }

// WithTLS sets the TLS configuration of a rediss address (tests give a
// private CA); without it, the system's roots verify each server's name.
func WithTLS(c *tls.Config) Option { return func(o *options) { o.tls = c } }

func build(r config.Redis, opts []Option) options {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if r.TLS && o.tls == nil {
		o.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if r.Kind == config.RedisSingle {
			o.tls.ServerName, _, _ = net.SplitHostPort(r.Addrs[0])
		}
		// Sentinel and Cluster: each connection verifies the name it dials.
	}
	if !r.TLS {
		o.tls = nil
	}
	return o
}

// Asynq returns asynq's connection option of r's kind.
func Asynq(r config.Redis, opts ...Option) asynq.RedisConnOpt {
	o := build(r, opts)
	switch r.Kind {
	case config.RedisSentinel:
		return asynq.RedisFailoverClientOpt{MasterName: r.Master, SentinelAddrs: r.Addrs,
			SentinelUsername: r.SentinelUsername, SentinelPassword: r.SentinelPassword,
			Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: o.tls}
	case config.RedisCluster:
		return asynq.RedisClusterClientOpt{Addrs: r.Addrs, Username: r.Username, Password: r.Password, TLSConfig: o.tls}
	default:
		return asynq.RedisClientOpt{Addr: r.Addrs[0], Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: o.tls}
	}
}

// Client returns a go-redis client of r's kind.
func Client(r config.Redis, opts ...Option) redis.UniversalClient {
	o := build(r, opts)
	switch r.Kind {
	case config.RedisSentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: r.Master, SentinelAddrs: r.Addrs,
			SentinelUsername: r.SentinelUsername, SentinelPassword: r.SentinelPassword,
			Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: o.tls})
	case config.RedisCluster:
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: r.Addrs, Username: r.Username, Password: r.Password, TLSConfig: o.tls})
	default:
		return redis.NewClient(&redis.Options{Addr: r.Addrs[0], Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: o.tls})
	}
}

// Open parses raw and returns both clients' options: asynq's, and a go-redis client.
func Open(raw string, opts ...Option) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	r, err := config.ParseRedisURL(raw)
	if err != nil {
		return nil, nil, err
	}
	return Asynq(r, opts...), Client(r, opts...), nil
}
