package metrics

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sample is one gathered series. prometheus/testutil would do, but it pulls
// in a module (kylelemons/godebug) that go.sum does not list, so the tests
// read Gather's output directly.
type sample struct {
	labels map[string]string
	value  float64 // counter, gauge or histogram sample count
	sum    float64 // histogram only
}

func gather(t *testing.T, reg *prometheus.Registry, name string) []sample {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []sample
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
				s.sum = m.GetHistogram().GetSampleSum()
			}
			out = append(out, s)
		}
	}
	return out
}

// value returns the series of name whose labels include want (k=v pairs).
func value(t *testing.T, reg *prometheus.Registry, name string, want ...string) sample {
	t.Helper()
next:
	for _, s := range gather(t, reg, name) {
		for i := 0; i+1 < len(want); i += 2 {
			if s.labels[want[i]] != want[i+1] {
				continue next
			}
		}
		return s
	}
	t.Fatalf("no series %s%v", name, want)
	return sample{}
}

func TestStatementObserve(t *testing.T) {
	m := New()
	m.Statement(KindSelect, RouteScatter).Observe(3 * time.Millisecond)
	m.Statement(KindSelect, RouteScatter).Observe(2 * time.Millisecond)
	m.Statement(KindInsert, RouteSingle).Observe(time.Millisecond)

	if v := value(t, m.reg, "shardproxy_statements_total", "kind", "select", "route", "scatter").value; v != 2 {
		t.Errorf("select/scatter count = %v, want 2", v)
	}
	h := value(t, m.reg, "shardproxy_statement_duration_seconds", "kind", "select", "route", "scatter")
	if h.value != 2 || h.sum < 0.0049 || h.sum > 0.0051 {
		t.Errorf("select/scatter histogram count=%v sum=%v, want 2 and 0.005", h.value, h.sum)
	}
	if v := value(t, m.reg, "shardproxy_statements_total", "kind", "insert", "route", "single").value; v != 1 {
		t.Errorf("insert/single count = %v, want 1", v)
	}
}

func TestStatementSeriesExistBeforeUse(t *testing.T) {
	m := New()
	got := gather(t, m.reg, "shardproxy_statements_total")
	if len(got) != len(Kinds)*len(Routes) {
		t.Fatalf("%d statement series, want %d", len(got), len(Kinds)*len(Routes))
	}
}

func TestStatementIsCached(t *testing.T) {
	m := New()
	if m.Statement(KindDDL, RouteBroadcast) != m.Statement(KindDDL, RouteBroadcast) {
		t.Error("known pair resolved twice")
	}
	if m.Statement("bogus", "nowhere") != m.Statement(KindOther, "elsewhere") {
		t.Error("unknown pair not folded into other/other")
	}
}

func TestUnknownLabelsFoldIntoOther(t *testing.T) {
	m := New()
	m.Statement("replace", RouteSingle).Observe(time.Millisecond)
	m.Statement(KindSelect, "sideways").Observe(time.Millisecond)
	if v := value(t, m.reg, "shardproxy_statements_total", "kind", "other", "route", "single").value; v != 1 {
		t.Errorf("unknown kind: other/single = %v, want 1", v)
	}
	if v := value(t, m.reg, "shardproxy_statements_total", "kind", "select", "route", "other").value; v != 1 {
		t.Errorf("unknown route: select/other = %v, want 1", v)
	}
}

func TestConnectionsErrorsAndCounters(t *testing.T) {
	m := New()
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()
	m.ConnRefused(RefusedMaxConnections)
	m.ConnRefused(RefusedAuth)
	m.ConnRefused(RefusedAuth)
	m.Error(1045)
	m.Error(1045)
	m.Error(1235)
	m.XA(XACommitted)
	m.XA(XARecoveredRollback)
	m.SlowQuery()
	m.ScatterRowsBuffered(10)
	m.ScatterRowsBuffered(500)
	m.ScatterRowsBuffered(20)

	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"shardproxy_connections_current", nil, 1},
		{"shardproxy_connections_total", nil, 2},
		{"shardproxy_connections_refused_total", []string{"reason", "max_connections"}, 1},
		{"shardproxy_connections_refused_total", []string{"reason", "auth"}, 2},
		{"shardproxy_connections_refused_total", []string{"reason", "tls"}, 0},
		{"shardproxy_errors_total", []string{"code", "1045"}, 2},
		{"shardproxy_errors_total", []string{"code", "1235"}, 1},
		{"shardproxy_xa_transactions_total", []string{"outcome", "committed"}, 1},
		{"shardproxy_xa_transactions_total", []string{"outcome", "rolled_back"}, 0},
		{"shardproxy_xa_transactions_total", []string{"outcome", "recovered_rollback"}, 1},
		{"shardproxy_slow_queries_total", nil, 1},
		{"shardproxy_scatter_rows_buffered_max", nil, 500},
	}
	for _, c := range checks {
		if v := value(t, m.reg, c.name, c.labels...).value; v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
}

