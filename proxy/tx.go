package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// branch is a transaction's connection to one node's primary. On a schema
// whose shards span several nodes every branch is an XA branch, so that a
// transaction that writes on several nodes can commit atomically; a
// transaction that writes on one node commits it in one phase.
type branch struct {
	conn  *backend.Conn
	node  string
	xa    bool
	wrote bool
	// locked: begun under the session's table locks, which START
	// TRANSACTION would release and XA START refuses (XAER_OUTSIDE): the
	// branch runs with the connection's autocommit off, and ends with it
	// on again. Such a statement commits node after node, in one phase.
	locked bool
}

// execBegin starts a transaction. Backends see it lazily, on the first
// statement for each of them, so a transaction that touches one node costs
// what it would without the proxy.
func (s *Session) execBegin(ctx context.Context, st *ast.BeginStmt, more bool) error {
	if s.inTx {
		// BEGIN inside a transaction commits it, as on MySQL.
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	if st.CausalConsistencyOnly || st.AsOf != nil {
		return errorf(erNotSupported, "this START TRANSACTION option is TiDB syntax; MariaDB does not support it")
	}
	// MariaDB releases table locks when a transaction starts; the
	// backends see START TRANSACTION only with the next statement.
	if err := s.unlockTables(ctx); err != nil {
		return err
	}
	s.setInTx(true)
	s.txReadOnly = st.ReadOnly || s.pendingAccess == "READ ONLY"
	return s.okPacket(wire.OK{}, more)
}

// txConn returns the transaction's branch on a node, starting it on first use.
// txPoolConn takes a connection from pool for a transaction's new branch.
// While the transaction holds connections of other nodes the wait is
// bounded, as a lock wait is (innodb_lock_wait_timeout, 50 s unless the
// session set it): transactions that each hold a node's last connection
// and wait for the other's would otherwise wait forever, as would every
// client behind them.
func (s *Session) txPoolConn(ctx context.Context, pool *backend.Pool, node string) (*backend.Conn, error) {
	foundRows := s.capability&wire.ClientFoundRows != 0
	if len(s.branches) == 0 && len(s.pinned) == 0 {
		return pool.Get(ctx, foundRows)
	}
	bound, ok := s.state.Seconds("@@innodb_lock_wait_timeout")
	if !ok {
		bound = defaultLockWaitTimeout
	}
	c, err := pool.GetBounded(ctx, foundRows, bound)
	if errors.Is(err, backend.ErrWaitBound) {
		return nil, errorf(erLockWaitTimeout, "Lock wait timeout exceeded; try restarting transaction (no connection to node %s came free while this transaction holds connections to other nodes)", node)
	}
	return c, err
}

// defaultLockWaitTimeout is MariaDB's default innodb_lock_wait_timeout.
const defaultLockWaitTimeout = 50 * time.Second

func (s *Session) txConn(ctx context.Context, sc *schema, sh shard, read bool) (*backend.Conn, error) {
	pool := sh.node.Primary
	if b, ok := s.branches[pool]; ok {
		b.wrote = b.wrote || !read
		return b.conn, nil
	}
	c := s.pinnedConn(pool)
	if c == nil {
		var err error
		if c, err = s.txPoolConn(ctx, pool, sh.node.Name); err != nil {
			return nil, err
		}
	}
	if err := c.ApplyState(ctx, &s.state); err != nil {
		c.MarkBroken()
		s.giveBack(c)
		return nil, err
	}
	if !s.inTx && s.pendingAccess == "READ ONLY" {
		s.txReadOnly = true // autocommit off: this statement begins it
	}
	if next := s.nextTxCharacteristics(); next != "" {
		if _, err := c.Exec(ctx, "SET TRANSACTION "+next); err != nil {
			s.giveBack(c)
			return nil, err
		}
	}
	b := &branch{conn: c, node: sh.node.Name, xa: sc.multiNode && !s.txReadOnly && !s.tablesLocked, wrote: !read, locked: s.tablesLocked}
	start := "START TRANSACTION"
	if s.txReadOnly {
		start += " READ ONLY"
	}
	var err error
	switch {
	case b.locked:
		c.SendAhead("SET autocommit = 0")
	case b.xa:
		if s.gtrid == "" {
			s.gtrid, s.txSchema = newGtrid(sc.name), sc
		}
		// Not sent ahead: XA START fails on a working connection (a
		// duplicate xid), and the statement would then run outside it.
		_, err = c.Exec(ctx, "XA START "+xid(s.gtrid, b.node))
	case len(s.savepoints) > 0:
		_, err = c.Exec(ctx, start)
	default:
		// On a connection fresh from the pool START TRANSACTION fails
		// only when the connection does: it goes with the statement.
		c.SendAhead(start)
	}
	// The transaction's savepoints precede all this branch's work: ROLLBACK
	// TO one of them undoes it all, as on a single server.
	for _, sp := range s.savepoints {
		if err == nil {
			_, err = c.Exec(ctx, sp.text)
		}
	}
	if err != nil {
		s.giveBack(c)
		return nil, err
	}
	s.branches[pool] = b
	s.setInTx(true)
	return c, nil
}

// nextTxCharacteristics is what SET TRANSACTION set for the transaction
// being begun, as that statement's list.
func (s *Session) nextTxCharacteristics() string {
	switch {
	case s.pendingIsolation == "":
		return s.pendingAccess
	case s.pendingAccess == "":
		return "ISOLATION LEVEL " + s.pendingIsolation
	}
	return "ISOLATION LEVEL " + s.pendingIsolation + ", " + s.pendingAccess
}

// followBackendTx takes in a transaction a backend began by itself (a
// procedure ran START TRANSACTION, or a statement the proxy passed through
// unparsed did) as the session's, on c: the client's COMMIT or ROLLBACK
// then ends it, as on MariaDB, and c does not go back to the pool inside
// it, where other clients' writes would join it and never commit.
func (s *Session) followBackendTx(c *backend.Conn, status uint16) {
	if status&wire.StatusInTrans == 0 || (s.inTx && s.isTxConn(c)) {
		return
	}
	if _, taken := s.branches[c.Pool()]; taken {
		// The transaction has its connection on this node already: this
		// one's cannot join it. Closing rolls it back.
		c.MarkBroken()
		return
	}
	s.branches[c.Pool()] = &branch{conn: c, wrote: true}
	s.setInTx(true)
}

// askBackendTx asks c, after a statement that failed, whether it left a
// transaction open there (followBackendTx reads that from replies, and an
// error packet has no status). A connection that cannot tell is not reused.
func (s *Session) askBackendTx(ctx context.Context, c *backend.Conn) {
	if s.isTxConn(c) {
		return
	}
	res, err := c.Exec(ctx, "SELECT @@in_transaction")
	if err != nil || len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		c.MarkBroken()
		return
	}
	if string(res.Rows[0][0]) == "1" {
		s.followBackendTx(c, wire.StatusInTrans)
	}
}

