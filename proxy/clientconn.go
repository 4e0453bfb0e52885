package proxy

import (
	"net"
	"time"
)

// defaultNetWriteTimeout is MariaDB's default net_write_timeout: a client
// that takes no data for this long while the proxy writes to it is
// disconnected, so a client that stops reading a result cannot hold a
// backend connection forever. SET SESSION net_write_timeout changes it.
const defaultNetWriteTimeout = 60 * time.Second

// clientConn bounds every write to the client by the session's
// net_write_timeout (a deadline per write, not per statement: a large
// result may stream for longer, as long as the client keeps reading).
type clientConn struct {
	net.Conn
	writeTimeout time.Duration
}

func (c *clientConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// netWriteTimeout is the session's net_write_timeout.
func (s *Session) netWriteTimeout() time.Duration {
	return s.secondsVariable("@@net_write_timeout", defaultNetWriteTimeout)
}
