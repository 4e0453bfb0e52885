package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/wire"
)

// Client commands.
const (
	comQuit             = 0x01
	comInitDB           = 0x02
	comQuery            = 0x03
	comFieldList        = 0x04
	comStatistics       = 0x09
	comProcessInfo      = 0x0a
	comProcessKill      = 0x0c
	comDebug            = 0x0d
	comPing             = 0x0e
	comChangeUser       = 0x11
	comStmtPrepare      = 0x16
	comStmtExecute      = 0x17
	comStmtSendLongData = 0x18
	comStmtClose        = 0x19
	comStmtReset        = 0x1a
	comSetOption        = 0x1b
	comStmtFetch        = 0x1c
	comResetConnection  = 0x1f
)

// maxClientPacket bounds what a client may send in one command.
const maxClientPacket = 1 << 30

// Session is one client connection.
type Session struct {
	srv        *Server
	id         uint32
	io         *wire.PacketIO
	client     *clientConn // io's connection, whose writes net_write_timeout bounds
	capability uint32
	// cacheMetadata: the client negotiated MariaDB's metadata caching;
	// every column count it gets carries the "definitions follow" byte.
	cacheMetadata bool
	user          string
	seed          []byte // the greeting's, for COM_CHANGE_USER
	schemaName    string // current logical schema, "" for none
	charset       byte

	state      backend.State
	autocommit bool
	inTx       bool
	txReadOnly bool
	branches   map[*backend.Pool]*branch // the transaction's connections, by primary
	// savepoints are the transaction's, oldest first: a branch that begins
	// after them gets them too (txConn).
	savepoints []savepoint
	// outsideTx: the statement commits implicitly (DDL) and takes its
	// connections outside any transaction.
	outsideTx bool
	// deadlocked: a backend chose the transaction as a deadlock's victim.
	deadlocked bool
	// tablesLocked: LOCK TABLES holds locks on a kept connection.
	tablesLocked bool
	gtrid        string  // XA transaction id, once a branch uses XA
	txSchema     *schema // holds the XA decision

	lastInsertID uint64
	// keepsDiagnostics: the running statement uses no tables, so it
	// leaves the last statement's warnings unless it raises its own, as
	// MariaDB does.
	keepsDiagnostics bool
	lastvals         map[string][]byte // LASTVAL() of each sequence ("db.name", lower case) the session advanced
	route            routeType         // how the last statement reached the backends, for metrics
	errCode          uint16            // first error code sent for the running command, 0 for none
	shardsHit        []int             // shards the running statement reached, for the slow-query log
	lastFailed       bool              // the last statement answered with an error
	closeAfterReply  bool              // COMMIT RELEASE, or a kept connection lost: the connection ends once answered
	scratch          []byte            // reused for packets the proxy re-encodes
	shape            []byte            // reused for statement shapes (plan cache keys)
	shapeValues      []router.Value
	packetsOut       uint64                          // packets written to the client: is a retry safe?
	pendingIsolation string                          // SET TRANSACTION without SESSION: the next transaction only
	pendingAccess    string                          // READ ONLY or READ WRITE, likewise
	warnConn         *backend.Conn                   // kept after a statement with warnings, for SHOW WARNINGS
	pinned           map[*backend.Pool]*backend.Conn // connections holding session state (pin.go)
	pinnedForLocks   map[*backend.Pool]bool          // pinned only by LOCK TABLES: given back at UNLOCK TABLES
	diagnostics      *diagnostics                    // kept after an error, or a multi-shard statement's warnings, likewise
	lastWarnings     uint16                          // the warning count of the last statement one connection answered
	rowCount         int64                           // ROW_COUNT(): the last statement's affected rows, -1 after a result
	foundRows        uint64                          // FOUND_ROWS(): the last result's rows, or what SQL_CALC_FOUND_ROWS counted
	stmts            map[uint32]*clientStmt
	execParams       []wire.Param // reused by each COM_STMT_EXECUTE
	execPacket       []byte       // reused by each COM_STMT_EXECUTE relayed undecoded
	nextStmtID       uint32
	parser           *parser.Parser
	parseMode        mysql.SQLMode // the sql_mode flags that change parsing (sqlmode.go)
	// binaryRows: the running statement answers a COM_STMT_EXECUTE with a
	// result the proxy builds or relays from a query (a prepared SHOW):
	// its rows go out in the binary protocol.
	binaryRows bool

	// Cancellation of the running statement (KILL QUERY, shutdown).
	stmtCtx    *statementContext  // reused by statements until cancelled
	stmtCancel context.CancelFunc // stmtCtx.cancel, bound once
	mu         sync.Mutex
	cancel     context.CancelFunc
	ownCancel  bool // cancel belongs to this statement alone
	busy       bool
	draining   atomic.Bool
	txOpen     atomic.Bool // mirrors inTx for other goroutines
	killed     atomic.Bool
	started    time.Time
	info       string
	// The wait for the next command, for the timeout watchdog
	// (watchTimeouts): since when (monotonic ns, 0 while busy) and how long
	// it may last (wait_timeout).
	idleSince     atomic.Int64
	idleTimeoutNs atomic.Int64
	infoDB        string // the schema as SHOW PROCESSLIST shows it
}

