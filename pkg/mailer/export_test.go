package mailer

import "net"

// WithConnWrapper wraps every connection the pool dials, below TLS, so that
// a test can watch the writes.
func WithConnWrapper(f func(net.Conn) net.Conn) Option { return func(p *Pool) { p.wrapConn = f } }

// Waiting is how many Sends wait for a connection of p.
func Waiting(p *Pool) int64 { return p.waiting.Load() }
