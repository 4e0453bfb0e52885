package proxy

import (
	"context"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
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
	delete(s.pinnedForLocks, c.Pool())
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
	clear(s.pinnedForLocks)
	for pool, c := range s.pinned {
		delete(s.pinned, pool)
		c.MarkBroken()
		pool.Put(c)
	}
}

// borrow lends a connection to pool's node for the proxy's own reads on
// the session's behalf (sequences): the kept one where the session holds
// table locks, its transaction's there (another would be one more of the
// pool's, which the session may be holding all of), else a pooled one
// with the session's settings.
func (s *Session) borrow(ctx context.Context, pool *backend.Pool) (*backend.Conn, error) {
	if c := s.pinnedConn(pool); c != nil && s.tablesLocked {
		return c, nil
	}
	if b, ok := s.branches[pool]; ok {
		return b.conn, nil
	}
	c, err := pool.Get(ctx, false)
	if err != nil {
		return nil, err
	}
	if err := c.ApplyState(ctx, &s.state); err != nil {
		c.MarkBroken()
		pool.Put(c)
		return nil, err
	}
	return c, nil
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

// execLockTables runs LOCK TABLES or UNLOCK TABLES (prepared or not), and
// remembers whether the session holds table locks.
func (s *Session) execLockTables(ctx context.Context, st ast.StmtNode, more bool) error {
	lock, isLock := st.(*ast.LockTablesStmt)
	if isLock && !s.autocommit {
		return errTableLocksWithoutAutocommit
	}
	if commitsImplicitly(st) {
		if err := s.commitImplicitly(ctx); err != nil {
			return err
		}
	}
	if err := s.unlockTables(ctx); err != nil {
		return err
	}
	if isLock {
		sc, werr := s.targetSchema(st)
		if werr != nil {
			return werr
		}
		if err := s.lockTables(ctx, sc, lock); err != nil {
			return err
		}
	}
	return s.okPacket(wire.OK{}, more)
}

// lockTables locks every copy of the listed tables: all shards' for a
// sharded or global table, the default shard's for the others. Each node
// gets one LOCK TABLES naming its shards' tables by database, on the
// connection the session then keeps there, so the session's statements on
// any shard of the node find their tables locked, and a table that was not
// listed gets the backend's own error 1100, as on one server. Nodes are
// locked in the configuration's order, the same for every session, so two
// sessions locking the same tables wait for each other rather than
// deadlock.
func (s *Session) lockTables(ctx context.Context, sc *schema, st *ast.LockTablesStmt) error {
	lists := map[*backend.Node][]byte{}
	add := func(shard int, tl ast.TableLock) {
		sh := sc.shards[shard]
		list, seen := lists[sh.node]
		if !seen {
			list = append(list, "LOCK TABLES "...)
		} else {
			list = append(list, ", "...)
		}
		list = sqlparse.AppendName(list, sh.db)
		list = append(list, '.')
		list = sqlparse.AppendName(list, tl.Table.Name.O)
		lists[sh.node] = append(append(list, ' '), tl.Type.String()...)
	}
	for _, tl := range st.TableLocks {
		if t := sc.routing.Table(tl.Table.Name.O); t != nil && t.Kind != router.Unsharded {
			for i := range sc.shards {
				add(i, tl)
			}
			continue
		}
		add(sc.defaultShard, tl)
	}
	for _, sh := range sc.shards {
		list, ok := lists[sh.node]
		if !ok {
			continue // no tables there, or locked at an earlier shard
		}
		delete(lists, sh.node)
		pool := sh.node.Primary
		c := s.pinnedConn(pool)
		fresh := c == nil
		if fresh {
			var err error
			if c, err = pool.Get(ctx, s.capability&wire.ClientFoundRows != 0); err != nil {
				return s.lockFailed(ctx, err)
			}
		}
		err := c.ApplyState(ctx, &s.state)
		if err != nil {
			c.MarkBroken() // its state is half applied
		} else {
			_, err = c.Exec(ctx, string(list))
		}
		if err != nil {
			if fresh {
				pool.Put(c)
			}
			return s.lockFailed(ctx, err)
		}
		s.pin(c)
		if fresh {
			if s.pinnedForLocks == nil {
				s.pinnedForLocks = map[*backend.Pool]bool{}
			}
			s.pinnedForLocks[pool] = true
		}
		s.tablesLocked = true
	}
	return nil
}

// lockFailed releases the locks taken on other nodes when one node's LOCK
// TABLES fails: MariaDB's LOCK TABLES takes all its locks or none.
func (s *Session) lockFailed(ctx context.Context, err error) error {
	if uerr := s.unlockTables(ctx); uerr != nil {
		return uerr
	}
	return err
}

// unlockTables releases the session's table locks on every node, and
// gives back the connections kept for them alone: kept, they would serve
// every later statement of the session on their node, reads included.
func (s *Session) unlockTables(ctx context.Context) error {
	if !s.tablesLocked {
		return nil
	}
	for _, c := range s.pinned {
		if _, err := c.Exec(ctx, "UNLOCK TABLES"); err != nil {
			s.losePinned()
			return err
		}
	}
	s.tablesLocked = false
	for pool := range s.pinnedForLocks {
		c := s.pinned[pool]
		delete(s.pinned, pool)
		delete(s.pinnedForLocks, pool)
		pool.Put(c)
	}
	return nil
}

// losePinned ends the session after its answer: a kept connection broke,
// and the temporary tables and locks on it are gone, as they are for a
// MariaDB client whose connection is lost. Going on without them on other
// connections would not be the same session.
func (s *Session) losePinned() {
	s.closePinned()
	s.closeAfterReply = true
}
