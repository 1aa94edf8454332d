package devsvc

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// LatencyProxy forwards TCP connections to a server and hands on the
// server's bytes rtt after they were read: a relay rtt away, for measuring
// what round trips cost. The delay is a latency, not a pause per chunk:
// replies the server writes one after the other (those to pipelined
// commands) arrive together, one rtt late, as over a network. A pause for
// every chunk read would charge another round trip whenever a read happened
// to split them, and so undo pipelining on the way back. The client's bytes
// go through at once: the whole round trip is on the way back.
type LatencyProxy struct {
	ln     net.Listener
	target string
	rtt    time.Duration
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	// open and peak count the clients' connections: now, and the most at once.
	open, peak int
}

// StartLatencyProxy starts a proxy to target on 127.0.0.1, on a free port.
func StartLatencyProxy(target string, rtt time.Duration) (*LatencyProxy, error) {
	return ListenLatencyProxy("127.0.0.1:0", target, rtt)
}

// ListenLatencyProxy starts a proxy to target on addr.
func ListenLatencyProxy(addr, target string, rtt time.Duration) (*LatencyProxy, error) {
	if rtt < 0 {
		return nil, fmt.Errorf("devsvc: latency %v: must not be negative", rtt)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devsvc: start latency proxy: %w", err)
	}
	p := &LatencyProxy{ln: ln, target: target, rtt: rtt, conns: map[net.Conn]struct{}{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c) })
		}
	})
	return p, nil
}

// Addr is the host:port the proxy listens on.
func (p *LatencyProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting connections, closes open ones and waits for them.
func (p *LatencyProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// track adds c to the connections Close closes; false when closed already.
func (p *LatencyProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// Peak is the most client connections that were open at once.
func (p *LatencyProxy) Peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// opened counts a client's connection in or (by -1) out.
func (p *LatencyProxy) opened(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open += d
	p.peak = max(p.peak, p.open)
}

func (p *LatencyProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// delayed is a chunk of the server's bytes and when it is due at the client.
type delayed struct {
	due time.Time
	b   []byte
}

func (p *LatencyProxy) serve(client net.Conn) {
	defer client.Close()
	p.opened(1)
	defer p.opened(-1)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	for _, c := range []net.Conn{client, server} {
		if !p.track(c) {
			return
		}
		defer p.untrack(c)
	}
	p.wg.Go(func() {
		_, _ = io.Copy(server, client)
		server.Close()
	})
	chunks := make(chan delayed, 64)
	p.wg.Go(func() {
		defer close(chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				chunks <- delayed{time.Now().Add(p.rtt), bytes.Clone(buf[:n])}
			}
			if err != nil {
				return
			}
		}
	})
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if _, err := client.Write(c.b); err != nil {
			server.Close()
			for range chunks { // let the reader end
			}
			return
		}
	}
}
