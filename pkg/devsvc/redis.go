package devsvc

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// Redis is an in-process Redis server (miniredis) for embedded mode.
//
// Keys with a TTL expire with the wall clock, as in a real Redis: asynq's
// leases, scheduled tasks and retries depend on it. miniredis on its own only
// expires keys when told to; its ClockTTL mode advances every TTL by the real
// time elapsed since the last command, which is what a ticker calling
// FastForward would do, minus the ticker and its drift.
type Redis struct {
	m *miniredis.Miniredis
}

// StartRedis starts a server listening on addr; "" means 127.0.0.1 on a free
// port.
func StartRedis(addr string) (*Redis, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("devsvc: start redis on %s: %w", addr, err)
	}
	return &Redis{m: m}, nil
}

// Addr is the host:port the server listens on.
func (r *Redis) Addr() string { return r.m.Addr() }

// Close stops the server and drops its data.
func (r *Redis) Close() { r.m.Close() }