func newSession(srv *Server, id uint32, nc net.Conn, capability uint32, user string, charset byte) *Session {
	client := newClientConn(nc)
	s := &Session{
		srv:    srv,
		id:     id,
		client: client,
		io:     wire.NewPacketIO(client),
		// What the client asked for and the greeting offered: go-mysql
		// reports the client's flags as they came.
		capability: capability &^ (wire.ClientDeprecateEOF | removedCapabilities),
		user:       user,
		charset:    charset,
		autocommit: true,
		branches:   map[*backend.Pool]*branch{},
		stmts:      map[uint32]*clientStmt{},
		scratch:    make([]byte, 0, 512),
		started:    time.Now(),
	}
	s.io.MaxPacket = maxClientPacket
	s.setHandshakeState()
	return s
}

func (s *Session) topo() *topology { return s.srv.topo.Load() }

func (s *Session) log() *zap.Logger { return s.srv.log }

// run serves commands until the client quits or the connection fails.
func (s *Session) run() {
	defer s.cleanup()
	defer func() {
		if r := recover(); r != nil {
			s.log().Error("session panic", zap.Uint32("conn", s.id), zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			s.writeError(errorf(erUnknown, "internal proxy error: %v", r))
			_ = s.io.Flush()
		}
	}()
	for {
		s.beginIdle()
		if s.draining.Load() {
			if !s.inTx {
				return
			}
			// A drain woke the read loop (deadline now) as the transaction
			// began: the session ends after the transaction instead.
			_ = s.io.Conn().SetReadDeadline(time.Time{})
		}
		s.io.SetSeq(0)
		if s.io.ReadBuffered() == 0 {
			// The answer just sent will take the client a while; a read
			// now mostly finds the socket empty and costs a syscall
			// before the wait. Letting the other sessions run first
			// gives it that while (under load, reads per point select
			// 2.6 -> 2.05).
			runtime.Gosched()
		}
		pkt, err := s.io.ReadPacket()
		if !s.endIdle() && err == nil {
			err = os.ErrDeadlineExceeded // arrived as the wait_timeout ran out
		}
		if err != nil {
			var ne net.Error
			if err == wire.ErrPacketTooLarge {
				s.writeError(errorf(erNetPacketTooLarge, "Got a packet bigger than max_allowed_packet bytes"))
				_ = s.io.Flush()
			} else if errors.As(err, &ne) && ne.Timeout() && !s.draining.Load() {
				s.log().Debug("idle client disconnected (wait_timeout)", zap.Uint32("conn", s.id), zap.Duration("wait_timeout", s.idleTimeout()))
			} else if err != io.EOF && !s.killed.Load() && !s.draining.Load() {
				s.log().Debug("client read failed", zap.Uint32("conn", s.id), zap.Error(err))
			}
			return
		}
		if len(pkt) == 0 {
			s.writeError(errorf(erUnknownCommand, "empty command packet"))
			_ = s.io.Flush()
			continue
		}
		if pkt[0] == comQuit {
			return
		}
		if err := s.command(pkt); err != nil {
			s.log().Debug("session ended", zap.Uint32("conn", s.id), zap.Error(err))
			return
		}
		if err := s.io.Flush(); err != nil || s.closeAfterReply {
			return
		}
	}
}

// dispatch serves one command. An error return means the client connection
// is unusable; statement failures are answered with error packets instead.
func (s *Session) dispatch(pkt []byte) error {
	data := pkt[1:]
	switch pkt[0] {
	case comQuery:
		return s.handleQuery(string(data))
	case comInitDB:
		if err := s.useSchema(string(data)); err != nil {
			return s.writeError(err)
		}
		return s.writeOK(wire.OK{})
	case comPing, comDebug:
		return s.writeOK(wire.OK{})
	case comFieldList:
		return s.handleFieldList(data)
	case comStatistics:
		stats := fmt.Sprintf("Uptime: %d  Threads: %d  Questions: 0  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: 0.000",
			int(time.Since(s.srv.started).Seconds()), s.srv.Sessions())
		return s.io.WritePacket([]byte(stats))
	case comStmtPrepare:
		return s.handleStmtPrepare(string(data))
	case comStmtExecute:
		st := s.stmtByID(data)
		if st == nil {
			return s.writeError(errorf(erUnknownStmtHandler, "Unknown prepared statement handler given to EXECUTE"))
		}
		return s.handleStmtExecute(st, pkt)
	case comStmtSendLongData:
		s.handleStmtSendLongData(data)
		return nil
	case comStmtClose:
		s.handleStmtClose(data)
		return nil
	case comStmtReset:
		return s.handleStmtReset(data)
	case comSetOption:
		return s.handleSetOption(data)
	case comResetConnection:
		s.resetSession()
		return s.writeOK(wire.OK{})
	case comChangeUser:
		return s.handleChangeUser(data)
	case comProcessKill:
		if len(data) >= 4 {
			id := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
			return s.killSession(id, false)
		}
		return s.writeError(errorf(erUnknownCommand, "malformed COM_PROCESS_KILL"))
	default:
		return s.writeError(errorf(erUnknownCommand, "command 0x%02x is not supported by shardproxy", pkt[0]))
	}
}

func (s *Session) handleSetOption(data []byte) error {
	if len(data) < 2 {
		return s.writeError(errorf(erUnknownCommand, "malformed COM_SET_OPTION"))
	}
	switch uint16(data[0]) | uint16(data[1])<<8 {
	case 0:
		s.capability |= wire.ClientMultiStatements
	case 1:
		s.capability &^= wire.ClientMultiStatements
	default:
		return s.writeError(errorf(erUnknownCommand, "unknown COM_SET_OPTION value"))
	}
	return s.io.WritePacket(wire.AppendEOF(nil, 0, s.status()))
}

// status is the server status the client should see.
func (s *Session) status() uint16 {
	var st uint16
	if s.autocommit {
		st |= wire.StatusAutocommit
	}
	if s.inTx {
		st |= wire.StatusInTrans
		if s.txReadOnly {
			st |= wire.StatusInTransReadonly
		}
	}
	return st
}

// patchStatus replaces a backend's transaction flags with the session's.
func (s *Session) patchStatus(backendStatus uint16, more bool) uint16 {
	st := backendStatus &^ (wire.StatusAutocommit | wire.StatusInTrans | wire.StatusInTransReadonly | wire.StatusSessionStateChgd | wire.StatusMoreResults)
	st |= s.status()
	if more {
		st |= wire.StatusMoreResults
	}
	return st
}

func (s *Session) writeOK(ok wire.OK) error {
	ok.Status = s.patchStatus(ok.Status, false)
	return s.io.WritePacket(wire.AppendOK(nil, ok))
}

// writeError sends an error packet; the returned error is only ever an I/O
// failure, so a failed statement does not end the session.
func (s *Session) writeError(e *wire.Error) error {
	if msg := s.topo().logicalMessage(e.Message); msg != e.Message {
		e = &wire.Error{Code: e.Code, SQLState: e.SQLState, Message: msg}
	}
	s.noteError(e.Code)
	s.keepError(e)
	return s.io.WritePacket(wire.AppendError(nil, e))
}

// useSchema makes name the session's current logical schema.
func (s *Session) useSchema(name string) *wire.Error {
	t := s.topo()
	if err := checkSchemaAccess(t, t.users[s.user], name); err != nil {
		return err
	}
	s.schemaName = t.schema(name).name
	return nil
}

// currentSchema returns the session's schema or a 1046 error.
func (s *Session) currentSchema() (*schema, *wire.Error) {
	if s.schemaName == "" {
		return nil, errorf(erNoDB, "No database selected: run USE <schema> or name the schema in the connection string")
	}
	sc := s.topo().schema(s.schemaName)
	if sc == nil {
		return nil, errorf(erBadDB, "Unknown database '%s' (it was removed from the configuration)", s.schemaName)
	}
	return sc, nil
}

// resetSession implements COM_RESET_CONNECTION.
func (s *Session) resetSession() {
	s.rollbackAll()
	s.forgetWarnings()
	s.closePinned()
	s.state.Reset()
	s.setHandshakeState()
	s.autocommit = true
	s.lastInsertID = 0
	s.lastvals = nil
	for id := range s.stmts {
		delete(s.stmts, id)
	}
}

// beginStatement registers the running statement so that KILL QUERY can
// cancel it. Without max_execution_time one context serves statement after
// statement until one is cancelled: a context per statement was a third of
// the proxy's allocations.
func (s *Session) beginStatement(info string) context.Context {
	s.keepsDiagnostics = false
	s.outsideTx = false
	var ctx context.Context
	var cancel context.CancelFunc
	own := false
	if max := s.topo().cfg.MaxExecutionTime; max > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), max)
		own = true
	} else {
		if s.stmtCtx == nil || s.stmtCtx.Err() != nil {
			s.stmtCtx = newStatementContext()
			s.stmtCancel = s.stmtCtx.cancel
		}
		ctx, cancel = s.stmtCtx, s.stmtCancel
	}
	s.mu.Lock()
	s.cancel, s.ownCancel, s.busy, s.info, s.infoDB = cancel, own, true, info, s.schemaName
	s.mu.Unlock()
	return ctx
}

