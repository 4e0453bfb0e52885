package proxy

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shardproxy/shardproxy/wire"
)

// defaultNetWriteTimeout is MariaDB's default net_write_timeout: a client
// that takes no data for this long while the proxy writes to it is
// disconnected, so a client that stops reading a result cannot hold a
// backend connection forever. SET SESSION net_write_timeout changes it.
const defaultNetWriteTimeout = 60 * time.Second

// timeoutCheckInterval is how often the watchdog looks for sessions past
// their wait_timeout or net_write_timeout: the timeouts are enforced within
// this much of their value.
const timeoutCheckInterval = 250 * time.Millisecond

// expired marks a wait the watchdog ended (in place of its start time).
const expired = -1

// The client timeouts are checked by one watchdog for all sessions rather
// than by socket deadlines: a deadline costs timer updates on every
// statement (three, about 0.4 µs), a start time in an atomic costs nothing.

// clientConn bounds every write to the client by the session's
// net_write_timeout (per write, not per statement: a large result may
// stream for longer, as long as the client keeps reading).
type clientConn struct {
	net.Conn
	sock         *wire.RawSocket // writes on the descriptor; nil for TLS
	writeTimeout atomic.Int64    // nanoseconds
	writingSince atomic.Int64    // monotonic nanoseconds; 0 when not writing
}

func newClientConn(nc net.Conn) *clientConn {
	c := &clientConn{Conn: nc, sock: wire.NewRawSocket(nc)}
	c.writeTimeout.Store(int64(defaultNetWriteTimeout))
	return c
}

// SyscallConn lets the session's reader use the descriptor too.
func (c *clientConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

func (c *clientConn) Write(b []byte) (int, error) {
	c.writingSince.Store(monotonic())
	var n int
	var err error
	if c.sock != nil {
		n, err = c.sock.Write(b)
	} else {
		n, err = c.Conn.Write(b)
	}
	if c.writingSince.Swap(0) == expired && err == nil {
		err = os.ErrDeadlineExceeded // finished as the watchdog gave up on it
	}
	return n, err
}

// expireWrite ends a write running longer than the write timeout.
func (c *clientConn) expireWrite(now int64) bool {
	since := c.writingSince.Load()
	if since <= 0 || now-since < c.writeTimeout.Load() || !c.writingSince.CompareAndSwap(since, expired) {
		return false
	}
	_ = c.Conn.SetWriteDeadline(time.Unix(1, 0))
	return true
}

// clockStart makes monotonic() positive and monotonic.
var clockStart = time.Now().Add(-time.Second)

func monotonic() int64 { return int64(time.Since(clockStart)) }

// netWriteTimeout is the session's net_write_timeout.
func (s *Session) netWriteTimeout() time.Duration {
	return s.secondsVariable("@@net_write_timeout", defaultNetWriteTimeout)
}

// beginIdle notes that the session waits for the client's next command.
func (s *Session) beginIdle() {
	s.idleTimeoutNs.Store(int64(s.idleTimeout()))
	s.client.writeTimeout.Store(int64(s.netWriteTimeout()))
	s.idleSince.Store(monotonic())
}

// endIdle notes that a command arrived; false when the watchdog already
// ended the wait (the command came as its wait_timeout ran out).
func (s *Session) endIdle() bool { return s.idleSince.Swap(0) != expired }

// expireIdle ends the wait of a session idle beyond its wait_timeout.
func (s *Session) expireIdle(now int64) bool {
	since := s.idleSince.Load()
	if since <= 0 || now-since < s.idleTimeoutNs.Load() || !s.idleSince.CompareAndSwap(since, expired) {
		return false
	}
	_ = s.io.Conn().SetReadDeadline(time.Unix(1, 0))
	return true
}

// watchTimeouts ends idle waits past wait_timeout and client writes past
// net_write_timeout, until stop is closed.
func (srv *Server) watchTimeouts(stop <-chan struct{}) {
	t := time.NewTicker(timeoutCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := monotonic()
		srv.sessions.Range(func(_, v any) bool {
			s := v.(*Session)
			s.expireIdle(now)
			s.client.expireWrite(now)
			return true
		})
	}
}