func TestScatterMaxUnderContention(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				m.ScatterRowsBuffered(g*1000 + i)
			}
		}(g)
	}
	wg.Wait()
	if v := value(t, m.reg, "shardproxy_scatter_rows_buffered_max").value; v != 7999 {
		t.Errorf("max = %v, want 7999", v)
	}
}

func TestBackendCollector(t *testing.T) {
	m := New()
	if got := gather(t, m.reg, "shardproxy_backend_pool_open"); len(got) != 0 {
		t.Fatalf("pool series without a source: %v", got)
	}
	pools := []PoolStat{
		{Node: "n0", Role: RolePrimary, Addr: "10.0.0.1:3306", Open: 5, Idle: 2, InUse: 3, Waits: 7, WaitSeconds: 1.5},
		{Node: "n0", Role: RoleReplica, Addr: "10.0.0.2:3306", Open: 1, Idle: 1},
	}
	replicas := []ReplicaStat{{Node: "n0", Addr: "10.0.0.2:3306", Healthy: true, LagSeconds: 0.25}}
	m.SetBackendSource(func() []PoolStat { return pools }, func() []ReplicaStat { return replicas })

	primary := []string{"node", "n0", "role", "primary", "addr", "10.0.0.1:3306"}
	for name, want := range map[string]float64{
		"shardproxy_backend_pool_open":               5,
		"shardproxy_backend_pool_idle":               2,
		"shardproxy_backend_pool_in_use":             3,
		"shardproxy_backend_pool_waits_total":        7,
		"shardproxy_backend_pool_wait_seconds_total": 1.5,
	} {
		if v := value(t, m.reg, name, primary...).value; v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := value(t, m.reg, "shardproxy_backend_pool_open", "role", "replica").value; v != 1 {
		t.Errorf("replica pool open = %v, want 1", v)
	}
	if v := value(t, m.reg, "shardproxy_replica_healthy", "node", "n0", "addr", "10.0.0.2:3306").value; v != 1 {
		t.Errorf("replica_healthy = %v, want 1", v)
	}
	if v := value(t, m.reg, "shardproxy_replica_lag_seconds", "addr", "10.0.0.2:3306").value; v != 0.25 {
		t.Errorf("replica_lag_seconds = %v, want 0.25", v)
	}

	// Scrapes follow the source: a replica going down shows at once.
	replicas[0].Healthy = false
	if v := value(t, m.reg, "shardproxy_replica_healthy", "addr", "10.0.0.2:3306").value; v != 0 {
		t.Errorf("replica_healthy after failure = %v, want 0", v)
	}
}

func TestBackendCollectorSurvivesBadSource(t *testing.T) {
	m := New()
	m.SetBackendSource(func() []PoolStat { panic("boom") }, nil)
	if _, err := m.reg.Gather(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panicking source: err = %v, want a scrape error naming it", err)
	}
	m.SetBackendSource(nil, func() []ReplicaStat { return []ReplicaStat{{Node: "n0", Addr: "\xff"}} })
	if _, err := m.reg.Gather(); err == nil {
		t.Error("invalid UTF-8 label: want a scrape error")
	}
	m.SetBackendSource(nil, nil)
	if _, err := m.reg.Gather(); err != nil {
		t.Errorf("nil callbacks: %v", err)
	}
}

func TestRuntimeCollectors(t *testing.T) {
	m := New()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for _, name := range []string{"go_memstats_alloc_bytes", "go_goroutines", "process_resident_memory_bytes"} {
		if !have[name] {
			t.Errorf("%s not exported", name)
		}
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	var m *Metrics
	m.Statement(KindSelect, RouteSingle).Observe(time.Second)
	m.Error(1064)
	m.ConnOpened()
	m.ConnClosed()
	m.ConnRefused(RefusedTLS)
	m.XA(XARolledBack)
	m.ScatterRowsBuffered(3)
	m.SlowQuery()
	m.SetBackendSource(nil, nil)
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
}

func TestTwoInstancesDoNotCollide(t *testing.T) {
	a, b := New(), New()
	a.SlowQuery()
	if v := value(t, b.reg, "shardproxy_slow_queries_total").value; v != 0 {
		t.Errorf("instances share state: %v", v)
	}
}

func BenchmarkStatementObserve(b *testing.B) {
	m := New()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Statement(KindSelect, RouteSingle).Observe(1500 * time.Microsecond)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Statement(KindSelect, RouteSingle).Observe(1500 * time.Microsecond)
			}
		})
	})
}

func TestStatementObserveDoesNotAllocate(t *testing.T) {
	m := New()
	allocs := testing.AllocsPerRun(1000, func() {
		m.Statement(KindUpdate, RouteScatter).Observe(time.Millisecond)
		m.Statement("unknown", "unknown").Observe(time.Millisecond)
		m.Error(1062)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per statement, want 0", allocs)
	}
}
