package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/metrics"
)

type fakeSource struct {
	healthy atomic.Bool
	reason  string
	view    any
}

func (f *fakeSource) Healthy() bool           { return f.healthy.Load() }
func (f *fakeSource) Topology() any           { return f.view }
func (f *fakeSource) UnhealthyReason() string { return f.reason }

func sampleTopology() TopologyView {
	return TopologyView{
		Schemas: []SchemaView{{
			Name: "shop", ReadFrom: "replica",
			Shards: []ShardView{{Index: 0, Node: "n0", Database: "shop_0"}, {Index: 1, Node: "n1", Database: "shop_1"}},
		}},
		Nodes: []NodeView{
			{
				Name:     "n0",
				Primary:  BackendView{Addr: "127.0.0.1:3307", Role: metrics.RolePrimary, Healthy: true},
				Replicas: []BackendView{{Addr: "127.0.0.1:3308", Role: metrics.RoleReplica, Healthy: false, LagSeconds: 42}},
			},
			{Name: "n1", Primary: BackendView{Addr: "127.0.0.1:3309", Role: metrics.RolePrimary, Healthy: true}},
		},
	}
}

// startServer runs a real server on an ephemeral port.
func startServer(t *testing.T, m *metrics.Metrics, src Source) string {
	t.Helper()
	s := New("127.0.0.1:0", m, src, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr() = %s, want the bound port", s.Addr())
	}
	return "http://" + s.Addr()
}