func (s *Session) isTxConn(c *backend.Conn) bool {
	b, ok := s.branches[c.Pool()]
	return ok && b.conn == c
}

// commit ends the transaction on every node it touched: in one phase when
// at most one node has writes, with XA two-phase commit otherwise.
func (s *Session) commit(ctx context.Context) error {
	defer s.endTx()
	var written []*branch
	for _, b := range s.branches {
		if b.wrote {
			written = append(written, b)
		}
	}
	if len(written) <= 1 || s.tablesLocked {
		// Once a branch fails to commit, the rest roll back: under table
		// locks several nodes may have writes, committed one by one.
		var first error
		for _, b := range s.branches {
			if first != nil {
				b.rollback(ctx, s.gtrid, false)
			} else if err := b.commitOnePhase(ctx, s.gtrid); err != nil {
				first = err
			}
		}
		s.putBranches()
		return first
	}
	return s.commitTwoPhase(ctx, written)
}

// finishTx answers COMMIT or ROLLBACK: end ends the transaction, and the
// statement's completion (or the session's completion_type) says what
// follows. AND CHAIN begins the next transaction with the same access mode
// and isolation level; RELEASE closes the client's connection after the
// reply. Neither follows a failed end, as on MariaDB.
func (s *Session) finishTx(ctx context.Context, end func(context.Context) error, ct ast.CompletionType, text string, more bool) error {
	chain, release := ct == ast.CompletionTypeChain, ct == ast.CompletionTypeRelease
	if !chain && !release {
		if mode := s.completionType(); mode != "" {
			explicit := sqlparse.CompletionOf(text)
			chain = mode == "CHAIN" && !explicit.NoChain
			release = mode == "RELEASE" && !explicit.NoRelease
		}
	}
	readOnly, isolation, access := s.txReadOnly, s.pendingIsolation, s.pendingAccess
	if err := end(ctx); err != nil {
		return err
	}
	if chain {
		s.setInTx(true)
		s.txReadOnly, s.pendingIsolation, s.pendingAccess = readOnly, isolation, access
	}
	s.closeAfterReply = release
	return s.okPacket(wire.OK{}, more)
}

