package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/wire"
)

// The engine reads shard streams one row at a time from the session's
// goroutine. Each shard's rows are read by a goroutine of its own into a
// few reusable batches, so the shards send while the merge works and no
// row costs an allocation.
const (
	batchesPerShard = 3
	batchBytes      = 32 << 10
	batchRows       = 512
	// After an early Close (LIMIT reached, client gone) the rest of a
	// shard's answer is read and dropped for this long, then the backend
	// is told to stop the query; the connection stays usable either way.
	drainBeforeKill = 50 * time.Millisecond
	// A backend that does not finish within this after Close loses the
	// connection.
	drainTimeout = 5 * time.Second
)

// shardSet opens the per-shard statements of one scatter SELECT.
type shardSet struct {
	s       *Session
	sc      *schema
	rt      *router.Route
	params  []router.Value
	maxRows int
	// fanIn, when set, receives every streaming shard's batches in the
	// order they fill, for a relay that does not care which shard is next.
	fanIn    chan *rowBatch
	warnings *diagnostics // what the shards reported at the end of their rows
	// inOrder: each shard's rows are read whole before the next shard
	// runs, in target order. Locking reads need it: two that lock in the
	// same order wait for each other instead of each holding a node's
	// locks the other wants, a deadlock no server would see.
	inOrder bool
}

// Open runs every target's statement and returns their streams in target
// order. The engine's sql is the route's text before schema names were
// mapped to each shard's database; the targets carry the mapped texts.
func (ss *shardSet) Open(ctx context.Context, _ string) ([]engine.Stream, error) {
	s, sc := ss.s, ss.sc
	read := ss.rt.Read && !ss.rt.Primary
	n := len(ss.rt.Targets)
	conns := make([]*backend.Conn, n)
	sqls := make([]string, n)
	fail := func(err error) ([]engine.Stream, error) {
		for _, c := range conns {
			if c != nil {
				s.release(c, 0)
			}
		}
		return nil, err
	}
	for i, t := range ss.rt.Targets {
		sql, err := t.Inline(ss.params)
		if err != nil {
			return fail(err)
		}
		sqls[i] = sql
	}
	if err := ss.acquireAll(ctx, conns, read); err != nil {
		return fail(err)
	}
	// A transaction has one connection per node, so shards on one node
	// share it and must run one after another: all but the last are read
	// into memory first (capped like any merge that holds rows).
	last := make(map[*backend.Conn]int, n)
	for i, c := range conns {
		last[c] = i
	}
	streamed := func(i int) bool { return !ss.inOrder && last[conns[i]] == i }
	streams := make([]engine.Stream, n)
	closeAll := func(err error) ([]engine.Stream, error) {
		for i, st := range streams {
			if st != nil {
				st.Close()
			} else if last[conns[i]] == i {
				s.release(conns[i], 0)
			}
		}
		return nil, err
	}
	for i, c := range conns {
		if streamed(i) {
			continue
		}
		st, err := ss.readAll(ctx, c, ss.rt.Targets[i].Shard, sqls[i])
		if err != nil {
			return closeAll(err)
		}
		streams[i] = st
		if last[c] == i {
			s.release(c, 0) // read in order: no stream goes on with it
		}
	}
	// The rest stream: send every statement first so that the shards work
	// at the same time, then read each answer's column definitions.
	var firstErr error
	sent := make([]bool, n)
	for i, c := range conns {
		if !streamed(i) {
			continue
		}
		err := c.UseDB(ctx, sc.shards[ss.rt.Targets[i].Shard].db)
		if err == nil {
			err = c.SendCommandString(backend.ComQuery, sqls[i])
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		sent[i] = true
	}
	for i, c := range conns {
		if !streamed(i) {
			continue
		}
		if !sent[i] {
			s.release(c, 0)
			streams[i] = closedStream{}
			continue
		}
		st, err := ss.startStream(ctx, c, ss.rt.Targets[i].Shard)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			streams[i] = closedStream{}
			continue
		}
		streams[i] = st
	}
	if firstErr != nil {
		return closeAll(firstErr)
	}
	return streams, nil
}