func do(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestHealthz(t *testing.T) {
	src := &fakeSource{reason: "shutting down"}
	src.healthy.Store(true)
	base := startServer(t, nil, src)

	resp, body := do(t, "GET", base+"/healthz")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthy: %d %q, want 200 ok", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}

	src.healthy.Store(false)
	resp, body = do(t, "GET", base+"/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("unhealthy: %d %q, want 503 with the reason", resp.StatusCode, body)
	}

	resp, body = do(t, "HEAD", base+"/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "" {
		t.Errorf("HEAD: %d %q, want 503 and no body", resp.StatusCode, body)
	}
}

type boolSource bool

func (b boolSource) Healthy() bool { return bool(b) }
func (b boolSource) Topology() any { return nil }

func TestHealthzWithoutReason(t *testing.T) {
	resp, body := do(t, "GET", startServer(t, nil, boolSource(false))+"/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "unavailable\n" {
		t.Errorf("%d %q, want 503 unavailable", resp.StatusCode, body)
	}
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.Statement(metrics.KindSelect, metrics.RouteScatter).Observe(time.Millisecond)
	m.Error(1064)
	m.SetBackendSource(func() []metrics.PoolStat {
		return []metrics.PoolStat{{Node: "n0", Role: metrics.RolePrimary, Addr: "127.0.0.1:3307", Open: 4}}
	}, nil)
	base := startServer(t, m, nil)

	resp, body := do(t, "GET", base+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want the text exposition format", ct)
	}
	for _, want := range []string{
		`shardproxy_statements_total{kind="select",route="scatter"} 1`,
		`shardproxy_errors_total{code="1064"} 1`,
		`shardproxy_backend_pool_open{addr="127.0.0.1:3307",node="n0",role="primary"} 4`,
		`shardproxy_statement_duration_seconds_bucket{kind="select",route="scatter",le="0.001"} 1`,
		"go_memstats_alloc_bytes ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMetricsSurvivesBrokenBackendSource(t *testing.T) {
	m := metrics.New()
	m.SetBackendSource(func() []metrics.PoolStat { panic("boom") }, nil)
	resp, body := do(t, "GET", startServer(t, m, nil)+"/metrics")
	if resp.StatusCode != 200 || !strings.Contains(body, "shardproxy_connections_total") {
		t.Errorf("status %d; a broken source should only lose its own series", resp.StatusCode)
	}
}

func TestMetricsWithNilMetrics(t *testing.T) {
	resp, _ := do(t, "GET", startServer(t, nil, nil)+"/metrics")
	if resp.StatusCode != 200 {
		t.Errorf("status %d, want 200 with an empty registry", resp.StatusCode)
	}
}

func TestTopology(t *testing.T) {
	src := &fakeSource{view: sampleTopology()}
	resp, body := do(t, "GET", startServer(t, nil, src)+"/topology")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var got struct {
		Schemas []struct {
			Name   string `json:"name"`
			Shards []struct {
				Index    *int   `json:"index"`
				Node     string `json:"node"`
				Database string `json:"database"`
			} `json:"shards"`
		} `json:"schemas"`
		Nodes []struct {
			Name    string         `json:"name"`
			Primary map[string]any `json:"primary"`
			// RawMessage keeps [] apart from null.
			Replicas json.RawMessage `json:"replicas"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if len(got.Schemas) != 1 || got.Schemas[0].Name != "shop" || len(got.Schemas[0].Shards) != 2 {
		t.Fatalf("schemas: %s", body)
	}
	if sh := got.Schemas[0].Shards[1]; sh.Index == nil || *sh.Index != 1 || sh.Node != "n1" || sh.Database != "shop_1" {
		t.Errorf("shard 1: %+v", sh)
	}
	if len(got.Nodes) != 2 {
		t.Fatalf("nodes: %s", body)
	}
	p := got.Nodes[0].Primary
	if p["addr"] != "127.0.0.1:3307" || p["role"] != "primary" || p["healthy"] != true || p["lag_seconds"] != 0.0 {
		t.Errorf("primary: %v", p)
	}
	var replicas []map[string]any
	if err := json.Unmarshal(got.Nodes[0].Replicas, &replicas); err != nil || len(replicas) != 1 ||
		replicas[0]["role"] != "replica" || replicas[0]["healthy"] != false || replicas[0]["lag_seconds"] != 42.0 {
		t.Errorf("replicas: %s", got.Nodes[0].Replicas)
	}
	if string(got.Nodes[1].Replicas) != "[]" {
		t.Errorf("node without replicas: %s, want []", got.Nodes[1].Replicas)
	}
	if strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("topology mentions a password: %s", body)
	}
}

type unencodable struct{}

func (unencodable) Healthy() bool { return true }
func (unencodable) Topology() any { return func() {} }

func TestTopologyEncodeFailure(t *testing.T) {
	resp, _ := do(t, "GET", startServer(t, nil, unencodable{})+"/topology")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	src := &fakeSource{view: sampleTopology()}
	src.healthy.Store(true)
	base := startServer(t, metrics.New(), src)
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/", 404},
		{"GET", "/nope", 404},
		{"GET", "/healthz/extra", 404},
		{"POST", "/nope", 404},
		{"HEAD", "/metrics", 200},
		{"HEAD", "/topology", 200},
		{"POST", "/healthz", 405},
		{"PUT", "/metrics", 405},
		{"DELETE", "/topology", 405},
	}
	for _, c := range cases {
		resp, _ := do(t, c.method, base+c.path)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want == 405 && !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: Allow = %q", c.method, c.path, resp.Header.Get("Allow"))
		}
	}
}

func TestServerTimeoutsSet(t *testing.T) {
	s := New("127.0.0.1:0", nil, nil, nil)
	if s.srv.ReadTimeout == 0 || s.srv.ReadHeaderTimeout == 0 || s.srv.WriteTimeout == 0 || s.srv.IdleTimeout == 0 {
		t.Errorf("timeouts: %+v", s.srv)
	}
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	first := New("127.0.0.1:0", nil, nil, nil)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown(context.Background())
	if err := New(first.Addr(), nil, nil, nil).Start(); err == nil {
		t.Error("second Start on the same address succeeded")
	}
}

func TestTopologyViewEmpty(t *testing.T) {
	b, err := json.Marshal(TopologyView{})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"schemas":[],"nodes":[]}` {
		t.Errorf("empty view: %s", b)
	}
}
