package backend

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/shardproxy/shardproxy/wire"
)

// maxStmtsPerConn bounds the server-side statements one connection keeps.
const maxStmtsPerConn = 512

// Stmt is a statement prepared on one backend connection.
type Stmt struct {
	ID         uint32
	Params     int
	ParamDefs  [][]byte // column-definition packets, verbatim
	ColumnDefs [][]byte
}

// Prepare returns the connection's statement for sql in its current
// database, preparing it once: a prepared statement keeps the database its
// unqualified tables were resolved in, so the key includes it.
func (c *Conn) Prepare(ctx context.Context, sql string) (*Stmt, error) {
	key := stmtKey{c.db, sql}
	if st, ok := c.stmts[key]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxStmtsPerConn {
		c.closeAllStmts()
	}
	stop := c.Watch(ctx)
	defer stop()
	if err := c.WriteCommandString(ComStmtPrepare, sql); err != nil {
		return nil, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	if p[0] == wire.ErrHeader {
		return nil, wire.ParseError(p)
	}
	if p[0] != wire.OKHeader || len(p) < 12 {
		c.broken = true
		return nil, fmt.Errorf("backend %s: malformed prepare response", c.addr)
	}
	st := &Stmt{
		ID:     binary.LittleEndian.Uint32(p[1:]),
		Params: int(binary.LittleEndian.Uint16(p[7:])),
	}
	columns := int(binary.LittleEndian.Uint16(p[5:]))
	if st.ParamDefs, err = c.readDefs(st.Params); err != nil {
		return nil, err
	}
	if st.ColumnDefs, err = c.readDefs(columns); err != nil {
		return nil, err
	}
	c.stmts[key] = st
	return st, nil
}

// readDefs reads n definition packets and the EOF after them (none if n is 0).
func (c *Conn) readDefs(n int) ([][]byte, error) {
	if n == 0 {
		return nil, nil
	}
	defs := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		p, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		defs = append(defs, append([]byte(nil), p...))
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	if !wire.IsEOF(p) {
		c.broken = true
		return nil, fmt.Errorf("backend %s: expected EOF after definitions", c.addr)
	}
	return defs, nil
}

// stmtKey names a prepared statement: its text, in its database.
type stmtKey struct{ db, sql string }

// closeAllStmts deallocates every statement.
func (c *Conn) closeAllStmts() {
	for key, st := range c.stmts {
		if c.closeStmt(st) != nil {
			return
		}
		delete(c.stmts, key)
	}
}

// ForgetStmt deallocates the statement prepared for sql, if any: a text
// that carries one execution's values would otherwise stay, one per value.
func (c *Conn) ForgetStmt(sql string) {
	key := stmtKey{c.db, sql}
	if st, ok := c.stmts[key]; ok {
		delete(c.stmts, key)
		_ = c.closeStmt(st)
	}
}

// closeStmt sends COM_STMT_CLOSE, which has no reply.
func (c *Conn) closeStmt(st *Stmt) error {
	var id [4]byte
	binary.LittleEndian.PutUint32(id[:], st.ID)
	return c.send(append(c.scratch[:0], ComStmtClose, id[0], id[1], id[2], id[3]), false)
}
