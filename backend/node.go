package backend

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// Replica is a read-only copy of a node's primary with its health.
type Replica struct {
	Pool    *Pool
	healthy atomic.Bool
	lagNano atomic.Int64
	// lastCurrent is when the replica was last known to have every write;
	// only the node's health-check goroutine touches it.
	lastCurrent time.Time
}

// Healthy reports whether the replica may serve reads.
func (r *Replica) Healthy() bool { return r.healthy.Load() }

// Lag is the last measured replication lag.
func (r *Replica) Lag() time.Duration { return time.Duration(r.lagNano.Load()) }

// Node is one primary and its replicas.
type Node struct {
	Name     string
	Primary  *Pool
	Replicas []*Replica
	MaxLag   time.Duration
	// Bookkeeping connects to the primary for the proxy's own records (XA
	// decisions, id sequences), apart from Primary's max_open: a statement
	// holding Primary's connections may need one, and must not wait for
	// its own. Its users hold one connection at a time and wait for
	// nothing else meanwhile.
	Bookkeeping *Pool
	// Several is held by a caller taking several of the node's connections
	// for one statement (a scatter over its shards), from the first to
	// the last: two such callers, each holding some and waiting for the
	// rest, would otherwise wait for each other forever once its pools are
	// in use.
	Several sync.Mutex
	next    atomic.Uint32
	stop    context.CancelFunc
}

// bookkeepingConns is the size of a node's Bookkeeping pool.
const bookkeepingConns = 4

// NewNode creates the pools of a configured node. Replicas start healthy so
// reads flow before the first health check; the checker corrects that fast.
func NewNode(n conf.Node) *Node {
	mk := func(addr string) *Pool {
		return NewPool(PoolConfig{
			Addr: addr, User: n.User, Password: n.Password,
			MaxOpen: n.Pool.MaxOpen, MaxIdle: n.Pool.MaxIdle, IdleTimeout: n.Pool.IdleTimeout,
		})
	}
	node := &Node{Name: n.Name, Primary: mk(n.Primary), MaxLag: n.MaxReplicaLag}
	node.Bookkeeping = NewPool(PoolConfig{
		Addr: n.Primary, User: n.User, Password: n.Password,
		MaxOpen: bookkeepingConns, MaxIdle: 1, IdleTimeout: n.Pool.IdleTimeout,
	})
	for _, addr := range n.Replicas {
		r := &Replica{Pool: mk(addr)}
		r.healthy.Store(true)
		node.Replicas = append(node.Replicas, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	node.stop = cancel
	node.StartHealthChecks(ctx)
	return node
}

// ReadPool picks a healthy replica round robin, or the primary when none is.
func (n *Node) ReadPool() *Pool {
	k := len(n.Replicas)
	if k == 0 {
		return n.Primary
	}
	start := int(n.next.Add(1))
	for i := 0; i < k; i++ {
		if r := n.Replicas[(start+i)%k]; r.Healthy() {
			return r.Pool
		}
	}
	return n.Primary
}

// Close closes every pool of the node.
func (n *Node) Close() {
	n.stop()
	n.Primary.Close()
	n.Bookkeeping.Close()
	for _, r := range n.Replicas {
		r.Pool.Close()
	}
}
