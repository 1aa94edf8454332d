package main

import (
	"time"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

// startDelayProxy puts the server at target rtt away: every reply arrives
// one round trip late (devsvc.LatencyProxy), and replies sent together
// arrive together.
func startDelayProxy(target string, rtt time.Duration) (addr string, closeFn func(), err error) {
	p, err := devsvc.StartLatencyProxy(target, rtt)
	if err != nil {
		return "", nil, err
	}
	return p.Addr(), func() { p.Close() }, nil
}
