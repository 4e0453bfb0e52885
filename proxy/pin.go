package proxy

import (
	"context"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
)

// A statement can leave state that only its backend connection holds: a
// temporary table, a named lock (GET_LOCK), table locks, an SQL prepared
// statement. Handed back to the pool, that connection would show it to the
// next client, and the session's next statement, on another connection,
// would not find it. The session keeps such a connection (one per node,
// where its statements on that node then run, reads included) until it
// ends or resets, and then closes it: the state goes with it, as it goes
// with a MariaDB session.

// pin keeps c, a primary's connection, for the rest of the session.
func (s *Session) pin(c *backend.Conn) {
	if s.pinned == nil {
		s.pinned = make(map[*backend.Pool]*backend.Conn, 1)
	}
	s.pinned[c.Pool()] = c
}

// pinnedConn is the session's kept connection to pool, if any.
func (s *Session) pinnedConn(pool *backend.Pool) *backend.Conn {
	if s.pinned == nil {
		return nil
	}
	return s.pinned[pool]
}

// keeps reports whether c stays with the session after a statement: a
// transaction's or a pinned connection.
func (s *Session) keeps(c *backend.Conn) bool {
	return s.isTxConn(c) || s.pinnedConn(c.Pool()) == c
}

// closePinned closes the kept connections, and their state with them.
func (s *Session) closePinned() {
	s.tablesLocked = false
	for pool, c := range s.pinned {
		delete(s.pinned, pool)
		c.MarkBroken()
		pool.Put(c)
	}
}

// giveBack returns c to its pool unless the session keeps it.
func (s *Session) giveBack(c *backend.Conn) {
	if !s.keeps(c) {
		c.Pool().Put(c)
	}
}

// errTableLocksWithoutAutocommit refuses table locks with autocommit off:
// MariaDB keeps them through the transactions that autocommit off begins,
// but the proxy begins them on the backends with START TRANSACTION, which
// releases them.
var errTableLocksWithoutAutocommit = errorf(erNotSupported, "LOCK TABLES with autocommit off is not supported through shardproxy: the backends' transactions would release the locks; lock tables with autocommit on, or use SELECT ... FOR UPDATE in a transaction")

// execLockTables runs LOCK TABLES or UNLOCK TABLES, and remembers whether
// the session holds table locks.
func (s *Session) execLockTables(ctx context.Context, st ast.StmtNode, text string, more bool) error {
	_, lock := st.(*ast.LockTablesStmt)
	if lock && !s.autocommit {
		return errTableLocksWithoutAutocommit
	}
	err := s.execRouted(ctx, st, text, more)
	if err == nil {
		s.tablesLocked = lock
	}
	return err
}

// losePinned ends the session after its answer: a kept connection broke,
// and the temporary tables and locks on it are gone, as they are for a
// MariaDB client whose connection is lost. Going on without them on other
// connections would not be the same session.
func (s *Session) losePinned() {
	s.closePinned()
	s.closeAfterReply = true
}
