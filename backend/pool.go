package backend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// PoolConfig sizes a pool.
type PoolConfig struct {
	Addr, User, Password string
	MaxOpen, MaxIdle     int
	IdleTimeout          time.Duration
	DialTimeout          time.Duration
}

// Pool holds connections to one backend server. Connections come in two
// flavours (with and without CLIENT_FOUND_ROWS, which changes UPDATE's
// affected-row count) because a client's choice must reach the server.
type Pool struct {
	Addr string
	cfg  PoolConfig

	tokens chan struct{} // one per open connection, bounding max_open
	mu     sync.Mutex
	idle   [2][]*Conn
	closed bool
	// returned is closed when a connection is put back idle, waking the
	// callers of Get that wait for one (nil while nobody looks).
	returned chan struct{}

	waits    atomic.Int64
	waitNano atomic.Int64
	inUse    atomic.Int64
	done     chan struct{}

	// Liveness monitoring of exchanges in progress (liveness.go).
	liveMu     sync.Mutex
	open       map[*Conn]struct{}
	lastAnswer time.Time
	probeErr   error
	// Only the monitor goroutine uses these.
	failedSince  int64 // nanotime of the first of consecutive failed probes
	failedProbes int
}

// NewPool creates a pool; connections are dialed on demand.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = 64
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	p := &Pool{Addr: cfg.Addr, cfg: cfg, tokens: make(chan struct{}, cfg.MaxOpen), done: make(chan struct{})}
	go p.reapIdle()
	go p.monitor()
	return p
}

func flavour(foundRows bool) int {
	if foundRows {
		return 1
	}
	return 0
}

// Get checks out a connection, dialing one if none is idle. While max_open
// connections are in use it waits, until ctx ends, for one to be returned
// or closed.
func (p *Pool) Get(ctx context.Context, foundRows bool) (*Conn, error) {
	return p.GetIn(ctx, foundRows, "")
}

// GetIn is Get preferring an idle connection whose current database is db:
// shards of one node share its pool, and a connection last used for
// another shard costs a COM_INIT_DB round trip before the statement.
func (p *Pool) GetIn(ctx context.Context, foundRows bool, db string) (*Conn, error) {
	return p.get(ctx, foundRows, db, 0)
}

// ErrWaitBound is GetBounded's answer when no connection came free in time.
var ErrWaitBound = errors.New("no free connection in time")

// GetBounded is Get that waits at most maxWait for a connection to come
// free (the wait starts only when the pool has none), then answers
// ErrWaitBound. A caller that holds connections of other pools waits so:
// callers that each hold what the other waits for would wait forever.
func (p *Pool) GetBounded(ctx context.Context, foundRows bool, maxWait time.Duration) (*Conn, error) {
	return p.get(ctx, foundRows, "", maxWait)
}

func (p *Pool) get(ctx context.Context, foundRows bool, db string, maxWait time.Duration) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("no connection to backend %s: %w", p.Addr, err)
	}
	f := flavour(foundRows)
	var waitStart time.Time
	var bound <-chan time.Time // maxWait's end, once waiting began
	defer func() {
		if !waitStart.IsZero() {
			p.waitNano.Add(int64(time.Since(waitStart)))
		}
	}()
	for {
		c, returned := p.popIdleIn(f, db)
		if c != nil {
			if c.reusable() {
				p.inUse.Add(1)
				return c, nil
			}
			p.discard(c)
			continue
		}
		if p.tryAcquire(f) {
			break
		}
		if waitStart.IsZero() {
			waitStart = time.Now()
			p.waits.Add(1)
			if maxWait > 0 {
				timer := time.NewTimer(maxWait)
				defer timer.Stop()
				bound = timer.C
			}
		}
		select {
		case p.tokens <- struct{}{}:
		case <-returned:
			continue // an idle connection to take, perhaps
		case <-bound:
			return nil, fmt.Errorf("backend %s (pool max_open %d): %w", p.Addr, p.cfg.MaxOpen, ErrWaitBound)
		case <-ctx.Done():
			return nil, fmt.Errorf("no free connection to backend %s (pool max_open %d): %w", p.Addr, p.cfg.MaxOpen, ctx.Err())
		}
		break
	}
	c, err := dial(ctx, p.cfg.Addr, p.cfg.User, p.cfg.Password, foundRows, p.cfg.DialTimeout)
	if err != nil {
		<-p.tokens
		return nil, err
	}
	c.pool = p
	p.track(c) // the monitor also watches the first query
	if err := c.learnWaitTimeout(ctx); err != nil {
		p.discard(c)
		return nil, err
	}
	p.inUse.Add(1)
	return c, nil
}

// popIdle takes an idle connection of flavour f. When there is none it
// returns a channel that is closed when a connection is next put back: a
// caller waiting for a slot must also wake for that, as a returned
// connection keeps its slot.
func (p *Pool) popIdle(f int) (*Conn, <-chan struct{}) { return p.popIdleIn(f, "") }