// completionType is the session's completion_type when it is not NO_CHAIN:
// "CHAIN" or "RELEASE". The SET went to a backend, which read it back.
func (s *Session) completionType() string {
	v, ok := s.state.Get("@@completion_type")
	if !ok {
		return ""
	}
	switch strings.ToUpper(strings.Trim(v, "'")) {
	case "CHAIN", "1":
		return "CHAIN"
	case "RELEASE", "2":
		return "RELEASE"
	}
	return ""
}

// Backends get COMMIT and ROLLBACK with their completion spelt out: the
// session's completion_type is replayed on its connections, and there a
// bare COMMIT would chain a transaction the proxy does not know of, or
// close the connection.
const (
	backendCommit   = "COMMIT AND NO CHAIN NO RELEASE"
	backendRollback = "ROLLBACK AND NO CHAIN NO RELEASE"
)

// endLocked ends a locked branch's transaction and turns the connection's
// autocommit back on, which keeps the table locks.
const endLocked = "; SET autocommit = 1"

func (b *branch) commitOnePhase(ctx context.Context, gtrid string) error {
	sql := backendCommit
	switch {
	case b.locked:
		sql += endLocked
	case b.xa:
		x := xid(gtrid, b.node)
		sql = "XA END " + x + "; XA COMMIT " + x + " ONE PHASE"
	}
	_, err := b.conn.Exec(ctx, sql)
	if err != nil {
		b.conn.MarkBroken()
	}
	return err
}

func (b *branch) rollback(ctx context.Context, gtrid string, prepared bool) {
	sql := backendRollback
	switch {
	case b.locked:
		sql += endLocked
	case b.xa:
		x := xid(gtrid, b.node)
		sql = "XA END " + x + "; XA ROLLBACK " + x
		if prepared {
			sql = "XA ROLLBACK " + x
		}
	}
	if _, err := b.conn.Exec(ctx, sql); err != nil {
		b.conn.MarkBroken()
	}
}

