// Package backend owns connections to MariaDB/MySQL servers: dialing, pools,
// session-state replay and per-connection prepared statements.
package backend

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardproxy/shardproxy/wire"
)

// Commands the proxy sends to backends.
const (
	ComQuit        = 0x01
	ComInitDB      = 0x02
	ComQuery       = 0x03
	ComFieldList   = 0x04
	ComPing        = 0x0e
	ComStmtPrepare = 0x16
	ComStmtExecute = 0x17
	ComStmtClose   = 0x19
	ComStmtReset   = 0x1a
)

// defaultCollation is what every backend connection starts with; sessions
// that want another charset replay SET NAMES.
const defaultCollation = "utf8mb4_general_ci"

// Conn is one connection to a backend server. It is used by one session at a
// time; the pool hands it out and takes it back.
type Conn struct {
	io        *wire.PacketIO
	addr      string // of the server, for errors: a connection may have no pool (KILL, probes)
	pool      *Pool
	ServerID  uint32 // the backend's connection id, for KILL QUERY
	foundRows bool

	// infile is the file of the LOAD DATA LOCAL that LoadLocal runs.
	infile io.Reader

	db       string
	stateKey string
	vars     map[string]string
	stmts    map[stmtKey]*Stmt

	broken   bool
	idleFrom time.Time
	// ahead is a statement that goes out in the same write as the next
	// command (SendAhead); its reply is read before that command's.
	ahead string
	// serverIdleLimit is the connection's wait_timeout (0: unknown): the
	// server closes it after that long idle. serverWaitTimeout is the
	// server's own, learnt at dial; a session's SET overrides it.
	serverIdleLimit   time.Duration
	serverWaitTimeout time.Duration
	scratch           []byte
	scratchAhead      []byte // SendAhead's packet: scratch may hold the command
	// cacheMetadata: the server skips column definitions of prepared
	// statements' results that did not change (MariaDB's extended
	// capability, negotiated at dial).
	cacheMetadata bool

	// Watch's callbacks, bound once: a closure per statement was a third
	// of the proxy's allocations.
	onCancel     func() // interrupt the I/O
	onCancelKill func() // KILL QUERY on the server, which answers (outermost exchange)
	// onCancelKillAbrupt interrupts the I/O and sends KILL QUERY (an
	// exchange nested in another: the connection is given up).
	onCancelKillAbrupt func()
	unwatch            func()
	endIOFunc          func()
	stopWatch          func() bool // the outermost Watch's registration
	// killWatch: the outermost exchange stops its statement on the server
	// when cancelled, and the connection stays in step. onCancelKill runs
	// on its own goroutine: cancel says whether it took the exchange, and
	// cancelDone when it is done with it.
	killWatch  bool
	cancel     atomic.Uint32 // cancelIdle, cancelArmed or cancelClaimed
	cancelDone chan struct{}

	// ioDepth nests the exchanges in progress (only the goroutine using the
	// connection touches it); while it is above zero the pool's liveness
	// monitor watches the connection.
	ioDepth int
	// ioSince is when the current exchange began (nanotime), 0 between
	// exchanges; the liveness monitor reads it.
	ioSince atomic.Int64
	// abandoned is set by the liveness monitor when the server stopped
	// answering under an exchange; the connection is then discarded.
	abandoned atomic.Bool
}