func (s *Session) endStatement() {
	s.mu.Lock()
	if s.ownCancel {
		s.cancel() // the statement's own timeout context
	}
	s.cancel, s.busy, s.info = nil, false, ""
	s.mu.Unlock()
}

// kill cancels the running statement; with connection also closes the client.
func (s *Session) kill(queryOnly bool) {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	if !queryOnly {
		s.killed.Store(true)
		_ = s.io.Close()
	}
}

// drain asks the session to end once its transaction (if any) is over.
func (s *Session) drain() {
	s.draining.Store(true)
	s.mu.Lock()
	idle := !s.busy && !s.txOpen.Load()
	s.mu.Unlock()
	if idle {
		// Wake the read loop; nothing is running.
		_ = s.io.Conn().SetReadDeadline(time.Now())
	}
}

func (s *Session) killSession(id uint32, queryOnly bool) error {
	v, ok := s.srv.sessions.Load(id)
	if !ok {
		return s.writeError(errorf(erNoSuchThread, "Unknown thread id: %d", id))
	}
	target := v.(*Session)
	if target.user != s.user {
		return s.writeError(errorf(erNoSuchThread, "You are not owner of thread %d", id))
	}
	if target == s && !queryOnly {
		s.killed.Store(true)
		_ = s.writeOK(wire.OK{})
		_ = s.io.Flush()
		return fmt.Errorf("connection killed by its own client")
	}
	target.kill(queryOnly)
	return s.writeOK(wire.OK{})
}

