// Package metrics holds shardproxy's Prometheus collectors on a registry of
// its own, so tests and embedders never collide on the global one.
//
// The statement path is hot, so label lookups happen once: Statement returns
// pre-resolved collectors and Observe touches only atomics. Every method is a
// no-op on a nil *Metrics, which lets tests and tools run without metrics.
package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "shardproxy"

// Statement kinds (the kind label of statements_total).
const (
	KindSelect = "select"
	KindInsert = "insert"
	KindUpdate = "update"
	KindDelete = "delete"
	KindDDL    = "ddl"
	KindSet    = "set"
	KindTx     = "tx" // BEGIN, START TRANSACTION, COMMIT, ROLLBACK
	KindShow   = "show"
	KindOther  = "other"
)

// Statement routes (the route label of statements_total).
const (
	RouteSingle    = "single"    // one shard
	RouteScatter   = "scatter"   // several shards, results merged
	RouteBroadcast = "broadcast" // every shard (DDL, global-table writes)
	RouteProxy     = "proxy"     // answered by the proxy without a backend
	// RouteOther collects routes outside the list above, so a typo in the
	// caller shows up on a dashboard instead of growing label cardinality.
	RouteOther = "other"
)

// Reasons a client connection is refused.
const (
	RefusedMaxConnections = "max_connections"
	RefusedAuth           = "auth"
	RefusedTLS            = "tls"
)

// Outcomes of a two-phase (XA) transaction.
const (
	XACommitted         = "committed"
	XARolledBack        = "rolled_back"
	XARecoveredCommit   = "recovered_commit"   // prepared branch committed at startup
	XARecoveredRollback = "recovered_rollback" // prepared branch rolled back at startup
)

// Backend roles (the role label of the pool metrics).
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// Kinds and Routes list the label values exported from the start, so rate()
// works before the first statement of each kind.
var (
	Kinds  = []string{KindSelect, KindInsert, KindUpdate, KindDelete, KindDDL, KindSet, KindTx, KindShow, KindOther}
	Routes = []string{RouteSingle, RouteScatter, RouteBroadcast, RouteProxy}
)

// DurationBuckets spans 100µs (a proxy-answered SELECT @@version) to 10s.
var DurationBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// Metrics is the proxy's set of collectors.
type Metrics struct {
	reg *prometheus.Registry

	connCurrent prometheus.Gauge
	connTotal   prometheus.Counter
	connRefused *prometheus.CounterVec
	refused     [3]prometheus.Counter // indexed like refusedIndex

	statements *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	stmt       [len(kindIndexes)][len(routeIndexes)]*StatementMetrics
	otherRoute [len(kindIndexes)]struct {
		once sync.Once
		sm   *StatementMetrics
	}

	errorsVec *prometheus.CounterVec
	errMu     sync.RWMutex
	errByCode map[uint16]prometheus.Counter

	xa             *prometheus.CounterVec
	xaByOutcome    [4]prometheus.Counter // indexed like xaIndex
	scatterMaxRows atomic.Int64
	slowQueries    prometheus.Counter

	backend *backendCollector
}

// StatementMetrics are the collectors of one (kind, route) pair.
type StatementMetrics struct {
	Count    prometheus.Counter
	Duration prometheus.Observer
}

// Observe records one finished statement that took d.
func (s *StatementMetrics) Observe(d time.Duration) {
	if s == nil {
		return
	}
	s.Count.Inc()
	s.Duration.Observe(d.Seconds())
}

// Arrays keyed by these indexes avoid a map lookup per statement.
var (
	kindIndexes  = [...]string{KindSelect, KindInsert, KindUpdate, KindDelete, KindDDL, KindSet, KindTx, KindShow, KindOther}
	routeIndexes = [...]string{RouteSingle, RouteScatter, RouteBroadcast, RouteProxy}
)

func kindIndex(kind string) int {
	switch kind {
	case KindSelect:
		return 0
	case KindInsert:
		return 1
	case KindUpdate:
		return 2
	case KindDelete:
		return 3
	case KindDDL:
		return 4
	case KindSet:
		return 5
	case KindTx:
		return 6
	case KindShow:
		return 7
	}
	return 8 // KindOther and anything unknown
}

func routeIndex(route string) int {
	switch route {
	case RouteSingle:
		return 0
	case RouteScatter:
		return 1
	case RouteBroadcast:
		return 2
	case RouteProxy:
		return 3
	}
	return -1
}

func refusedIndex(reason string) int {
	switch reason {
	case RefusedMaxConnections:
		return 0
	case RefusedAuth:
		return 1
	case RefusedTLS:
		return 2
	}
	return -1
}

func xaIndex(outcome string) int {
	switch outcome {
	case XACommitted:
		return 0
	case XARolledBack:
		return 1
	case XARecoveredCommit:
		return 2
	case XARecoveredRollback:
		return 3
	}
	return -1
}