// commitTwoPhase prepares every written branch, records the decision on the
// schema's default shard, then commits. Until the decision is recorded any
// failure rolls everything back; after it, branches that cannot be reached
// are committed by recovery.
func (s *Session) commitTwoPhase(ctx context.Context, written []*branch) error {
	gtrid := s.gtrid
	s.srv.inflight.Store(gtrid, true)
	defer s.srv.inflight.Delete(gtrid)
	prepared := map[*branch]bool{}
	abort := func(cause error) error {
		for _, b := range s.branches {
			b.rollback(ctx, gtrid, prepared[b])
		}
		s.putBranches()
		s.srv.metricsXA("rolled_back")
		return cause
	}
	for _, b := range s.branches {
		if b.wrote {
			continue
		}
		if err := b.commitOnePhase(ctx, gtrid); err != nil {
			return abort(err)
		}
	}
	for _, b := range written {
		x := xid(gtrid, b.node)
		if _, err := b.conn.Exec(ctx, "XA END "+x+"; XA PREPARE "+x); err != nil {
			return abort(err)
		}
		prepared[b] = true
	}
	failpoint("before-decision")
	if err := recordDecision(ctx, s.txSchema, gtrid, "commit"); err != nil {
		if errors.Is(err, errDecidedOtherwise) {
			return abort(errorf(erUnknown, "the transaction was rolled back by recovery before it could commit; run it again"))
		}
		var we *wire.Error
		if errors.As(err, &we) {
			return abort(err) // the decision was refused: nothing committed
		}
		// Unknown outcome: leave the branches prepared for recovery.
		for _, b := range written {
			b.conn.MarkBroken()
		}
		s.putBranches()
		return errorf(erUnknown, "the commit decision could not be recorded (%v); recovery will finish or undo the transaction", err)
	}
	failpoint("after-decision")
	complete := true
	for _, b := range written {
		if _, err := b.conn.Exec(ctx, "XA COMMIT "+xid(gtrid, b.node)); err != nil {
			complete = false
			b.conn.MarkBroken()
			s.log().Warn("XA COMMIT failed; recovery will retry", zap.String("gtrid", gtrid), zap.String("node", b.node), zap.Error(err))
		}
	}
	s.putBranches()
	s.srv.metricsXA("committed")
	if complete {
		go forgetDecision(s.txSchema, gtrid)
	}
	return nil
}

// rollback undoes the transaction everywhere; failures only drop connections.
func (s *Session) rollback(ctx context.Context) {
	if s.gtrid != "" && len(s.branches) > 0 {
		s.srv.metricsXA("rolled_back")
	}
	for _, b := range s.branches {
		b.rollback(ctx, s.gtrid, false)
	}
	s.putBranches()
	s.endTx()
}

func (s *Session) putBranches() {
	for pool, b := range s.branches {
		delete(s.branches, pool)
		s.giveBack(b.conn)
	}
}

// rollbackAll is rollback for a session that is going away.
func (s *Session) rollbackAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.rollback(ctx)
}

// commitImplicitly commits the session's transaction before a statement
// that commits implicitly, and has that statement's backend connections
// taken outside any transaction (acquire): the backends commit on it too,
// so in a transaction's branch what follows it would commit as it runs,
// beyond the reach of the client's ROLLBACK. With autocommit off the next
// statement begins a new transaction, as on MariaDB.
func (s *Session) commitImplicitly(ctx context.Context) error {
	s.outsideTx = true
	if !s.inTx {
		return nil
	}
	return s.commit(ctx)
}

func (s *Session) endTx() {
	s.setInTx(false)
	s.savepoints = s.savepoints[:0]
	s.txReadOnly, s.pendingIsolation, s.pendingAccess, s.gtrid, s.txSchema = false, "", "", "", nil
}

// setInTx records the transaction state; Shutdown reads the mirror from
// another goroutine to know whether an idle session may be closed.
func (s *Session) setInTx(on bool) {
	s.inTx = on
	s.txOpen.Store(on)
}

// savepoint is one of the transaction's savepoints, with the statement
// that set it.
type savepoint struct{ name, text string }

type savepointOp uint8

const (
	savepointSet savepointOp = iota
	savepointRollback
	savepointRelease
)

// execSavepoint runs SAVEPOINT, ROLLBACK TO or RELEASE SAVEPOINT on every
// branch of the transaction and keeps the session's list as MariaDB keeps
// its own: a name set again moves to the end, ROLLBACK TO drops the later
// ones, RELEASE drops the later ones and itself. Outside a transaction
// SAVEPOINT does nothing, as on MariaDB.
func (s *Session) execSavepoint(ctx context.Context, name string, op savepointOp, text string, more bool) error {
	at := slices.IndexFunc(s.savepoints, func(sp savepoint) bool { return strings.EqualFold(sp.name, name) })
	if op != savepointSet && at < 0 {
		return errorf(erNoSuchSavepoint, "SAVEPOINT %s does not exist", name)
	}
	for _, b := range s.branches {
		if _, err := b.conn.Exec(ctx, text); err != nil {
			return err
		}
	}
	switch {
	case op == savepointRollback:
		s.savepoints = s.savepoints[:at+1]
	case op == savepointRelease:
		s.savepoints = s.savepoints[:at]
	case s.inTx || !s.autocommit:
		if at >= 0 {
			s.savepoints = slices.Delete(s.savepoints, at, at+1)
		}
		s.savepoints = append(s.savepoints, savepoint{name, text})
	}
	return s.okPacket(wire.OK{}, more)
}