// acquireAll takes each target's connection into conns, node by node in
// the order of the nodes' names, all of a node's under its Several lock:
// no two statements then wait for each other's connections.
func (ss *shardSet) acquireAll(ctx context.Context, conns []*backend.Conn, read bool) error {
	targets, sc := ss.rt.Targets, ss.sc
	nodeOf := func(i int) *backend.Node { return sc.shards[targets[i].Shard].node }
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(nodeOf(a).Name, nodeOf(b).Name) })
	for start := 0; start < len(order); {
		node, end := nodeOf(order[start]), start+1
		for end < len(order) && nodeOf(order[end]) == node {
			end++
		}
		if err := ss.acquireOnNode(ctx, node, order[start:end], conns, read); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// acquireOnNode takes the connections of targets on one node.
func (ss *shardSet) acquireOnNode(ctx context.Context, node *backend.Node, targets []int, conns []*backend.Conn, read bool) error {
	if len(targets) > 1 {
		node.Several.Lock()
		defer node.Several.Unlock()
	}
	for _, i := range targets {
		c, err := ss.s.acquire(ctx, ss.sc, ss.rt.Targets[i].Shard, read)
		if err != nil {
			return err
		}
		conns[i] = c
	}
	return nil
}

// closedStream stands in for a shard whose statement failed to start.
type closedStream struct{}

func (closedStream) Fields() []wire.Field    { return nil }
func (closedStream) Next() ([][]byte, error) { return nil, io.EOF }
func (closedStream) Close() error            { return nil }

// readHeader reads a result's column definitions, naming the logical
// schema instead of the shard's database.
func (ss *shardSet) readHeader(c *backend.Conn, shard int) ([]wire.Field, error) {
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	switch p[0] {
	case wire.ErrHeader:
		return nil, wire.ParseError(p)
	case wire.OKHeader:
		return nil, fmt.Errorf("backend %s: a SELECT answered without rows", c.Addr())
	}
	count, defsFollow, err := c.ColumnCount(p)
	if err != nil {
		return nil, err
	}
	if !defsFollow {
		c.MarkBroken()
		return nil, fmt.Errorf("backend %s: a text result without column definitions", c.Addr())
	}
	physical := []byte(ss.sc.shards[shard].db)
	fields := make([]wire.Field, 0, count)
	for range count {
		p, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		f, ok := wire.ParseField(bytes.Clone(p))
		if !ok {
			c.MarkBroken()
			return nil, fmt.Errorf("backend %s: malformed column definition", c.Addr())
		}
		if bytes.EqualFold(f.Schema, physical) {
			f.Schema = []byte(ss.sc.name)
		}
		fields = append(fields, f)
	}
	if p, err := c.ReadPacket(); err != nil {
		return nil, err
	} else if !wire.IsEOF(p) {
		c.MarkBroken()
		return nil, fmt.Errorf("backend %s: expected EOF after column definitions", c.Addr())
	}
	return fields, nil
}

// readAll runs sql on a connection the session needs again for another
// shard, and holds its whole answer.
func (ss *shardSet) readAll(ctx context.Context, c *backend.Conn, shard int, sql string) (engine.Stream, error) {
	// The connection's database is the last shard's it was acquired for.
	if err := c.UseDB(ctx, ss.sc.shards[shard].db); err != nil {
		return nil, err
	}
	stop := c.Watch(ctx)
	defer stop()
	if err := c.WriteCommandString(backend.ComQuery, sql); err != nil {
		return nil, err
	}
	fields, err := ss.readHeader(c, shard)
	if err != nil {
		return nil, err
	}
	st := &heldStream{fields: fields}
	var tooMany error
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		if wire.IsEOF(p) {
			count, _ := wire.EOFStatus(p)
			ss.warnings.collect(ctx, c, count)
			break
		}
		if p[0] == wire.ErrHeader {
			return nil, wire.ParseError(p)
		}
		if tooMany != nil {
			continue // read to the end: the connection serves the transaction on
		}
		if len(st.rows) >= ss.maxRows {
			tooMany = errorf(erNotSupported, "this SELECT reaches several shards on one node inside a transaction and needs more than max_merge_rows (%d) rows held in memory; add the shard key to the WHERE clause, run it outside the transaction, or raise max_merge_rows", ss.maxRows)
			st.rows = nil
			continue
		}
		row, ok := wire.RowValues(nil, bytes.Clone(p), len(fields))
		if !ok {
			c.MarkBroken()
			return nil, fmt.Errorf("backend %s: malformed row", c.Addr())
		}
		st.rows = append(st.rows, row)
	}
	if tooMany != nil {
		return nil, tooMany
	}
	ss.s.srv.metrics.ScatterRowsBuffered(len(st.rows))
	return st, nil
}

