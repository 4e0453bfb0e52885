package backend

// KillQuery asks the server, from another connection, to stop the
// statement this connection runs; the connection stays usable and answers
// the statement with error 1317 (or its end, if it finished first).
func (c *Conn) KillQuery() { c.pool.killQuery(c.ServerID) }

// ReadBuffered is how many response bytes wait to be read without blocking.
func (c *Conn) ReadBuffered() int { return c.io.ReadBuffered() }