// New creates the collectors and registers them, with the Go runtime and
// process collectors, on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		errByCode: make(map[uint16]prometheus.Counter),
	}
	m.connCurrent = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "connections_current",
		Help: "Client connections currently open.",
	})
	m.connTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "connections_total",
		Help: "Client connections that logged in (a session began).",
	})
	m.connRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "connections_refused_total",
		Help: "Client connections refused, by reason (max_connections, auth, tls).",
	}, []string{"reason"})
	for _, r := range []string{RefusedMaxConnections, RefusedAuth, RefusedTLS} {
		m.refused[refusedIndex(r)] = m.connRefused.WithLabelValues(r)
	}

	m.statements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "statements_total",
		Help: "Statements executed, by kind and route.",
	}, []string{"kind", "route"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "statement_duration_seconds",
		Help:    "Statement latency seen by the client, by kind and route.",
		Buckets: DurationBuckets,
	}, []string{"kind", "route"})
	for ki, kind := range kindIndexes {
		for ri, route := range routeIndexes {
			m.stmt[ki][ri] = m.newStatementMetrics(kind, route)
		}
	}

	m.errorsVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "errors_total",
		Help: "Error packets sent to clients, by MySQL error code.",
	}, []string{"code"})

	m.xa = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "xa_transactions_total",
		Help: "Two-phase (XA) transactions, by outcome.",
	}, []string{"outcome"})
	for _, o := range []string{XACommitted, XARolledBack, XARecoveredCommit, XARecoveredRollback} {
		m.xaByOutcome[xaIndex(o)] = m.xa.WithLabelValues(o)
	}

	// A GaugeFunc reads the running maximum at scrape time, so concurrent
	// updates cannot leave a smaller value behind the way Set could.
	scatterMax := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "scatter_rows_buffered_max",
		Help: "Largest number of rows held in memory by one scatter-gather merge.",
	}, func() float64 { return float64(m.scatterMaxRows.Load()) })
	m.slowQueries = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "slow_queries_total",
		Help: "Statements slower than log.slow_query.",
	})
	m.backend = newBackendCollector()

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.connCurrent, m.connTotal, m.connRefused,
		m.statements, m.durations, m.errorsVec, m.xa,
		scatterMax, m.slowQueries, m.backend,
	)
	return m
}

func (m *Metrics) newStatementMetrics(kind, route string) *StatementMetrics {
	return &StatementMetrics{
		Count:    m.statements.WithLabelValues(kind, route),
		Duration: m.durations.WithLabelValues(kind, route),
	}
}

// Registry is the registry to serve on /metrics; nil for a nil Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Statement returns the collectors of a (kind, route) pair. It does not
// allocate; callers may also keep the result. An unknown kind counts as
// "other", an unknown route as "other". Nil for a nil Metrics (Observe on
// nil is a no-op).
func (m *Metrics) Statement(kind, route string) *StatementMetrics {
	if m == nil {
		return nil
	}
	ki := kindIndex(kind)
	if ri := routeIndex(route); ri >= 0 {
		return m.stmt[ki][ri]
	}
	o := &m.otherRoute[ki]
	o.once.Do(func() { o.sm = m.newStatementMetrics(kindIndexes[ki], RouteOther) })
	return o.sm
}

// Error counts one error packet sent to a client.
func (m *Metrics) Error(code uint16) {
	if m == nil {
		return
	}
	m.errMu.RLock()
	c, ok := m.errByCode[code]
	m.errMu.RUnlock()
	if !ok {
		m.errMu.Lock()
		if c, ok = m.errByCode[code]; !ok {
			c = m.errorsVec.WithLabelValues(strconv.Itoa(int(code)))
			m.errByCode[code] = c
		}
		m.errMu.Unlock()
	}
	c.Inc()
}

// ConnOpened counts a client connection that logged in.
func (m *Metrics) ConnOpened() {
	if m == nil {
		return
	}
	m.connTotal.Inc()
	m.connCurrent.Inc()
}

// ConnClosed undoes ConnOpened when the connection ends, however it ends.
func (m *Metrics) ConnClosed() {
	if m == nil {
		return
	}
	m.connCurrent.Dec()
}

// ConnRefused counts a connection turned away; reason is one of the
// Refused* constants.
func (m *Metrics) ConnRefused(reason string) {
	if m == nil {
		return
	}
	if i := refusedIndex(reason); i >= 0 {
		m.refused[i].Inc()
		return
	}
	m.connRefused.WithLabelValues(reason).Inc()
}

// XA counts a finished two-phase transaction; outcome is one of the XA*
// constants.
func (m *Metrics) XA(outcome string) {
	if m == nil {
		return
	}
	if i := xaIndex(outcome); i >= 0 {
		m.xaByOutcome[i].Inc()
		return
	}
	m.xa.WithLabelValues(outcome).Inc()
}

// ScatterRowsBuffered reports how many rows a merge holds in memory; the
// gauge keeps the largest value seen.
func (m *Metrics) ScatterRowsBuffered(rows int) {
	if m == nil {
		return
	}
	n := int64(rows)
	for {
		cur := m.scatterMaxRows.Load()
		if n <= cur || m.scatterMaxRows.CompareAndSwap(cur, n) {
			return
		}
	}
}

// SlowQuery counts a statement slower than log.slow_query.
func (m *Metrics) SlowQuery() {
	if m == nil {
		return
	}
	m.slowQueries.Inc()
}