// heldStream serves rows read in advance.
type heldStream struct {
	fields []wire.Field
	rows   [][][]byte
	next   int
}

func (h *heldStream) Fields() []wire.Field { return h.fields }
func (h *heldStream) Close() error         { h.rows = nil; return nil }
func (h *heldStream) Next() ([][]byte, error) {
	if h.next >= len(h.rows) {
		return nil, io.EOF
	}
	h.next++
	return h.rows[h.next-1], nil
}

// batchPool keeps row batches between scatter statements: a statement
// reaching 4 shards would otherwise allocate 384 KiB of them.
var batchPool = sync.Pool{New: func() any {
	return &rowBatch{buf: make([]byte, 0, batchBytes), ends: make([]int, 0, batchRows)}
}}

// rowBatch is a run of row packets read together.
type rowBatch struct {
	owner *shardStream
	buf   []byte
	ends  []int // end of each row in buf
	eof   bool
	err   error
}

// shardStream is one shard's answer, read by its own goroutine.
type shardStream struct {
	c        *backend.Conn
	fields   []wire.Field
	warnings *diagnostics
	pinned   bool // a transaction's connection: Close waits for it
	release  func()

	batches chan *rowBatch // filled by the reader
	out     chan *rowBatch // where the reader sends: batches, or the set's fanIn
	free    chan *rowBatch // emptied by Next
	cur     *rowBatch
	pos     int
	values  [][]byte
	done    chan struct{} // closed when the reader is finished with c
	ended   bool          // Next saw the end (or an error)
	taken   int           // batches taken from the pool (by the reader)

	// Close from the session's goroutine and the reader's end race on the
	// connection's deadline and the kill; mu orders them.
	mu        sync.Mutex
	finished  bool
	stopping  bool
	stop      chan struct{}
	killing   sync.WaitGroup
	killTimer *time.Timer
	detach    func() bool // stops ctx cancellation reaching the reader
	closed    bool
	// sides counts the reader and the consumer still using the batches; the
	// last to finish returns them to batchPool.
	sides atomic.Int32
}

// sideDone is called once by the reader when it ends and once by Close.
func (st *shardStream) sideDone() {
	if st.sides.Add(-1) != 0 {
		return
	}
	put := func(b *rowBatch) {
		if cap(b.buf) > 2*batchBytes {
			return // grown by a huge row: let it go
		}
		b.owner, b.err, b.eof = nil, nil, false
		b.buf, b.ends = b.buf[:0], b.ends[:0]
		batchPool.Put(b)
	}
	if st.cur != nil {
		put(st.cur)
		st.cur = nil
	}
	for {
		select {
		case b := <-st.free:
			put(b)
		case b := <-st.batches:
			put(b)
		default:
			return
		}
	}
}

// startStream reads the column definitions of a statement already sent on
// c and starts the goroutine that reads its rows.
func (ss *shardSet) startStream(ctx context.Context, c *backend.Conn, shard int) (*shardStream, error) {
	s := ss.s
	stopWatch := c.Watch(ctx)
	fields, err := ss.readHeader(c, shard)
	stopWatch()
	if err != nil {
		s.release(c, 0)
		return nil, err
	}
	st := &shardStream{
		c: c, fields: fields, warnings: ss.warnings, pinned: s.keeps(c),
		batches: make(chan *rowBatch, batchesPerShard),
		free:    make(chan *rowBatch, batchesPerShard),
		done:    make(chan struct{}),
		stop:    make(chan struct{}),
		values:  make([][]byte, 0, len(fields)),
	}
	st.out = st.batches
	if ss.fanIn != nil {
		st.out = ss.fanIn
	}
	st.sides.Store(2)
	if !st.pinned {
		st.release = func() { c.Pool().Put(c) }
	}
	// The statement's context ends when the statement does, but a shard
	// stream closed early is still draining then: cancellation reaches the
	// reader only until Close.
	readCtx, cancelRead := context.WithCancel(context.Background())
	st.detach = context.AfterFunc(ctx, cancelRead)
	go st.read(readCtx, cancelRead)
	return st, nil
}

func (st *shardStream) Fields() []wire.Field { return st.fields }

