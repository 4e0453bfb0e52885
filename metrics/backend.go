package metrics

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStat is a snapshot of one backend connection pool (see backend.Pool.Stats).
type PoolStat struct {
	Node, Role, Addr  string // Role: RolePrimary or RoleReplica
	Up                bool   // the server answered its last health check
	Open, Idle, InUse int
	Waits             int64   // checkouts that had to wait for a free slot
	WaitSeconds       float64 // total time spent waiting
}

// ReplicaStat is the health of one replica (see backend.Replica).
type ReplicaStat struct {
	Node, Addr string
	Healthy    bool
	LagSeconds float64
}

// SetBackendSource installs the callbacks read on every scrape. Either may be
// nil. Taking snapshots at scrape time keeps pools free of metric updates and
// follows nodes replaced by a configuration reload.
func (m *Metrics) SetBackendSource(pools func() []PoolStat, replicas func() []ReplicaStat) {
	if m == nil {
		return
	}
	m.backend.src.Store(&backendSource{pools: pools, replicas: replicas})
}

type backendSource struct {
	pools    func() []PoolStat
	replicas func() []ReplicaStat
}

// backendCollector turns the callbacks' snapshots into const metrics.
type backendCollector struct {
	src atomic.Pointer[backendSource]

	backendUp                                                 *prometheus.Desc
	poolOpen, poolIdle, poolInUse, poolWaits, poolWaitSeconds *prometheus.Desc
	replicaHealthy, replicaLag                                *prometheus.Desc
}

func newBackendCollector() *backendCollector {
	poolLabels := []string{"node", "role", "addr"}
	replicaLabels := []string{"node", "addr"}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &backendCollector{
		backendUp:       desc("backend_up", "1 while the backend server answers health checks, else 0.", poolLabels),
		poolOpen:        desc("backend_pool_open", "Open backend connections (idle and in use).", poolLabels),
		poolIdle:        desc("backend_pool_idle", "Idle backend connections.", poolLabels),
		poolInUse:       desc("backend_pool_in_use", "Backend connections checked out.", poolLabels),
		poolWaits:       desc("backend_pool_waits_total", "Checkouts that waited because the pool was at max_open.", poolLabels),
		poolWaitSeconds: desc("backend_pool_wait_seconds_total", "Time spent waiting for a pool slot.", poolLabels),
		replicaHealthy:  desc("replica_healthy", "1 while the replica receives reads, else 0.", replicaLabels),
		replicaLag:      desc("replica_lag_seconds", "Last measured replication lag.", replicaLabels),
	}
}

func (c *backendCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.backendUp, c.poolOpen, c.poolIdle, c.poolInUse, c.poolWaits, c.poolWaitSeconds,
		c.replicaHealthy, c.replicaLag,
	} {
		ch <- d
	}
}

// Collect runs on the registry's own goroutines, where a panic would end the
// process rather than one HTTP request: bad label values and panicking
// callbacks become scrape errors instead.
func (c *backendCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			ch <- prometheus.NewInvalidMetric(c.poolOpen, fmt.Errorf("backend metrics source panicked: %v", r))
		}
	}()
	emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, t, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	if src.pools != nil {
		for _, p := range src.pools() {
			labels := []string{p.Node, p.Role, p.Addr}
			up := 0.0
			if p.Up {
				up = 1
			}
			emit(c.backendUp, prometheus.GaugeValue, up, labels...)
			emit(c.poolOpen, prometheus.GaugeValue, float64(p.Open), labels...)
			emit(c.poolIdle, prometheus.GaugeValue, float64(p.Idle), labels...)
			emit(c.poolInUse, prometheus.GaugeValue, float64(p.InUse), labels...)
			emit(c.poolWaits, prometheus.CounterValue, float64(p.Waits), labels...)
			emit(c.poolWaitSeconds, prometheus.CounterValue, p.WaitSeconds, labels...)
		}
	}
	if src.replicas != nil {
		for _, r := range src.replicas() {
			healthy := 0.0
			if r.Healthy {
				healthy = 1
			}
			emit(c.replicaHealthy, prometheus.GaugeValue, healthy, r.Node, r.Addr)
			emit(c.replicaLag, prometheus.GaugeValue, r.LagSeconds, r.Node, r.Addr)
		}
	}
}
