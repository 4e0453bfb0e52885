package proxy

import (
	"context"
	"sync"
)

// statementContext is the context a session's statements share until one
// of them is cancelled (KILL QUERY, shutdown). Each backend exchange
// registers a callback that breaks the exchange on cancel. Registered
// through context.AfterFunc, that cost an allocation and a lock of the
// parent's child map per exchange, the only allocation left on the
// statement path; here registrations sit in a slice and are recycled.
type statementContext struct {
	context.Context
	cancelInner context.CancelFunc

	mu        sync.Mutex
	cancelled bool
	active    []*afterCall
	free      []*afterCall
}

// afterCall is one registration; stop is a.unregister, bound once.
type afterCall struct {
	ctx   *statementContext
	f     func()
	index int // in ctx.active, -1 when not registered
	stop  func() bool
}

func newStatementContext() *statementContext {
	inner, cancel := context.WithCancel(context.Background())
	return &statementContext{Context: inner, cancelInner: cancel}
}

// AfterFunc is context.AfterFunc for c: f runs in its own goroutine once c
// is cancelled, unless stop is called first (stop then reports true). stop
// must be called at most once: its registration is reused afterwards.
func (c *statementContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		go f()
		return stopTooLate
	}
	var a *afterCall
	if n := len(c.free); n > 0 {
		a, c.free = c.free[n-1], c.free[:n-1]
	} else {
		a = &afterCall{ctx: c}
		a.stop = a.unregister
	}
	a.f, a.index = f, len(c.active)
	c.active = append(c.active, a)
	return a.stop
}

func stopTooLate() bool { return false }

func (a *afterCall) unregister() bool {
	c := a.ctx
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.index < 0 {
		return false // cancel has started f
	}
	last := len(c.active) - 1
	moved := c.active[last]
	c.active[a.index], moved.index = moved, a.index
	c.active[last] = nil
	c.active = c.active[:last]
	a.f, a.index = nil, -1
	c.free = append(c.free, a)
	return true
}

// cancel cancels the context, then starts every registered callback.
func (c *statementContext) cancel() {
	c.cancelInner()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return
	}
	c.cancelled = true
	for _, a := range c.active {
		a.index = -1
		go a.f()
	}
	c.active = nil
}
