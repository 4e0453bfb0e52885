package backend

import (
	"context"
	"strconv"
	"time"
)

// HealthInterval is how often replicas are checked: a replica that fails
// must stop getting reads within two seconds.
const HealthInterval = 500 * time.Millisecond

// StartHealthChecks checks the node's replicas until ctx ends.
func (n *Node) StartHealthChecks(ctx context.Context) {
	if len(n.Replicas) == 0 {
		return
	}
	go func() {
		t := time.NewTicker(HealthInterval)
		defer t.Stop()
		for {
			n.checkReplicas(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (n *Node) checkReplicas(ctx context.Context) {
	primaryPos := n.primaryGTID(ctx)
	for _, r := range n.Replicas {
		r.check(ctx, n.MaxLag, primaryPos)
	}
}

// primaryGTID is the primary's binlog position, "" when it does not answer.
func (n *Node) primaryGTID(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := n.Primary.Get(ctx, false)
	if err != nil {
		return ""
	}
	defer n.Primary.Put(c)
	res, err := c.exec(ctx, "SELECT @@gtid_binlog_pos", false)
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] == nil {
		return ""
	}
	return string(res.Rows[0][0])
}

// check measures the replica's lag. While replication runs, the lag is the
// replica's own Seconds_Behind_Master. While it is stopped or broken, a
// replica that has applied everything the primary has is current; one that
// has not is as stale as the time since it was last current. A replica that
// does not answer, or lags beyond maxLag, gets no reads.
func (r *Replica) check(ctx context.Context, maxLag time.Duration, primaryPos string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	lag, ok := r.measureLag(ctx, primaryPos)
	if !ok {
		r.healthy.Store(false)
		r.lagNano.Store(-1)
		return
	}
	r.lagNano.Store(int64(lag))
	r.healthy.Store(maxLag <= 0 || lag <= maxLag)
}

func (r *Replica) measureLag(ctx context.Context, primaryPos string) (time.Duration, bool) {
	c, err := r.Pool.Get(ctx, false)
	if err != nil {
		return 0, false
	}
	defer r.Pool.Put(c)
	res, err := c.exec(ctx, "SHOW SLAVE STATUS", false)
	if err != nil || len(res.Rows) == 0 {
		return 0, false // down, or not a replica: its data may be anything
	}
	col := func(name string) string {
		for i, f := range res.Fields {
			if string(f.Name) == name && res.Rows[0][i] != nil {
				return string(res.Rows[0][i])
			}
		}
		return ""
	}
	now := time.Now()
	if col("Slave_SQL_Running") == "Yes" && col("Slave_IO_Running") == "Yes" {
		if secs, err := strconv.Atoi(col("Seconds_Behind_Master")); err == nil {
			lag := time.Duration(secs) * time.Second
			r.lastCurrent = now.Add(-lag)
			return lag, true
		}
	}
	if primaryPos != "" && col("Gtid_Slave_Pos") == primaryPos {
		r.lastCurrent = now
		return 0, true
	}
	if r.lastCurrent.IsZero() {
		r.lastCurrent = now
	}
	return now.Sub(r.lastCurrent), true
}