// gtridPrefix marks the proxy's XA transactions in XA RECOVER.
const gtridPrefix = "shardproxy:"

// newGtrid names a distributed transaction: the schema whose default shard
// holds its decision, and a random part unique across proxies.
func newGtrid(schema string) string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return gtridPrefix + schema + ":" + hex.EncodeToString(r[:])
}

// xid is an XA identifier literal: hex, so any schema or node name is safe.
func xid(gtrid, bqual string) string {
	return fmt.Sprintf("X'%x',X'%x'", gtrid, bqual)
}

// writeWhole runs write, a statement that may change several shards, so
// that it takes effect whole or not at all. Under autocommit (and when
// ownTx) it is a transaction of its own: shards on one node are databases
// of one server, but the pool gives each its own connection, and without
// the transaction a shard's error would leave the others' rows committed.
// Inside the client's transaction a failure is undone on every shard
// (statementUndo).
func (s *Session) writeWhole(ctx context.Context, ownTx bool, targets int, write func(*statementUndo) error) error {
	implicit := ownTx && !s.inTx && s.autocommit
	if implicit {
		s.setInTx(true)
	}
	undo := s.newStatementUndo(implicit, targets)
	err := write(undo)
	if err != nil {
		undo.undo(ctx, s)
	}
	if !implicit {
		return err
	}
	if err != nil {
		s.rollback(ctx)
		return err
	}
	return s.commit(ctx)
}

// statementSavepoint undoes a statement that failed on one of several
// shards inside the client's transaction. MariaDB rolls a failed
// statement back whole and keeps the transaction; each backend would roll
// back only its own part, and a COMMIT after the error would keep the
// shards that had succeeded.
const statementSavepoint = "_shardproxy_statement"

// statementUndo sets statementSavepoint on each connection a multi-shard
// write uses, before the write's first statement there, and rolls them
// back to it when the write fails.
type statementUndo struct {
	active bool
	conns  []*backend.Conn
}

// newStatementUndo is the undo of a write on targets shards; it does
// nothing outside the client's transaction (an autocommit statement's own
// transaction rolls back whole) or for one shard (its backend rolls the
// statement back).
func (s *Session) newStatementUndo(implicit bool, targets int) *statementUndo {
	return &statementUndo{active: s.inTx && !implicit && !s.outsideTx && targets > 1}
}

// writeConn takes shard's connection for a write of a statement on
// several shards, with the savepoint that undoes it there.
func (s *Session) writeConn(ctx context.Context, sc *schema, shard int, undo *statementUndo) (*backend.Conn, error) {
	c, err := s.acquire(ctx, sc, shard, false)
	if err != nil {
		return nil, err
	}
	if err := undo.mark(ctx, c); err != nil {
		s.release(c, 0)
		return nil, err
	}
	return c, nil
}

// mark sets the savepoint on c, once per statement.
func (u *statementUndo) mark(ctx context.Context, c *backend.Conn) error {
	if !u.active || slices.Contains(u.conns, c) {
		return nil
	}
	if _, err := c.Exec(ctx, "SAVEPOINT "+statementSavepoint); err != nil {
		return err
	}
	u.conns = append(u.conns, c)
	return nil
}

// undo rolls the statement back on every connection it marked. When that
// fails the whole transaction is rolled back: a statement's part must
// never be committed.
func (u *statementUndo) undo(ctx context.Context, s *Session) {
	for _, c := range u.conns {
		if _, err := c.Exec(ctx, "ROLLBACK TO SAVEPOINT "+statementSavepoint); err != nil {
			s.log().Warn("rolling back the transaction: a failed statement could not be undone on one shard", zap.Error(err))
			s.rollback(ctx)
			return
		}
	}
}
