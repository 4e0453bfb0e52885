package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardproxy/shardproxy/wire"
)

// A server that stops answering (SIGSTOP, a wedged host, a network path that
// drops packets) keeps its TCP connections open, so a read on them would
// wait forever. The proxy does not time statements out on its own when
// max_execution_time is 0 (long statements are legitimate); instead, once an
// exchange has waited LivenessInterval, the pool checks that the server
// still answers: a fresh connection must get its greeting and log in within
// ProbeTimeout. If two probes in a row fail, every exchange that has waited
// longer than LivenessInterval on that server fails with an error and its
// connection is discarded. A frozen server is thus noticed within about
// LivenessInterval*3/2 + 2*ProbeTimeout + LivenessInterval/2.
const (
	LivenessInterval = 2 * time.Second
	ProbeTimeout     = 3 * time.Second
	// KillTimeout bounds the KILL QUERY the proxy sends for a cancelled
	// statement: a server that cannot take it cannot be helped.
	KillTimeout = 3 * time.Second
	// killAnswerTimeout is how long a cancelled statement's server has to
	// take the KILL QUERY and answer; after it the connection is given up.
	killAnswerTimeout = time.Second
	// killRetryInterval separates the KILL QUERYs sent for one cancelled
	// statement until it stops.
	killRetryInterval = 100 * time.Millisecond
	// failedProbesToAbandon consecutive probes must fail.
	failedProbesToAbandon = 2
)

// beginIO marks the start of an exchange with the server; sections nest.
// It runs for every statement, so it only stores a time in the connection;
// the monitor looks at every open connection instead.
func (c *Conn) beginIO() {
	c.ioDepth++
	if c.ioDepth == 1 {
		c.ioSince.Store(nanotime())
	}
}

// endIO ends an exchange. A connection the monitor abandoned is not reused.
func (c *Conn) endIO() {
	c.ioDepth--
	if c.ioDepth == 0 {
		c.ioSince.Store(0)
	}
	if c.abandoned.Load() {
		c.broken = true
	}
}

// clockBase makes nanotime monotonic (time.Since) and never 0.
var clockBase = time.Now().Add(-time.Second)

func nanotime() int64 { return int64(time.Since(clockBase)) }

// track registers a connection the monitor watches, untrack forgets it.
func (p *Pool) track(c *Conn) {
	p.liveMu.Lock()
	if p.open == nil {
		p.open = map[*Conn]struct{}{}
	}
	p.open[c] = struct{}{}
	p.liveMu.Unlock()
}

func (p *Pool) untrack(c *Conn) {
	p.liveMu.Lock()
	delete(p.open, c)
	p.liveMu.Unlock()
}

// waitingSince reports the open connections in an exchange that began
// before cutoff (nanotime).
func (p *Pool) waitingSince(cutoff int64) []*Conn {
	p.liveMu.Lock()
	defer p.liveMu.Unlock()
	var waiting []*Conn
	for c := range p.open {
		if since := c.ioSince.Load(); since != 0 && since <= cutoff {
			waiting = append(waiting, c)
		}
	}
	return waiting
}

// monitor checks the pool's connections until the pool closes.
func (p *Pool) monitor() { p.every(LivenessInterval/2, p.checkLiveness) }

// checkLiveness probes the server when an exchange has waited too long.
func (p *Pool) checkLiveness() {
	if len(p.waitingSince(nanotime()-int64(LivenessInterval))) == 0 {
		p.failedSince, p.failedProbes = 0, 0
		return
	}
	p.liveMu.Lock()
	recent := time.Since(p.lastAnswer) < LivenessInterval
	p.liveMu.Unlock()
	if recent {
		return
	}
	if p.failedSince == 0 {
		p.failedSince = nanotime()
	}
	err := p.probe()
	p.liveMu.Lock()
	if err == nil {
		p.lastAnswer = time.Now()
		p.failedSince, p.failedProbes = 0, 0
		p.liveMu.Unlock()
		return
	}
	p.probeErr = err
	p.failedProbes++
	p.liveMu.Unlock()
	if p.failedProbes < failedProbesToAbandon {
		// A server under heavy load (or a proxy starved of CPU) can
		// miss one probe's deadline: ask again before giving up.
		return
	}
	for _, c := range p.waitingSince(p.failedSince - int64(LivenessInterval)) {
		c.abandoned.Store(true)
		_ = c.SetDeadline(time.Unix(1, 0))
	}
}

// probe checks that the server answers a new connection. An error packet
// (too many connections, access denied) is an answer too.
func (p *Pool) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	c, err := dial(ctx, p.cfg.Addr, p.cfg.User, p.cfg.Password, false, ProbeTimeout)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			return nil
		}
		return err
	}
	_ = c.SetDeadline(time.Now().Add(time.Second))
	c.io.SetSeq(0)
	if c.io.WritePacket([]byte{ComQuit}) == nil {
		_ = c.io.Flush()
	}
	c.Close()
	return nil
}

// notAnswering is the error of an exchange the monitor abandoned. What the
// server does with a statement it had not yet read when it froze is
// unknown: it may run it once it resumes.
func (p *Pool) notAnswering() error {
	p.liveMu.Lock()
	cause := p.probeErr
	p.liveMu.Unlock()
	return fmt.Errorf("backend %s is not answering (%v); the statement was abandoned and its outcome is unknown", p.Addr, cause)
}