// cleanup releases every backend connection when the client goes away: an
// open transaction is rolled back, never left for the next user of the pool.
func (s *Session) cleanup() {
	s.rollbackAll()
	s.forgetWarnings()
	s.closePinned()
}

// forgetWarnings drops the last statement's warnings: a new one begins.
func (s *Session) forgetWarnings() {
	s.diagnostics, s.lastWarnings = nil, 0
	if s.warnConn != nil {
		s.warnConn.Pool().Put(s.warnConn)
		s.warnConn = nil
	}
}

// setHandshakeState gives the session what the client asked for in the
// handshake. MySQL 8 clients ask for utf8mb4_0900_ai_ci, which MariaDB does
// not have; MariaDB then uses its default, and so does the proxy. A client
// that sets CLIENT_IGNORE_SPACE (MariaDB Connector/J does) gets IGNORE_SPACE
// added to the server's sql_mode, as MariaDB adds it.
func (s *Session) setHandshakeState() {
	s.setParseMode(0)
	if s.capability&wire.ClientIgnoreSpace != 0 {
		s.state.Set("@@sql_mode", "CONCAT_WS(',', NULLIF(@@global.sql_mode, ''), 'IGNORE_SPACE')")
		s.setParseMode(mysql.ModeIgnoreSpace)
	}
	if name, ok := s.handshakeCollation(); ok && name != "utf8mb4_general_ci" {
		s.state.Set(backend.NamesVar, charsetOf(name)+" COLLATE "+name)
	}
}

// handshakeCollation is the collation the client asked for in the
// handshake, false when MariaDB does not have it and uses its default.
func (s *Session) handshakeCollation() (string, bool) {
	name, ok := collationName(uint16(s.charset))
	return name, ok && !strings.Contains(name, "_0900_")
}

func charsetOf(collation string) string {
	if i := strings.IndexByte(collation, '_'); i > 0 {
		return collation[:i]
	}
	return collation
}

// sqlParser returns the session's parser, made on first use: it weighs
// about 14 KiB, which an idle or cache-served session need not carry.
func (s *Session) sqlParser() *parser.Parser {
	if s.parser == nil {
		s.parser = newParser()
		s.parser.SetSQLMode(s.parseMode)
	}
	return s.parser
}