func (st *shardStream) Next() ([][]byte, error) {
	for {
		if b := st.cur; b != nil {
			if st.pos < len(b.ends) {
				start := 0
				if st.pos > 0 {
					start = b.ends[st.pos-1]
				}
				p := b.buf[start:b.ends[st.pos]]
				st.pos++
				values, ok := wire.RowValues(st.values[:0], p, len(st.fields))
				if !ok {
					st.ended = true
					return nil, fmt.Errorf("backend %s: malformed row", st.c.Addr())
				}
				st.values = values
				return values, nil
			}
			if b.err != nil || b.eof {
				st.ended = true
				if b.err != nil {
					return nil, b.err
				}
				return nil, io.EOF
			}
			st.cur = nil
			st.free <- b
		}
		st.cur, st.pos = <-st.batches, 0
	}
}

// Close ends the stream. Before the end of the answer, the reader drops
// the rest of it and, if that takes long, asks the backend to stop.
func (st *shardStream) Close() error {
	if st.closed {
		return nil
	}
	st.closed = true
	defer st.sideDone()
	st.detach()
	st.mu.Lock()
	if !st.finished && !st.stopping && !st.ended {
		st.stopping = true
		close(st.stop)
		_ = st.c.SetDeadline(time.Now().Add(drainTimeout))
		st.killTimer = time.AfterFunc(drainBeforeKill, st.kill)
	}
	st.mu.Unlock()
	if st.pinned {
		<-st.done
	}
	return nil
}

func (st *shardStream) kill() {
	st.mu.Lock()
	if st.finished {
		st.mu.Unlock()
		return
	}
	st.killing.Add(1)
	st.mu.Unlock()
	defer st.killing.Done()
	st.c.KillQuery()
}

// read fills batches until the answer ends, then hands the connection back.
func (st *shardStream) read(ctx context.Context, cancel context.CancelFunc) {
	c := st.c
	stopWatch := c.Watch(ctx)
	defer func() {
		stopWatch()
		cancel()
		st.mu.Lock()
		st.finished = true
		if st.stopping && !c.Broken() {
			_ = c.SetDeadline(time.Time{})
		}
		st.mu.Unlock()
		// A KILL QUERY on its way must land before anyone else uses c.
		st.killing.Wait()
		if st.release != nil {
			st.release()
		}
		close(st.done)
		st.sideDone()
	}()
	var b *rowBatch
	for {
		if b = st.nextBatch(); b == nil {
			st.drop()
			return
		}
		b.buf, b.ends = b.buf[:0], b.ends[:0]
		for {
			p, err := c.ReadPacket()
			if err != nil {
				b.err = err
				st.out <- b
				return
			}
			if wire.IsEOF(p) {
				count, _ := wire.EOFStatus(p)
				st.warnings.collect(ctx, c, count)
				b.eof = true
				st.out <- b
				return
			}
			if p[0] == wire.ErrHeader {
				b.err = wire.ParseError(p)
				st.out <- b
				return
			}
			b.buf = append(b.buf, p...)
			b.ends = append(b.ends, len(b.buf))
			// Hand the batch over when full, or when the backend has sent
			// nothing more yet: a slow shard must not hold rows back.
			if len(b.buf) >= batchBytes || len(b.ends) >= batchRows || c.ReadBuffered() == 0 {
				break
			}
		}
		st.out <- b
	}
}

// nextBatch returns an empty batch to fill, or nil when the stream was
// stopped. Batches are taken from the pool as the answer needs them, up to
// batchesPerShard: most scatter answers fit in one, and taking all three
// up front made small scatters churn the pool (and the GC) by 384 KiB each.
func (st *shardStream) nextBatch() *rowBatch {
	select {
	case <-st.stop:
		return nil
	case b := <-st.free:
		return b
	default:
	}
	if st.taken < batchesPerShard {
		st.taken++
		b := batchPool.Get().(*rowBatch)
		b.owner = st
		return b
	}
	select {
	case <-st.stop:
		return nil
	case b := <-st.free:
		return b
	}
}

// drop reads and discards the rest of an answer nobody wants.
func (st *shardStream) drop() {
	for {
		p, err := st.c.ReadPacket()
		if err != nil || wire.IsEOF(p) || p[0] == wire.ErrHeader {
			return
		}
	}
}