// dial opens and authenticates a connection. go-mysql's client does the
// handshake and auth; after that the proxy drives the socket itself so result
// packets can be relayed without decoding.
//
// The whole exchange, TCP connect to the end of authentication, is bounded
// by timeout and by ctx: a server that accepts connections but answers
// nothing (stopped, swapping, wedged) must not hold the caller forever.
func dial(ctx context.Context, addr, user, password string, foundRows bool, timeout time.Duration) (*Conn, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var g dialGuard
	var ext *extCapsConn
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		nc, err := (&net.Dialer{Deadline: deadline}).DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		// go-mysql's handshake sets no deadline of its own.
		if err := nc.SetDeadline(deadline); err != nil {
			nc.Close()
			return nil, err
		}
		g.set(nc)
		ext = &extCapsConn{Conn: nc}
		return ext, nil
	}
	var stopWatch func() bool
	if ctx.Done() != nil {
		stopWatch = context.AfterFunc(ctx, g.interrupt)
	}
	cc, err := client.ConnectWithDialer(ctx, "", addr, user, password, "", dialer, func(c *client.Conn) error {
		// Clients of the proxy get EOF-terminated result sets; backends must
		// send the same framing so packets relay unchanged.
		c.UnsetCapability(mysql.CLIENT_DEPRECATE_EOF)
		c.UnsetCapability(mysql.CLIENT_SESSION_TRACK)
		c.UnsetCapability(mysql.CLIENT_QUERY_ATTRIBUTES)
		if err := c.SetCapability(mysql.CLIENT_MULTI_RESULTS); err != nil {
			return err
		}
		// Statements the proxy cannot parse are passed whole on pass-through
		// schemas, and those may be several (a procedure and its DROP).
		if err := c.SetCapability(mysql.CLIENT_MULTI_STATEMENTS); err != nil {
			return err
		}
		if err := c.SetCapability(mysql.CLIENT_PS_MULTI_RESULTS); err != nil {
			return err
		}
		if err := c.SetCapability(mysql.CLIENT_LOCAL_FILES); err != nil {
			return err
		}
		if foundRows {
			if err := c.SetCapability(mysql.CLIENT_FOUND_ROWS); err != nil {
				return err
			}
		}
		return c.SetCollation(defaultCollation)
	})
	interrupted := stopWatch != nil && !stopWatch()
	if err == nil && interrupted {
		cc.Close()
		err = ctx.Err()
	}
	if err != nil {
		err = unwrapMySQL(err)
		var we *wire.Error
		switch {
		case errors.As(err, &we):
		case errors.Is(ctx.Err(), context.Canceled):
			err = ctx.Err()
		case !time.Now().Before(deadline):
			// go-mysql's errors hide the timeout; the deadline says it.
			err = fmt.Errorf("no answer within %v: %w", deadline.Sub(start).Round(time.Millisecond), context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("connect to backend %s: %w", addr, err)
	}
	nc := cc.Conn.Conn
	if ext != nil && nc == net.Conn(ext) {
		nc = ext.Conn
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		cc.Close()
		return nil, fmt.Errorf("connect to backend %s: %w", addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &Conn{
		io:        wire.NewRequestIO(nc),
		addr:      addr,
		ServerID:  cc.GetConnectionID(),
		foundRows: foundRows,
		vars:      map[string]string{},
		stmts:     map[stmtKey]*Stmt{},
	}
	c.cacheMetadata = ext != nil && ext.negotiated
	c.io.MaxPacket = 1 << 30
	return c, nil
}

// ColumnCount reads a result set's column-count packet: the count, and
// whether the column definitions follow (not when the server skipped
// unchanged ones of a prepared statement, see cacheMetadata).
func (c *Conn) ColumnCount(p []byte) (n int, defsFollow bool, err error) {
	count, _, m := wire.ReadLenEncInt(p)
	if m == 0 || c.cacheMetadata && len(p) <= m {
		c.broken = true
		return 0, false, fmt.Errorf("backend %s: malformed column count", c.addr)
	}
	return int(count), !c.cacheMetadata || p[m] != 0, nil
}

// CachesMetadata reports whether the server may skip unchanged column
// definitions of prepared statements' results.
func (c *Conn) CachesMetadata() bool { return c.cacheMetadata }

// extCapsConn asks a MariaDB server for metadata caching during the
// handshake, which go-mysql's client cannot: it reads the server's
// extended capabilities from the greeting and writes the proxy's into the
// handshake response. Used only until the handshake ends.
type extCapsConn struct {
	net.Conn
	greeting   []byte
	serverExt  uint32
	responded  bool
	negotiated bool
}

func (e *extCapsConn) Read(p []byte) (int, error) {
	n, err := e.Conn.Read(p)
	if !e.responded && n > 0 && len(e.greeting) < 1024 {
		e.greeting = append(e.greeting, p[:n]...)
	}
	return n, err
}

func (e *extCapsConn) Write(p []byte) (int, error) {
	if !e.responded {
		e.responded = true
		e.patchResponse(p)
	}
	return e.Conn.Write(p)
}

// patchResponse sets the extended capabilities in the handshake response
// (header included) when the greeting offered metadata caching.
func (e *extCapsConn) patchResponse(p []byte) {
	low, _, ext, ok := wire.GreetingCaps(e.greeting)
	if !ok || binary.LittleEndian.Uint16(e.greeting[low:])&uint16(wire.ClientMySQL) != 0 {
		return // a MySQL server: no extended capabilities
	}
	if binary.LittleEndian.Uint32(e.greeting[ext:])&wire.MariaDBCacheMetadata == 0 {
		return
	}
	at := 4 + wire.ExtCapsResponseOffset
	if len(p) < at+4 || p[3] != 1 || binary.LittleEndian.Uint32(p[4:])&wire.ClientSSL != 0 {
		return // not the response we know (or TLS, which go-mysql does not use here)
	}
	p[4] &^= byte(wire.ClientMySQL)
	binary.LittleEndian.PutUint32(p[at:], wire.MariaDBCacheMetadata)
	e.negotiated = true
}

// dialGuard lets ctx cancellation interrupt a handshake in progress.
type dialGuard struct {
	mu          sync.Mutex
	nc          net.Conn
	interrupted bool
}

func (g *dialGuard) set(nc net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nc = nc
	if g.interrupted {
		_ = nc.SetDeadline(time.Unix(1, 0))
	}
}

func (g *dialGuard) interrupt() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.interrupted = true
	if g.nc != nil {
		_ = g.nc.SetDeadline(time.Unix(1, 0))
	}
}

// unwrapMySQL turns go-mysql's error into a wire.Error when it carries a code.
func unwrapMySQL(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &wire.Error{Code: me.Code, SQLState: me.State, Message: me.Message}
	}
	return err
}

// Pool returns the pool the connection belongs to.
func (c *Conn) Pool() *Pool { return c.pool }

// Addr is the backend's address.
func (c *Conn) Addr() string { return c.addr }

// MarkBroken makes the pool discard the connection when it is returned: its
// protocol state is unknown (an error mid-result, a cancelled statement).
func (c *Conn) MarkBroken() { c.broken = true }

// Broken reports whether the connection must not be reused.
func (c *Conn) Broken() bool { return c.broken }

// WriteCommand sends a command packet (cmd byte + payload) whose reply is
// read next.
func (c *Conn) WriteCommand(cmd byte, payload []byte) error {
	c.scratch = append(append(c.scratch[:0], cmd), payload...)
	return c.WriteRaw(c.scratch)
}

// WriteCommandString is WriteCommand for text payloads.
func (c *Conn) WriteCommandString(cmd byte, payload string) error {
	c.scratch = append(append(c.scratch[:0], cmd), payload...)
	return c.WriteRaw(c.scratch)
}

// SendCommandString sends a command without starting to wait for its
// reply: for commands without one, and for statements sent to several
// connections before any reply is read.
func (c *Conn) SendCommandString(cmd byte, payload string) error {
	c.scratch = append(append(c.scratch[:0], cmd), payload...)
	return c.send(c.scratch, false)
}

// WriteRaw sends a complete command payload (starting with the command
// byte) whose reply is read next. The send also starts waiting for the
// reply (wire.PacketIO.FlushAwaitReply); a failure of that wait comes back
// here as it would from ReadPacket.
func (c *Conn) WriteRaw(packet []byte) error { return c.send(packet, true) }

// SendAhead makes sql, a statement whose reply is an OK packet, go out in
// the same write as the next command: the server runs the two in turn, and
// the round trip of its own is saved. It is for START TRANSACTION on a
// connection the pool just handed out. Its error comes back from that
// next command's send, with the connection broken; the command may have
// run by then, outside the transaction, so only statements that fail on a
// working connection only when the command after them would fail too
// belong here.
func (c *Conn) SendAhead(sql string) { c.ahead = sql }

func (c *Conn) send(packet []byte, awaitReply bool) error {
	c.beginIO()
	defer c.endIO()
	ahead := c.ahead
	if ahead != "" {
		c.ahead = ""
		c.io.SetSeq(0)
		c.scratchAhead = append(append(c.scratchAhead[:0], ComQuery), ahead...)
		if err := c.io.WritePacket(c.scratchAhead); err != nil {
			c.broken = true
			return err
		}
	}
	c.io.SetSeq(0)
	if err := c.io.WritePacket(packet); err != nil {
		c.broken = true
		return err
	}
	if !awaitReply {
		if err := c.io.Flush(); err != nil {
			c.broken = true
			return err
		}
	} else if err := c.io.FlushAwaitReply(); err != nil {
		return c.readFailed(err)
	}
	if ahead != "" {
		return c.readAheadReply()
	}
	return nil
}

// readAheadReply reads the reply to the statement sent ahead, leaving the
// command's reply to be read next.
func (c *Conn) readAheadReply() error {
	p, err := c.io.ReadPacket()
	if err != nil {
		return c.readFailed(err)
	}
	if p[0] != wire.OKHeader {
		c.broken = true
		if p[0] == wire.ErrHeader {
			return wire.ParseError(p)
		}
		return fmt.Errorf("backend %s: unexpected reply to a statement sent ahead", c.addr)
	}
	// The command's reply is numbered from 1, as if sent alone.
	c.io.SetSeq(1)
	return nil
}

// WriteContinued sends a packet that continues the current exchange (the
// file of LOAD DATA LOCAL INFILE), keeping the sequence.
func (c *Conn) WriteContinued(p []byte) error {
	if err := c.io.WritePacket(p); err != nil {
		c.broken = true
		return err
	}
	if len(p) > 0 {
		return nil
	}
	if err := c.io.Flush(); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// LoadLocal runs a LOAD DATA LOCAL INFILE statement and sends file when
// the server asks for its file.
func (c *Conn) LoadLocal(ctx context.Context, sql string, file io.Reader) (*Result, error) {
	c.infile = file
	defer func() { c.infile = nil }()
	return c.Exec(ctx, sql)
}

// sendFile sends LoadLocal's file, or an empty one, in packets, and the
// empty packet that ends it.
func (c *Conn) sendFile() error {
	if c.infile != nil {
		buf := make([]byte, 64<<10)
		for {
			n, err := io.ReadFull(c.infile, buf)
			if n > 0 {
				if werr := c.WriteContinued(buf[:n]); werr != nil {
					return werr
				}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				// The server waits for the rest of a file that cannot be
				// read: the exchange cannot end well.
				c.broken = true
				return err
			}
		}
	}
	return c.WriteContinued(nil)
}

// ReadPacket reads the next response packet; it is valid until the next read.
func (c *Conn) ReadPacket() ([]byte, error) {
	p, err := c.io.ReadPacket()
	if err != nil {
		return nil, c.readFailed(err)
	}
	return p, nil
}

// RelayRows copies the row packets already read to dst as they are
// (wire.PacketIO.RelayRows); errors are dst's.
func (c *Conn) RelayRows(dst *wire.PacketIO) (int, error) { return c.io.RelayRows(dst) }

// readFailed marks the connection broken and names the failure.
func (c *Conn) readFailed(err error) error {
	c.broken = true
	if c.abandoned.Load() {
		return c.pool.notAnswering()
	}
	return fmt.Errorf("backend %s: %w", c.addr, err)
}

// SetDeadline bounds the next reads and writes (zero time clears it).
func (c *Conn) SetDeadline(t time.Time) error { return c.io.Conn().SetDeadline(t) }

// Close closes the socket without returning it to the pool.
func (c *Conn) Close() {
	c.broken = true
	_ = c.io.Close()
	if c.pool != nil {
		c.pool.untrack(c)
	}
}

// reusable reports whether an idle connection can serve another statement.
// One near its wait_timeout (the server's, or a session's SET) is dropped
// while part of that timeout is still left: a liveness check cannot see the
// server's close that comes a moment after it.
func (c *Conn) reusable() bool {
	idle := time.Since(c.idleFrom)
	if limit := c.serverIdleLimit; limit > 0 && idle >= limit-min(limit/2, time.Second) {
		return false
	}
	return idle < time.Second || c.alive()
}

// alive reports whether an idle connection was not closed by the server
// (restart, wait_timeout): a pending EOF shows up as an immediate read result.
func (c *Conn) alive() bool {
	nc := c.io.Conn()
	if err := nc.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		return false
	}
	var one [1]byte
	_, err := nc.Read(one[:])
	_ = nc.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Result is the outcome of a statement whose rows the caller does not relay.
type Result struct {
	OK     wire.OK
	Fields []wire.Field
	Rows   [][][]byte
}

// Exec runs a statement and collects its (small) result. Backend errors come
// back as *wire.Error; the connection stays usable after them.
func (c *Conn) Exec(ctx context.Context, sql string) (*Result, error) {
	return c.exec(ctx, sql, true)
}

// exec is Exec; kill says whether cancellation also stops the statement on
// the server (not for the proxy's own short probes and KILLs).
func (c *Conn) exec(ctx context.Context, sql string, kill bool) (*Result, error) {
	stop := c.watch(ctx, kill)
	defer stop()
	if err := c.WriteCommandString(ComQuery, sql); err != nil {
		return nil, err
	}
	return c.readResult()
}

// Watch makes ctx cancellation interrupt blocking socket I/O and stop the
// statement on the server; call the returned function when the I/O is over.
// Until then the pool's liveness monitor also abandons the exchange if the
// server stops answering, whether or not ctx has a deadline.
func (c *Conn) Watch(ctx context.Context) func() { return c.watch(ctx, true) }

func (c *Conn) watch(ctx context.Context, kill bool) func() {
	if c.unwatch == nil {
		c.bindWatch()
	}
	c.beginIO()
	outermost := c.ioDepth == 1
	var stop func() bool
	if ctx.Done() != nil {
		onCancel := c.onCancel
		switch {
		case kill && outermost:
			onCancel = c.onCancelKill
			// Armed first: a context already cancelled runs it at once.
			c.cancel.Store(cancelArmed)
		case kill:
			onCancel = c.onCancelKillAbrupt
		}
		if af, ok := ctx.(afterFuncer); ok {
			stop = af.AfterFunc(onCancel)
		} else {
			stop = context.AfterFunc(ctx, onCancel)
		}
	}
	if outermost {
		c.stopWatch = stop
		c.killWatch = kill && stop != nil
		return c.unwatch
	}
	// Nested inside another exchange: the outer one's registration stays.
	if stop == nil {
		return c.endIOFunc
	}
	return func() {
		if !stop() {
			c.broken = true
		}
		c.endIO()
	}
}

// afterFuncer is a context with its own AfterFunc, as context.AfterFunc
// itself looks for; the proxy's statement contexts register without
// allocating that way.
type afterFuncer interface {
	AfterFunc(f func()) (stop func() bool)
}

// awaitExchangeEnd reports, within d, whether the exchange a cancellation
// claimed is over.
func (c *Conn) awaitExchangeEnd(d time.Duration) bool {
	const step = 10 * time.Millisecond
	for waited := time.Duration(0); waited < d; waited += step {
		if c.cancel.Load() != cancelClaimed {
			return true
		}
		time.Sleep(step)
	}
	return c.cancel.Load() != cancelClaimed
}

// States of Conn.cancel.
const (
	cancelIdle uint32 = iota
	cancelArmed
	cancelClaimed
)

func (c *Conn) bindWatch() {
	c.onCancel = func() { _ = c.SetDeadline(time.Unix(1, 0)) }
	c.onCancelKillAbrupt = func() {
		_ = c.SetDeadline(time.Unix(1, 0))
		if c.pool != nil {
			go c.pool.killQuery(c.ServerID)
		}
	}
	c.cancelDone = make(chan struct{}, 1)
	c.onCancelKill = func() {
		if !c.cancel.CompareAndSwap(cancelArmed, cancelClaimed) {
			return // the exchange is over
		}
		// The server stops the statement and answers with its error, so
		// the connection stays in step, and with it a transaction, as
		// KILL QUERY leaves a MariaDB client's. One that does not answer
		// in time loses the connection.
		_ = c.SetDeadline(time.Now().Add(killAnswerTimeout))
		// A KILL that reaches the server before the statement finds
		// nothing to stop: it goes again until the exchange is over (its
		// answer read, or its deadline passed). The exchange cannot end
		// into another statement: unwatch waits for cancelDone.
		for c.pool != nil {
			c.pool.killQuery(c.ServerID)
			if c.awaitExchangeEnd(killRetryInterval) {
				break
			}
		}
		c.cancelDone <- struct{}{}
	}
	c.endIOFunc = c.endIO
	c.unwatch = func() {
		if stop := c.stopWatch; stop != nil {
			c.stopWatch = nil
			fired := !stop()
			switch {
			case c.killWatch:
				c.killWatch = false
				if c.cancel.Swap(cancelIdle) == cancelClaimed && !c.broken {
					// The server answered: wait for the KILL, which must
					// not reach the connection's next statement. (A
					// connection whose read timed out is discarded.)
					<-c.cancelDone
					_ = c.SetDeadline(time.Time{})
				}
			case fired:
				c.broken = true
			}
		}
		c.endIO()
	}
}

func (c *Conn) readResult() (*Result, error) {
	res := &Result{}
	var firstErr error
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		more := false
		switch p[0] {
		case wire.OKHeader:
			ok, _ := wire.ParseOK(p)
			res.OK = ok
			more = ok.Status&wire.StatusMoreResults != 0
		case wire.ErrHeader:
			if firstErr == nil {
				firstErr = wire.ParseError(p)
			}
		case wire.LocalInfileHeader:
			// The proxy's own statements read no files (an empty one is
			// sent), but LoadLocal's.
			if err := c.sendFile(); err != nil {
				return nil, err
			}
			continue
		default:
			status, err := c.readRows(p, res)
			if err != nil {
				if _, ok := err.(*wire.Error); ok && firstErr == nil {
					firstErr = err
					break
				}
				return nil, err
			}
			more = status&wire.StatusMoreResults != 0
		}
		if !more {
			break
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

// readRows reads column definitions and rows after the column-count packet.
func (c *Conn) readRows(countPacket []byte, res *Result) (uint16, error) {
	n, defsFollow, err := c.ColumnCount(countPacket)
	if err != nil {
		return 0, err
	}
	if !defsFollow {
		c.broken = true
		return 0, fmt.Errorf("backend %s: a text result without column definitions", c.addr)
	}
	res.Fields = make([]wire.Field, 0, n)
	for i := 0; i < n; i++ {
		p, err := c.ReadPacket()
		if err != nil {
			return 0, err
		}
		f, ok := wire.ParseField(append([]byte(nil), p...))
		if !ok {
			c.broken = true
			return 0, fmt.Errorf("backend %s: malformed column definition", c.addr)
		}
		res.Fields = append(res.Fields, f)
	}
	if p, err := c.ReadPacket(); err != nil {
		return 0, err
	} else if !wire.IsEOF(p) {
		c.broken = true
		return 0, fmt.Errorf("backend %s: expected EOF after column definitions", c.addr)
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return 0, err
		}
		if wire.IsEOF(p) {
			_, status := wire.EOFStatus(p)
			return status, nil
		}
		if p[0] == wire.ErrHeader {
			return 0, wire.ParseError(p)
		}
		vals, ok := wire.RowValues(nil, append([]byte(nil), p...), int(n))
		if !ok {
			c.broken = true
			return 0, fmt.Errorf("backend %s: malformed row", c.addr)
		}
		res.Rows = append(res.Rows, vals)
	}
}

// UseDB makes db the connection's current database.
func (c *Conn) UseDB(ctx context.Context, db string) error {
	if c.db == db {
		return nil
	}
	stop := c.Watch(ctx)
	defer stop()
	if err := c.WriteCommandString(ComInitDB, db); err != nil {
		return err
	}
	if _, err := c.readResult(); err != nil {
		return err
	}
	c.db = db
	return nil
}

// DB is the connection's current database.
func (c *Conn) DB() string { return c.db }

// ApplyState replays the session's variables onto this connection, setting
// only what differs and resetting what a previous session left behind.
func (c *Conn) ApplyState(ctx context.Context, s *State) error {
	if c.stateKey == s.Key() {
		return nil
	}
	var sets []string
	var names string
	want := s.vars()
	for name, val := range want {
		if c.vars[name] == val {
			continue
		}
		if name == NamesVar {
			names = val
			continue
		}
		sets = append(sets, assignTarget(name)+" = "+val)
	}
	for name := range c.vars {
		if _, ok := want[name]; ok {
			continue
		}
		if name == NamesVar {
			names = "utf8mb4 COLLATE " + defaultCollation
			continue
		}
		sets = append(sets, assignTarget(name)+" = "+resetValue(name))
	}
	if names != "" {
		if _, err := c.Exec(ctx, "SET NAMES "+names); err != nil {
			return err
		}
	}
	if len(sets) > 0 {
		if _, err := c.Exec(ctx, "SET "+strings.Join(sets, ", ")); err != nil {
			return err
		}
	}
	c.AdoptState(s)
	return nil
}

// assignTarget names a variable for SET. System variables get an explicit
// SESSION scope: without it, SET @@tx_isolation and SET @@tx_read_only only
// affect the next transaction.
func assignTarget(name string) string {
	if strings.HasPrefix(name, "@@") {
		return "@@session." + name[2:]
	}
	return name
}

// sessionOnly are variables without a global value to reset to.
var sessionOnly = map[string]bool{
	"@@timestamp": true, "@@insert_id": true, "@@last_insert_id": true, "@@identity": true,
	"@@rand_seed1": true, "@@rand_seed2": true, "@@pseudo_thread_id": true, "@@gtid_seq_no": true,
	"@@skip_replication": true, "@@check_constraint_checks": true, "@@last_gtid": true,
}

// resetValue is what a variable goes back to when the next session did not
// set it: the server's global value (DEFAULT is not that for every variable:
// MariaDB keeps tx_read_only at 1 after SET tx_read_only = DEFAULT).
func resetValue(name string) string {
	switch {
	case !strings.HasPrefix(name, "@@"):
		return "NULL"
	case sessionOnly[name]:
		return "DEFAULT"
	default:
		return "@@global." + name[2:]
	}
}

// AdoptState records that the connection already has the session's state
// (the session's SET ran on it).
func (c *Conn) AdoptState(s *State) {
	c.vars = make(map[string]string, len(s.vars()))
	for k, v := range s.vars() {
		c.vars[k] = v
	}
	c.stateKey = s.Key()
	c.serverIdleLimit = c.serverWaitTimeout
	if d, ok := s.Seconds("@@wait_timeout"); ok {
		c.serverIdleLimit = d
	}
}

// learnWaitTimeout reads the server's wait_timeout for the connection, so
// that the pool does not hand it out just as the server closes it.
func (c *Conn) learnWaitTimeout(ctx context.Context) error {
	res, err := c.exec(ctx, "SELECT @@wait_timeout", false)
	if err != nil {
		return err
	}
	if len(res.Rows) == 1 && len(res.Rows[0]) == 1 {
		c.serverWaitTimeout, _ = parseSeconds(string(res.Rows[0][0]))
		c.serverIdleLimit = c.serverWaitTimeout
	}
	return nil
}
