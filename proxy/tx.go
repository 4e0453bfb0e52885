package proxy

import (
	"context"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/wire"
)

// execBegin starts a transaction. Backends see START TRANSACTION lazily, on
// the first statement for each of them, so a transaction that touches one
// node costs what it would without the proxy.
func (s *Session) execBegin(ctx context.Context, st *ast.BeginStmt, more bool) error {
	if s.inTx {
		// BEGIN inside a transaction commits it, as on MySQL.
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	s.setInTx(true)
	s.txReadOnly = st.ReadOnly
	s.txBegin = "START TRANSACTION"
	if st.ReadOnly {
		s.txBegin += " READ ONLY"
	}
	if st.CausalConsistencyOnly || st.AsOf != nil {
		return errorf(erNotSupported, "this START TRANSACTION option is TiDB syntax; MariaDB does not support it")
	}
	return s.okPacket(wire.OK{}, more)
}

// txConn returns the transaction's connection to a primary, starting the
// backend transaction on first use.
func (s *Session) txConn(ctx context.Context, pool *backend.Pool) (*backend.Conn, error) {
	if c, ok := s.txConns[pool]; ok {
		return c, nil
	}
	c, err := pool.Get(ctx, s.capability&wire.ClientFoundRows != 0)
	if err != nil {
		return nil, err
	}
	if err := c.ApplyState(ctx, &s.state); err != nil {
		c.MarkBroken()
		pool.Put(c)
		return nil, err
	}
	if s.pendingIsolation != "" {
		if _, err := c.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL "+s.pendingIsolation); err != nil {
			pool.Put(c)
			return nil, err
		}
	}
	begin := s.txBegin
	if begin == "" {
		begin = "START TRANSACTION"
	}
	if _, err := c.Exec(ctx, begin); err != nil {
		pool.Put(c)
		return nil, err
	}
	s.txConns[pool] = c
	s.setInTx(true)
	return c, nil
}

func (s *Session) isTxConn(c *backend.Conn) bool {
	return s.txConns[c.Pool()] == c
}

// commit ends the transaction on every backend it touched.
func (s *Session) commit(ctx context.Context) error {
	var first error
	for pool, c := range s.txConns {
		if first == nil {
			if _, err := c.Exec(ctx, "COMMIT"); err != nil {
				first = err
				c.MarkBroken()
			}
		} else {
			// A failed commit leaves the rest undecided: roll them back.
			if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
				c.MarkBroken()
			}
		}
		delete(s.txConns, pool)
		pool.Put(c)
	}
	s.endTx()
	return first
}

// rollback undoes the transaction everywhere; failures only drop connections.
func (s *Session) rollback(ctx context.Context) {
	for pool, c := range s.txConns {
		if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
			c.MarkBroken()
		}
		delete(s.txConns, pool)
		pool.Put(c)
	}
	s.endTx()
}

// rollbackAll is rollback for a session that is going away.
func (s *Session) rollbackAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.rollback(ctx)
}

func (s *Session) endTx() {
	s.setInTx(false)
	s.txReadOnly, s.txBegin, s.pendingIsolation = false, "", ""
}

// execOnTxConns runs a savepoint statement on every connection of the
// transaction; outside one it is a no-op, as MySQL treats it.
func (s *Session) execOnTxConns(ctx context.Context, text string, more bool) error {
	for _, c := range s.txConns {
		if _, err := c.Exec(ctx, text); err != nil {
			return err
		}
	}
	return s.okPacket(wire.OK{}, more)
}

// setInTx records the transaction state; Shutdown reads the mirror from
// another goroutine to know whether an idle session may be closed.
func (s *Session) setInTx(on bool) {
	s.inTx = on
	s.txOpen.Store(on)
}