// popIdleIn is popIdle preferring, among the most recently used idle
// connections, one whose database is db.
func (p *Pool) popIdleIn(f int, db string) (*Conn, <-chan struct{}) {
	const scan = 16 // bounded: the lock is held
	p.mu.Lock()
	defer p.mu.Unlock()
	idle := p.idle[f]
	n := len(idle)
	if n == 0 {
		if p.returned == nil {
			p.returned = make(chan struct{})
		}
		return nil, p.returned
	}
	pick := n - 1
	if db != "" {
		for i := n - 1; i >= max(0, n-scan); i-- {
			if idle[i].db == db {
				pick = i
				break
			}
		}
	}
	c := idle[pick]
	copy(idle[pick:], idle[pick+1:])
	p.idle[f] = idle[:n-1]
	return c, nil
}

// tryAcquire takes a slot for a new connection without waiting. When the
// pool is full of idle connections of the other flavour, one of them is
// closed to make room.
func (p *Pool) tryAcquire(f int) bool {
	select {
	case p.tokens <- struct{}{}:
		return true
	default:
	}
	if c, _ := p.popIdle(1 - f); c != nil {
		c.Close()
		return true // its slot passes to us
	}
	return false
}

// Put returns a connection; broken ones are closed. Connections beyond
// max_idle stay idle until they have been unused for surplusIdle: closing
// them at once would make a load of more concurrent statements than
// max_idle dial a connection for most statements.
func (p *Pool) Put(c *Conn) {
	p.inUse.Add(-1)
	c.ahead = "" // never sent: nothing to undo
	if c.broken {
		p.discard(c)
		return
	}
	f := flavour(c.foundRows)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.discard(c)
		return
	}
	c.idleFrom = time.Now()
	p.idle[f] = append(p.idle[f], c)
	if p.returned != nil {
		close(p.returned)
		p.returned = nil
	}
	p.mu.Unlock()
}

func (p *Pool) maxIdle() int {
	if p.cfg.MaxIdle <= 0 {
		return p.cfg.MaxOpen
	}
	return p.cfg.MaxIdle
}

func (p *Pool) discard(c *Conn) {
	c.Close()
	<-p.tokens
}

// surplusIdle is how long a connection beyond max_idle may stay idle.
const surplusIdle = 10 * time.Second

// reapIdle closes connections idle beyond idle_timeout, and those beyond
// max_idle idle for surplusIdle. Idle lists are stacks (most recently used
// last), so the ones at the bottom are the longest unused.
func (p *Pool) reapIdle() {
	tick := surplusIdle / 2
	if p.cfg.IdleTimeout > 0 {
		tick = min(tick, p.cfg.IdleTimeout/2)
	}
	p.every(tick, p.reapOnce)
}

// every runs f every d until the pool closes.
func (p *Pool) every(d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			f()
		}
	}
}

func (p *Pool) reapOnce() {
	var stale []*Conn
	p.mu.Lock()
	surplus := len(p.idle[0]) + len(p.idle[1]) - p.maxIdle()
	for f := range p.idle {
		kept := p.idle[f][:0]
		for _, c := range p.idle[f] {
			idle := time.Since(c.idleFrom)
			if p.cfg.IdleTimeout > 0 && idle > p.cfg.IdleTimeout || surplus > 0 && idle > surplusIdle {
				stale = append(stale, c)
				surplus--
			} else {
				kept = append(kept, c)
			}
		}
		p.idle[f] = kept
	}
	p.mu.Unlock()
	for _, c := range stale {
		p.discard(c)
	}
}

// Close closes idle connections; connections in use are closed when returned.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	idle := append(p.idle[0], p.idle[1]...)
	p.idle = [2][]*Conn{}
	p.mu.Unlock()
	for _, c := range idle {
		p.discard(c)
	}
}

// Stats is a snapshot for metrics.
type Stats struct {
	Open, Idle, InUse int
	Waits             int64
	WaitTime          time.Duration
}

// Stats reports the pool's use.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	idle := len(p.idle[0]) + len(p.idle[1])
	p.mu.Unlock()
	return Stats{
		Open: len(p.tokens), Idle: idle, InUse: int(p.inUse.Load()),
		Waits: p.waits.Load(), WaitTime: time.Duration(p.waitNano.Load()),
	}
}

// killQuery stops the statement a connection of this pool is running, from
// another connection, as KILL QUERY does for a client.
func (p *Pool) killQuery(serverID uint32) {
	ctx, cancel := context.WithTimeout(context.Background(), KillTimeout)
	defer cancel()
	kill := fmt.Sprintf("KILL QUERY %d", serverID)
	if c, _ := p.popIdle(0); c != nil {
		if c.reusable() {
			p.inUse.Add(1)
			defer p.Put(c)
			_, _ = c.exec(ctx, kill, false)
			return
		}
		p.discard(c)
	}
	// No idle connection: dial one outside max_open rather than wait for a
	// slot, which the statements being killed may be the ones holding.
	c, err := dial(ctx, p.cfg.Addr, p.cfg.User, p.cfg.Password, false, KillTimeout)
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.exec(ctx, kill, false)
}
