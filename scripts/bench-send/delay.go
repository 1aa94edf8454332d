package main

import (
	"bytes"
	"io"
	"net"
	"time"
)

// startDelayProxy forwards connections to target and hands on every chunk
// the server sends rtt after it was read: each reply arrives one round trip
// late, as from a relay rtt away.
func startDelayProxy(target string, rtt time.Duration) (addr string, closeFn func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveDelayed(c, target, rtt)
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }, nil
}

// delayed is a chunk of the server's bytes and when it is due at the client.
type delayed struct {
	due time.Time
	b   []byte
}

// serveDelayed passes the client's bytes on at once and the server's rtt
// after they were read, in order: a latency, not a pause per chunk. Replies
// the server writes one after the other (those to pipelined commands) then
// arrive together, one rtt late, as they would over a network; a pause for
// every chunk read would charge an extra round trip whenever a read
// happened to split them, and so would undo pipelining on the way back.
func serveDelayed(client net.Conn, target string, rtt time.Duration) {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	chunks := make(chan delayed, 64)
	go func() {
		defer close(chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				chunks <- delayed{time.Now().Add(rtt), bytes.Clone(buf[:n])}
			}
			if err != nil {
				return
			}
		}
	}()
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
