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
// ProbeTimeout. If it does not, every exchange that has waited longer than
// LivenessInterval on that server fails with an error and its connection is
// discarded. A frozen server is thus noticed within about
// LivenessInterval + LivenessInterval/2 + ProbeTimeout.
const (
	LivenessInterval = 2 * time.Second
	ProbeTimeout     = 3 * time.Second
	// KillTimeout bounds the KILL QUERY the proxy sends for a cancelled
	// statement: a server that cannot take it cannot be helped.
	KillTimeout = 3 * time.Second
)

// beginIO marks the start of an exchange with the server; sections nest.
func (c *Conn) beginIO() {
	c.ioDepth++
	if c.ioDepth == 1 && c.pool != nil {
		c.pool.watchBusy(c)
	}
}

// endIO ends an exchange. A connection the monitor abandoned is not reused.
func (c *Conn) endIO() {
	c.ioDepth--
	if c.ioDepth == 0 && c.pool != nil {
		c.pool.unwatchBusy(c)
	}
	if c.abandoned.Load() {
		c.broken = true
	}
}

func (p *Pool) watchBusy(c *Conn) {
	p.liveMu.Lock()
	defer p.liveMu.Unlock()
	if p.busy == nil {
		p.busy = map[*Conn]time.Time{}
	}
	p.busy[c] = time.Now()
	if !p.monitoring {
		p.monitoring = true
		go p.monitor()
	}
}

func (p *Pool) unwatchBusy(c *Conn) {
	p.liveMu.Lock()
	delete(p.busy, c)
	p.liveMu.Unlock()
}

// monitor runs while exchanges are in progress on the pool's connections.
func (p *Pool) monitor() {
	t := time.NewTicker(LivenessInterval / 2)
	defer t.Stop()
	for range t.C {
		p.liveMu.Lock()
		if len(p.busy) == 0 {
			p.monitoring = false
			p.liveMu.Unlock()
			return
		}
		waiting := false
		for _, since := range p.busy {
			if time.Since(since) >= LivenessInterval {
				waiting = true
				break
			}
		}
		recent := time.Since(p.lastAnswer) < LivenessInterval
		p.liveMu.Unlock()
		if !waiting || recent {
			continue
		}
		err := p.probe()
		p.liveMu.Lock()
		if err == nil {
			p.lastAnswer = time.Now()
		} else {
			p.probeErr = err
			for c, since := range p.busy {
				if time.Since(since) >= LivenessInterval {
					c.abandoned.Store(true)
					_ = c.SetDeadline(time.Unix(1, 0))
				}
			}
		}
		p.liveMu.Unlock()
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
