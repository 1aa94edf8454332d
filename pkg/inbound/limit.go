package inbound

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener hands out at most max connections at once; one more is
// answered 421, as RFC 5321 has a busy server do, and closed. It keeps the
// connections it handed out so that a shutdown can close the idle ones.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	busy []byte
	log  *slog.Logger

	mu    sync.Mutex
	conns map[*limitConn]struct{}
}

func newLimitListener(ln net.Listener, max int, domain string, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), log: log, conns: map[*limitConn]struct{}{},
		busy: []byte("421 4.7.0 " + domain + " too many connections, try again later\r\n")}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			lc := &limitConn{Conn: c, l: l}
			l.mu.Lock()
			l.conns[lc] = struct{}{}
			l.mu.Unlock()
			return lc, nil
		default:
			l.log.Warn("inbound SMTP connection refused: too many at once", "remote", c.RemoteAddr().String(), "max", cap(l.sem))
			go func() {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				c.Write(l.busy)
				c.Close()
			}()
		}
	}
}

// closeIdle closes the connections not in the middle of a message.
func (l *limitListener) closeIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if !c.inMessage.Load() {
			c.Conn.Close()
		}
	}
}

// closeAll closes every connection.
func (l *limitListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Conn.Close()
	}
}

// limitConn gives its place back when closed.
type limitConn struct {
	net.Conn
	l         *limitListener
	once      sync.Once
	inMessage atomic.Bool // between MAIL and the end of the message: a shutdown waits for it
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		<-c.l.sem
	})
	return err
}
